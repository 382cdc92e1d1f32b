import { createHash } from 'node:crypto';
import { routingReport } from '../core/analysis/routingReport.js';
import { rescueAtBudget } from '../core/analysis/rescueAtBudget.js';
import { LABELS, RETRY, type Label } from '../core/contracts/operators.js';
import type { ProbeRecord } from '../core/contracts/probeRecord.js';
import type { ProblemRecord } from '../core/contracts/problemRecord.js';
import { FEATURE_NAMES } from '../core/contracts/problemRecord.js';
import { accuracy, balancedAccuracy } from '../core/policy/balancedAccuracy.js';
import { calibratePolicy } from '../core/policy/calibratePolicy.js';
import { confusionMatrix } from '../core/policy/confusionMatrix.js';
import type { EstimateJson, Policy } from '../core/policy/policySchema.js';
import { seedOf } from '../core/random/seededRandom.js';
import { zScores } from '../core/routing/zScore.js';
import { nearestCentroidCV } from '../core/stats/nearestCentroidCV.js';
import { INTERVENTION_DEFAULTS, type InterventionContext } from '../interventions/applyIntervention.js';
import { operatorName, PAPER_OPERATOR_SPECS, type OperatorSpec } from '../interventions/operators.js';
import type { FailingRow } from '../probe/failingRow.js';
import { ProbeJournal } from '../probe/probeJournal.js';
import { probePopulation } from '../probe/probeRuns.js';
import { runProbe } from '../probe/rescueProbe.js';

export interface ValidateLineageOptions {
  problems: number;
  operations: number[];
  seed: number;
  samples?: number;
  ancestorSamples?: number;
  attempts?: number;
  evalAttempts?: number;
  reprobe?: number;
  maxFailed?: number;
  concurrency?: number;
  /** Largest retry budget of the rescue-at-budget study (attempts per failed rollout). */
  budgetMax?: number;
  routedBudgetMax?: number;
  folds?: number;
  resamples?: number;
  /**
   * The probe's journal: an interrupted study resumes from it, and the journal of `probe --lineage
   * --budget all` with the same problems, operations and seed is reused as it is.
   */
  journalPath?: string;
  onProgress?: (stage: string, done?: number, total?: number) => void;
}

/** A candidate's cross-validated rescue, as validate reports it (calibrate's numbers). */
export interface CandidateRescue {
  name: string;
  rescue_all: EstimateJson;
  rescue_steerable: EstimateJson;
  vs_best_fixed: EstimateJson | null;
  routes: Record<string, number>;
}

/**
 * The JSON of `validate --lineage` (rates as fractions; "eval split" = fresh attempts disjoint
 * from the ones that decided the label):
 * - problems, failing_rows, probed, labels: Eq. 2 label counts (label split);
 * - features_to_labels: the three features' nearest-centroid 5-fold CV prediction of the label:
 *   accuracy and balanced_accuracy against the majority class's, and the confusion matrix
 *   (confusion[true][predicted]);
 * - steerable: rows labelled steerable; routed_rescue (the paper's rule, z over those rows),
 *   fixed_rescue (every operator but retry), retry_rescue — all on the eval split; routes: the
 *   rule's routes there;
 * - retry_at_budget[b-1], routed_at_budget[b-1]: rescue of the steerable rows' probed rollouts
 *   within b fresh attempts (retry, b = 1…budget-max; the rule's operator, b = 1…10), and
 *   routed_at_10_reaches_retry_at_50;
 * - calibration: calibrate's cross-validated choice — choice, best_fixed, candidates (learned
 *   policy, paper's rule, every fixed operator: eval-split rescue over all probed rows and over the
 *   steerable ones with 95% bootstrap intervals, paired difference vs the best fixed operator),
 *   regime_estimate (learned tree, paper's rule, majority: balanced accuracy against the Eq. 2
 *   label) and ceiling (probe vs re-probe: agreement, kappa, balanced_accuracy);
 * - paper_rule: where the paper's rule stands on this population — its regime estimate's
 *   confusion (cross-validated) and, per operator it routes the steerable rows to, the rows and
 *   that operator's eval rescue there against the best operator's there;
 * - findings: the same, in sentences.
 */
