import { passAtK } from '../blackbox/passAtK.js';
import { EVAL_REPORT_VERSION, type ErrorRow, type EvalReport, type EvalReportRow } from '../contracts/evalReport.js';
import { FEATURE_NAMES, type Features } from '../contracts/problemRecord.js';
import { ContractError } from '../contracts/validate.js';
import { type FeatureScale, featureScale } from '../regimes/featureScale.js';
import type { kmeansRegimes } from '../regimes/kmeansRegimes.js';
import { PROSPECTIVE_REGIMES, prospectiveRegime, type ProspectiveRegime } from '../regimes/prospectiveRegime.js';
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from '../routing/routingPolicy.js';

/** One promptfoo row, as the report needs it. */
export interface ReportRowInput {
  test_idx: number;
  prompt_idx: number;
  repeat: number;
  /** Readable name of the test (its description, or its vars when promptfoo only numbered it). */
  description: string;
  /**
   * Stable identity of the test across evals (a hash of its vars and assertions, see
   * report/testIdentity). Defaults to the description when absent (hand-built rows).
   */
  test_key?: string;
  provider: string;
  n_rollouts: number;
  n_passed: number;
  /** promptfoo's own verdict on the row (its assertion threshold), when known. */
  row_passed?: boolean | null;
  features: Features | null;
  answer_entropy: number | null;
  wrong_mode_share: number | null;
  unavailable: string[];
  sample_output: string;
  /** The ancestor's own pass rate on the prompt, when its samples were drawn. */
  ancestor_pass_rate?: number | null;
  /**
   * The regime and route the eval's assertion gave the row, with where they came from. A
   * learned policy's estimate is kept when `verdictEstimates` is set; the paper's rule is
   * recomputed on the report's scale either way.
   */
  estimate?: RowEstimate | null;
  /** The RolloutProvider's row key (model, prompt, repeat), when known. */
  row_key?: string | null;
}

/** A row's estimate as gradeRollouts recorded it. */
export interface RowEstimate {
  regime: ProspectiveRegime;
  route: string | null;
  why: string;
  source: 'policy' | 'paper_rule';
  precision: number | null;
  /** The policy file the row was routed with (policy rows). */
  policy?: string | null;
}

/** A promptfoo row that produced no grade (an ERROR row), as the report lists it. */
export type ErrorRowInput = Omit<ErrorRow, 'test_key'> & { test_key?: string };

export interface EvalReportOptions {
  evalId?: string | null;
  /** A reference scale: when given, every row is z-scored on it instead of on this eval's failures. */
  reference?: { path: string; scale: FeatureScale } | null;
  policy?: RoutingPolicy;
  passAtK?: number[];
  seed?: number;
  /** Rows that errored (no rollouts, no grade): counted and listed, never analysed. */
  errors?: readonly ErrorRowInput[];
  /** Cluster the failures with k-means (default true; the gate does not use clusters). */
  clusters?: boolean;
  /**
   * Keep the regime and route a learned policy gave a row (its `estimate`, source `policy`)
   * instead of recomputing the paper's rule: the report shows what the eval used (the report
   * and the hook set this; the gate compares the paper's rule on one scale and does not).
   */
  verdictEstimates?: boolean;
}

/** pass@k for each k ≤ n, keyed by k. */
function passAtOf(n: number, c: number, ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) if (k <= n) out[String(k)] = passAtK(n, c, k);
  return out;
}

const hasAllFeatures = (f: Features | null): f is Features => f !== null && FEATURE_NAMES.every((k) => Number.isFinite(f[k] as number));

/** The identity a row is matched on across evals when it carries no hash: its description. */
export const fallbackTestKey = (description: string) => `description:${description}`;

/** What clusters the failures' features: kmeansRegimes (buildEvalReport passes it; the gate, which needs no clusters, passes null and never loads ml-kmeans). */
export type FailureClusterer = typeof kmeansRegimes;

/**
 * The eval-wide recoverability summary: this eval's failures give the z-score scale (or a
 * reference does), every row gets its prospective regime and route on that scale, k-means
 * clusters the failures' features (named by centroid signature), and regimes are counted as
 * shares of tests (and, for the afterAll metrics, of rows with a failed rollout). A row with no
 * rollouts is not graded: it is listed with the error rows (kind `NoRollouts`), never counted.
 * Throws a ContractError naming the row when n_passed exceeds n_rollouts. `cluster` null: no
 * clusters (as `clusters: false`).
 */