export interface LineageValidation {
  problems: number;
  operations: number[];
  failing_rows: number;
  probed: number;
  labels: Record<Label, number>;
  features_to_labels: {
    accuracy: number | null;
    balanced_accuracy: number | null;
    majority: number | null;
    majority_balanced_accuracy: number | null;
    confusion: Record<string, Record<string, number>>;
  };
  steerable: number;
  routed_rescue: number | null;
  fixed_rescue: Record<string, number>;
  retry_rescue: number | null;
  routes: Record<string, number>;
  retry_at_budget: number[];
  routed_at_budget: number[];
  routed_at_10_reaches_retry_at_50: boolean | null;
  calibration: {
    choice: string;
    best_fixed: string;
    candidates: CandidateRescue[];
    regime_estimate: { name: string; balanced_accuracy: number | null; accuracy: number | null }[];
    ceiling: Policy['regime_estimate']['ceiling'];
  } | null;
  paper_rule: {
    regime_confusion: Record<string, Record<string, number>> | null;
    routed_groups: { operator: string; rows: number; its_rescue: number; best_operator: string; best_rescue: number }[];
  };
  findings: string[];
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const mean = (xs: readonly number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const orNull = (x: number) => (Number.isFinite(x) ? x : null);

/** A probe record as the paper's feature table record, with the eval split's rates. */
function evalProblemRecord(r: ProbeRecord): ProblemRecord {
  return {
    problem_id: r.problem_id,
    cell: r.cell,
    n_failed_rollouts: r.n_probed ?? 1,
    features: { spread: r.spread, concentration: r.concentration, logit_dispersion: r.logit_dispersion },
    rescue: r.eval_rescue,
    label: r.label,
  };
}

function specFor(operator: string): OperatorSpec {
  const spec = PAPER_OPERATOR_SPECS.find((s) => operatorName(s) === operator);
  if (!spec) throw new Error(`no operator spec for routed operator "${operator}"`);
  return spec;
}

/**
 * The paper's experiment, and ours, on the embedded real lineage: sample a population of chain
 * problems, probe every failing row (probe --lineage: label, eval and re-probe attempts), then
 * (a) the three features → Eq. 2 labels; (b) the paper's routing on the steerable rows against
 * every fixed operator and retry, on the eval split; (c) rescue at budget on those rows; (d)
 * calibrate's cross-validated choice among a learned policy, the paper's rule and the fixed
 * operators, and the regime estimate against the re-probe ceiling; (e) where the paper's rule
 * fails here, measured.
 */
export async function validateLineage(opts: ValidateLineageOptions): Promise<LineageValidation> {
  const attempts = opts.attempts ?? 3;
  const budgetMax = opts.budgetMax ?? 50;
  const routedMax = opts.routedBudgetMax ?? 10;
  const folds = opts.folds ?? 5;
  const run = await probePopulation(
    'lineage',
    { problems: opts.problems, operations: opts.operations, samples: opts.samples ?? 12, ancestorSamples: opts.ancestorSamples ?? 4, temperature: INTERVENTION_DEFAULTS.temperature },
    {
      budget: null,
      attempts,
      evalAttempts: opts.evalAttempts ?? 3,
      reprobe: opts.reprobe ?? 0.25,
      maxFailed: opts.maxFailed ?? 2,
      concurrency: opts.concurrency ?? 8,
      seed: opts.seed,
      junction: 'replay',
      continuation: 'temperature',
      maxTokens: 512,
      ...(opts.journalPath ? { journalPath: opts.journalPath } : {}),
      onProgress: (stage, d, t) => opts.onProgress?.(stage, d, t),
    },
  );
  const { records, errors } = run.measurement;
  if (errors.length > 0) throw new Error(`the probe failed on ${errors.length} units: ${errors[0]!.message}`);
  const labels = records.map((r) => r.label);
  const counts = Object.fromEntries(LABELS.map((l) => [l, labels.filter((x) => x === l).length])) as Record<Label, number>;

  // (a) the three features → the Eq. 2 label.
  const withFeatures = records.filter((r) => FEATURE_NAMES.every((f) => r[f] !== null));
  const cols = FEATURE_NAMES.map((f) => zScores(withFeatures.map((r) => r[f] as number)));
  const X = withFeatures.map((_, i) => cols.map((c) => c[i]!));
  const y = withFeatures.map((r) => LABELS.indexOf(r.label));
  const predicted = withFeatures.length >= 2 * folds ? nearestCentroidCV(X, y, folds, opts.seed).map((p) => (p < 0 ? 'none' : LABELS[p]!)) : [];
  const truth = withFeatures.map((r) => r.label);
  const majorityLabel = LABELS[LABELS.map((l) => truth.filter((t) => t === l).length).reduce((b, c, i, a) => (c > a[b]! ? i : b), 0)]!;
  const featuresToLabels = {
    accuracy: predicted.length ? orNull(accuracy(truth, predicted)) : null,
    balanced_accuracy: predicted.length ? orNull(balancedAccuracy(truth, predicted)) : null,
    majority: truth.length ? orNull(accuracy(truth, truth.map(() => majorityLabel))) : null,
    majority_balanced_accuracy: truth.length ? orNull(balancedAccuracy(truth, truth.map(() => majorityLabel))) : null,
    confusion: predicted.length ? (confusionMatrix<Label, string>(truth, predicted, LABELS, [...LABELS]) as Record<string, Record<string, number>>) : {},
  };

  // (b) the paper's routing on the steerable rows, z over that set, rescue on the eval split.
  const steerable = records.filter((r) => r.label === 'steerable' && FEATURE_NAMES.every((f) => r[f] !== null));
  const routing = steerable.length > 0 ? routingReport(steerable.map(evalProblemRecord)) : null;

  // (c) rescue at budget on the steerable rows: fresh attempts, seeds of their own.
  let retryAtBudget: number[] = [];
  let routedAtBudget: number[] = [];
  if (routing) {
    const byId = new Map<string, FailingRow>(run.rows.map((r) => [r.problemId, r]));
    const targets = steerable.map((r) => byId.get(r.problem_id)!);
    const ctx: Omit<InterventionContext, 'prompt'> = { ...INTERVENTION_DEFAULTS, specialist: run.population.specialist, ancestor: run.population.ancestor, maxTokens: 512 };
    const seed = seedOf('budget', opts.seed);
    const maxFailed = opts.maxFailed ?? 2;
    const retryJournal = ProbeJournal.inMemory();
    await runProbe(targets, ctx, { operators: [{ kind: 'retry', name: RETRY }], attempts: budgetMax, seed, journal: retryJournal, maxFailedPerProblem: maxFailed, onProgress: (d, t) => opts.onProgress?.('budget: retry', d, t) });
    retryAtBudget = curve(retryJournal.entries(), budgetMax);
    const routedJournal = ProbeJournal.inMemory();
    const groups = new Map<string, FailingRow[]>();
    routing.decisions.forEach((d, i) => {
      const op = d.operator ?? 'sparse_steer_random';
      groups.set(op, [...(groups.get(op) ?? []), targets[i]!]);
    });
    for (const [op, group] of groups) {
      await runProbe(group, ctx, { operators: [specFor(op)], attempts: routedMax, seed, journal: routedJournal, maxFailedPerProblem: maxFailed, onProgress: (d, t) => opts.onProgress?.(`budget: ${op}`, d, t) });
    }
    routedAtBudget = curve(routedJournal.entries().map((e) => ({ ...e, operator: 'routed' })), routedMax);
  }

  // (d) calibrate's cross-validated choice and the regime estimate against the ceiling.
  let policy: Policy | null = null;
  if (records.length >= 40) {
    const sha256 = createHash('sha256').update(JSON.stringify(records)).digest('hex');
    policy = calibratePolicy(records, { path: '(validate --lineage)', sha256 }, { folds, seed: opts.seed, ...(opts.resamples ? { resamples: opts.resamples } : {}) });
  }
  const calibration = policy && {
    choice: policy.choice.name,
    best_fixed: policy.choice.best_fixed,
    candidates: policy.candidates.map((c) => ({ name: c.name, rescue_all: c.rescue_all, rescue_steerable: c.rescue_steerable, vs_best_fixed: c.vs_best_fixed, routes: c.routes })),
    regime_estimate: policy.regime_estimate.candidates.map((c) => ({ name: c.name, balanced_accuracy: c.balanced_accuracy, accuracy: c.accuracy })),
    ceiling: policy.regime_estimate.ceiling,
  };

  // (e) where the paper's rule stands here.
  const paperRegime = policy?.regime_estimate.candidates.find((c) => c.name === 'paper_rule') ?? null;
  const routedGroups = routing
    ? Object.keys(routing.counts)
        .sort()
        .map((op) => {
          const rows = steerable.filter((_, i) => (routing.decisions[i]!.operator ?? 'unrouted') === op);
          const ops = Object.keys(rows[0]!.eval_rescue);
          const rescue = (o: string) => mean(rows.map((r) => r.eval_rescue[o]!));
          const best = ops.reduce((b, o) => (rescue(o) > rescue(b) ? o : b), ops[0]!);
          return { operator: op, rows: rows.length, its_rescue: op === 'unrouted' ? 0 : rescue(op), best_operator: best, best_rescue: rescue(best) };
        })
    : [];
  const findings: string[] = [];
  if (paperRegime?.available) {
    const c = paperRegime.confusion;
    const calledSteerable = LABELS.reduce((s, l) => s + (c[l]?.steerable ?? 0), 0);
    const calledBeyond = LABELS.reduce((s, l) => s + (c[l]?.beyond_reach ?? 0), 0);
    findings.push(
      `regime: of ${calledSteerable} rows the paper's rule calls steerable, the probe labels ${c.beyond_reach?.steerable ?? 0} beyond reach, ${c.resample?.steerable ?? 0} resample and ${c.steerable?.steerable ?? 0} steerable; it calls ${calledBeyond} rows beyond reach where the probe finds ${counts.beyond_reach} (balanced accuracy ${paperRegime.balanced_accuracy?.toFixed(3) ?? '—'})`,
    );
  }
  if (routing) {
    const fixed = Object.entries(routing.fixed_rescue).sort((a, b) => b[1] - a[1]);
    const [bestOp, bestRate] = fixed[0] ?? ['—', NaN];
    findings.push(`routing on the ${steerable.length} steerable rows (eval split): the paper's rule rescues ${pct(routing.routed_rescue)}, always ${bestOp} ${pct(bestRate)}, retry ${pct(routing.retry_rescue)}`);
    for (const g of routedGroups) {
      if (g.operator === g.best_operator) findings.push(`the ${g.rows} steerable rows it routes to ${g.operator} are rescued ${pct(g.its_rescue)} by it, the best operator there`);
      else findings.push(`the ${g.rows} steerable rows it routes to ${g.operator} are rescued ${pct(g.its_rescue)} by it, but ${pct(g.best_rescue)} by ${g.best_operator}`);
    }
  }
  if (calibration) {
    const get = (name: string) => calibration.candidates.find((c) => c.name === name);
    const paper = get("paper's rule");
    const chosen = get(calibration.choice);
    const best = get(`always ${calibration.best_fixed}`);
    findings.push(
      `over all ${records.length} probed failing rows (5-fold cross-validated, eval split): ${calibration.choice} ${pct(chosen?.rescue_all.mean)} [${pct(chosen?.rescue_all.lo)}, ${pct(chosen?.rescue_all.hi)}], always ${calibration.best_fixed} ${pct(best?.rescue_all.mean)}, the paper's rule ${pct(paper?.rescue_all.mean)} [${pct(paper?.rescue_all.lo)}, ${pct(paper?.rescue_all.hi)}]`,
    );
  }

  return {
    problems: opts.problems,
    operations: opts.operations,
    failing_rows: run.population.rows.length,
    probed: records.length,
    labels: counts,
    features_to_labels: featuresToLabels,
    steerable: steerable.length,
    routed_rescue: routing ? orNull(routing.routed_rescue) : null,
    fixed_rescue: routing?.fixed_rescue ?? {},
    retry_rescue: routing ? orNull(routing.retry_rescue) : null,
    routes: routing?.counts ?? {},
    retry_at_budget: retryAtBudget,
    routed_at_budget: routedAtBudget,
    routed_at_10_reaches_retry_at_50: routedAtBudget.length >= 10 && retryAtBudget.length >= 50 ? routedAtBudget[9]! >= retryAtBudget[49]! - 1e-12 : null,
    calibration,
    paper_rule: { regime_confusion: paperRegime?.available ? paperRegime.confusion : null, routed_groups: routedGroups },
    findings,
  };
}

/** Rescue within b attempts, b = 1…budget (a curve that stays flat after the last first success). */
function curve(entries: Parameters<typeof rescueAtBudget>[0], budget: number): number[] {
  const out = rescueAtBudget(entries).map((p) => p.rescue);
  while (out.length < budget && out.length > 0) out.push(out.at(-1)!);
  return out;
}