export function buildEvalReportWith(cluster: FailureClusterer | null, input: readonly ReportRowInput[], options: EvalReportOptions = {}): EvalReport {
  const policy = options.policy ?? DEFAULT_ROUTING_POLICY;
  input.forEach((r, i) => {
    if (!(Number.isInteger(r.n_rollouts) && r.n_rollouts >= 0 && Number.isInteger(r.n_passed) && r.n_passed >= 0 && r.n_passed <= r.n_rollouts)) {
      throw new ContractError(`report row #${i} (${r.description}): n_passed ${r.n_passed} and n_rollouts ${r.n_rollouts} are not counts with n_passed ≤ n_rollouts`, [
        { path: `rows[${i}].n_passed`, message: 'n_passed cannot exceed n_rollouts; both are whole numbers ≥ 0' },
      ]);
    }
  });
  const rows = input.filter((r) => r.n_rollouts > 0);
  const errorRows: ErrorRow[] = [
    ...(options.errors ?? []).map((e) => ({ ...e, test_key: e.test_key ?? fallbackTestKey(e.description) })),
    ...input
      .filter((r) => r.n_rollouts === 0)
      .map((r) => ({
        test_idx: r.test_idx,
        prompt_idx: r.prompt_idx,
        test_key: r.test_key ?? fallbackTestKey(r.description),
        description: r.description,
        provider: r.provider,
        kind: 'NoRollouts',
        message: 'the row has no rollouts to grade',
      })),
  ].sort((a, b) => a.test_idx - b.test_idx || a.prompt_idx - b.prompt_idx);

  const failures = rows.filter((r) => r.n_passed < r.n_rollouts);
  const featured = failures.filter((r) => hasAllFeatures(r.features)) as (ReportRowInput & { features: Features })[];
  const scale = options.reference?.scale ?? featureScale(featured);
  const scaleSource: EvalReport['scale_source'] = options.reference ? 'reference' : scale ? 'eval' : 'none';

  const clusters = cluster && options.clusters !== false && featured.length >= 2 ? cluster(featured, { k: Math.min(3, featured.length), seed: options.seed ?? 42 }) : null;
  const clusterOf = new Map<ReportRowInput, string>();
  if (clusters) featured.forEach((r, i) => clusterOf.set(r, clusters.regimes[clusters.assignment[i]!]!.name));

  const ks = options.passAtK ?? [1, 3, 5, 10];
  // Rows with the same n and c share one pass@k record (never modified once built).
  const passAtMemo = new Map<number, Record<string, number>>();
  const passAtFor = (n: number, c: number) => {
    if (n >= 2 ** 26) return passAtOf(n, c, ks);
    let p = passAtMemo.get(n * 2 ** 26 + c);
    if (p === undefined) passAtMemo.set(n * 2 ** 26 + c, (p = passAtOf(n, c, ks)));
    return p;
  };
  const outRows: EvalReportRow[] = rows.map((r) => {
    let est: Pick<ReturnType<typeof prospectiveRegime>, 'regime' | 'route' | 'why' | 'z'>;
    const learned = options.verdictEstimates && r.estimate?.source === 'policy' ? r.estimate : null;
    if (learned) est = { regime: learned.regime, route: learned.route, why: learned.why, z: null };
    else try {
      est = prospectiveRegime(
        { nRollouts: r.n_rollouts, nPassed: r.n_passed, features: hasAllFeatures(r.features) ? r.features : null },
        { scale, policy, noScaleReason: 'no failure in this eval has all three features to build a z-score scale' },
      );
    } catch (err) {
      // A feature so far from the scale that its z-score is beyond the largest number: bad input, named.
      if (!(err instanceof RangeError)) throw err;
      throw new ContractError(`report row (${r.description}): ${err.message}; its features are not on the scale of ${options.reference ? 'the reference' : 'this eval'}`, [
        { path: 'features', message: err.message },
      ]);
    }
    return {
      key: `${r.test_idx}:${r.prompt_idx}:${r.repeat}`,
      test_idx: r.test_idx,
      prompt_idx: r.prompt_idx,
      repeat: r.repeat,
      test_key: r.test_key ?? fallbackTestKey(r.description),
      row_key: r.row_key ?? null,
      description: r.description,
      provider: r.provider,
      n_rollouts: r.n_rollouts,
      n_passed: r.n_passed,
      row_passed: r.row_passed ?? null,
      pass_rate: r.n_passed / r.n_rollouts,
      pass_at: passAtFor(r.n_rollouts, r.n_passed),
      features: r.features,
      z: est.z as Record<string, number> | null,
      regime: est.regime,
      route: est.route,
      why: est.why,
      route_source: learned ? 'policy' : 'paper_rule',
      precision: learned ? learned.precision : null,
      ancestor_pass_rate: r.ancestor_pass_rate ?? null,
      measured: null,
      cluster: clusterOf.get(r) ?? null,
      answer_entropy: r.answer_entropy,
      wrong_mode_share: r.wrong_mode_share,
      sample_output: r.sample_output,
    };
  });

  const counts = Object.fromEntries(PROSPECTIVE_REGIMES.map((g) => [g, 0])) as Record<ProspectiveRegime, number>;
  for (const r of outRows) counts[r.regime]++;
  const n = outRows.length;
  const nFail = failures.length;
  const shareOfTests = Object.fromEntries(PROSPECTIVE_REGIMES.map((g) => [g, n === 0 ? 0 : counts[g] / n])) as Record<ProspectiveRegime, number>;
  const shares = Object.fromEntries(PROSPECTIVE_REGIMES.map((g) => [g, g === 'solved' || nFail === 0 ? 0 : counts[g] / nFail])) as Record<ProspectiveRegime, number>;

  const routing: Record<string, number> = {};
  for (const r of outRows) if (r.route) routing[r.route] = (routing[r.route] ?? 0) + 1;

  const notes = new Map<string, number>();
  for (const r of rows) for (const u of r.unavailable) notes.set(u, (notes.get(u) ?? 0) + 1);

  const byKind: Record<string, number> = {};
  for (const e of errorRows) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;

  let passRateSum = 0;
  for (const r of outRows) passRateSum += r.pass_rate;
  const bySource = { policy: outRows.filter((r) => r.route_source === 'policy').length, paper_rule: 0 };
  bySource.paper_rule = outRows.length - bySource.policy;
  const policyPaths = [...new Set(rows.flatMap((r) => (options.verdictEstimates && r.estimate?.source === 'policy' && r.estimate.policy ? [r.estimate.policy] : [])))];
  return {
    version: EVAL_REPORT_VERSION,
    generator: 'promptfoo-recoverability',
    eval_id: options.evalId ?? null,
    estimate: {
      source: bySource.policy === 0 ? 'paper_rule' : bySource.paper_rule === 0 ? 'policy' : 'mixed',
      policy: policyPaths.length === 1 ? policyPaths[0]! : policyPaths.length > 1 ? policyPaths.join(', ') : null,
      rows: bySource,
    },
    scale_source: scaleSource,
    reference: options.reference?.path ?? null,
    scale,
    totals: {
      rows: n,
      error_rows: errorRows.length,
      rows_passed: outRows.every((r) => r.row_passed !== null) ? outRows.filter((r) => r.row_passed).length : null,
      failures: nFail,
      with_features: featured.length,
      rollouts: rows.reduce((s, r) => s + r.n_rollouts, 0),
      passed_rollouts: rows.reduce((s, r) => s + r.n_passed, 0),
      rollout_pass_rate: n > 0 ? passRateSum / n : null,
    },
    regimes: { counts, share_of_tests: shareOfTests, shares },
    routing: { counts: routing },
    clusters: (clusters?.regimes ?? []).map((g) => {
      const top = Object.entries(g.centroidZ).sort((a, b) => b[1] - a[1])[0]!;
      const route = top[1] > policy.fallbackBelow ? (policy.mapping[top[0] as keyof typeof policy.mapping] ?? null) : policy.fallback;
      return { name: g.name, signature: g.signature, size: g.size, centroid: g.centroid, centroid_z: g.centroidZ, route };
    }),
    notes: [...notes].map(([message, count]) => ({ message, rows: count })),
    errors: { count: errorRows.length, by_kind: byKind, rows: errorRows },
    measured: null,
    policy: null,
    budget: null,
    measurement_notes: [],
    // Last: recoverability.json is written head first, then one row per line (writeReportJson).
    rows: outRows,
  };
}
