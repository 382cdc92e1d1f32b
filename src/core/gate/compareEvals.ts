import { mean, probit, sampleStandardDeviation } from 'simple-statistics';
import type { EvalReport, EvalReportRow } from '../contracts/evalReport.js';
import { FEATURE_NAMES } from '../contracts/problemRecord.js';
import { PROSPECTIVE_REGIMES, type ProspectiveRegime } from '../regimes/prospectiveRegime.js';
import { chiSquareHomogeneity, type ChiSquareResult } from './chiSquare.js';
import { classifierTwoSampleTest, type TwoSampleTestResult } from './classifierTwoSampleTest.js';
import { type GatePolicy } from './gatePolicy.js';
import { differenceInterval } from './proportionDifference.js';

export interface RegimeComparison {
  regime: ProspectiveRegime;
  baseline: { n: number; share: number };
  candidate: { n: number; share: number };
  /** candidate share − baseline share, with its (1 − α) Newcombe interval. */
  diff: number;
  ci: [number, number];
}

export interface GateResult {
  pass: boolean;
  /** One line per regression that fails the gate. */
  regressions: string[];
  suite: { shared: number; onlyBaseline: string[]; onlyCandidate: string[] };
  regimes: RegimeComparison[];
  chiSquare: ChiSquareResult;
  /** Counts of baseline regime → candidate regime on shared tests. */
  transitions: Record<string, Record<string, number>>;
  /** Shared tests that became beyond reach, or left solved. */
  notable: { test: string; from: ProspectiveRegime; to: ProspectiveRegime }[];
  passRate: { baseline: number; candidate: number; diff: number; ci: [number, number] };
  passAt: Record<string, { baseline: number; candidate: number }>;
  topography: TwoSampleTestResult | null;
  policy: GatePolicy;
}

/** Identity of a row across two evals of the same suite. */
export const rowIdentity = (r: EvalReportRow) => `${r.description}\u0000${r.prompt_idx}\u0000${r.repeat}`;

/**
 * Compares two evals of the same suite on their shared tests (tests in only one eval are
 * reported, never compared): regime shares among tests (chi-square homogeneity, a Newcombe
 * interval per regime), per-test regime transitions, the paired pass-rate change, pass@k, and
 * the failure-topography shift (a classifier two-sample test on the failures' features).
 * Both reports should use one z-scale (the gate CLI scores the candidate on the baseline's).
 */
export function compareEvals(baseline: EvalReport, candidate: EvalReport, policy: GatePolicy): GateResult {
  const byKey = (rows: EvalReportRow[]) => new Map(rows.map((r) => [rowIdentity(r), r]));
  const b = byKey(baseline.rows);
  const c = byKey(candidate.rows);
  const shared = [...b.keys()].filter((k) => c.has(k)).sort();
  const label = (k: string) => k.split('\u0000')[0]!;
  const onlyBaseline = [...b.keys()].filter((k) => !c.has(k)).map(label);
  const onlyCandidate = [...c.keys()].filter((k) => !b.has(k)).map(label);
  const B = shared.map((k) => b.get(k)!);
  const C = shared.map((k) => c.get(k)!);
  const n = shared.length;

  const count = (rows: EvalReportRow[], g: ProspectiveRegime) => rows.filter((r) => r.regime === g).length;
  const regimes = PROSPECTIVE_REGIMES.map((g): RegimeComparison => {
    const { diff, ci } = differenceInterval(count(B, g), n, count(C, g), n, policy.alpha);
    return { regime: g, baseline: { n: count(B, g), share: n ? count(B, g) / n : 0 }, candidate: { n: count(C, g), share: n ? count(C, g) / n : 0 }, diff, ci };
  });
  const chiSquare = chiSquareHomogeneity([PROSPECTIVE_REGIMES.map((g) => count(B, g)), PROSPECTIVE_REGIMES.map((g) => count(C, g))]);

  const transitions: GateResult['transitions'] = {};
  const notable: GateResult['notable'] = [];
  shared.forEach((k, i) => {
    const from = B[i]!.regime;
    const to = C[i]!.regime;
    (transitions[from] ??= {})[to] = (transitions[from]![to] ?? 0) + 1;
    if (from !== to && (to === 'beyond_reach' || from === 'solved')) notable.push({ test: label(k), from, to });
  });

  const diffs = shared.map((_, i) => (C[i]!.pass_rate ?? 0) - (B[i]!.pass_rate ?? 0));
  const meanDiff = n > 0 ? mean(diffs) : 0;
  const half = n > 1 ? probit(1 - policy.alpha / 2) * (sampleStandardDeviation(diffs) / Math.sqrt(n)) : Infinity;
  const passRate = {
    baseline: n > 0 ? mean(B.map((r) => r.pass_rate ?? 0)) : 0,
    candidate: n > 0 ? mean(C.map((r) => r.pass_rate ?? 0)) : 0,
    diff: meanDiff,
    ci: [meanDiff - half, meanDiff + half] as [number, number],
  };
  const ks = [...new Set(B.flatMap((r) => Object.keys(r.pass_at)))].filter((k) => B.every((r) => k in r.pass_at) && C.every((r) => k in r.pass_at));
  const passAt = Object.fromEntries(ks.map((k) => [k, { baseline: mean(B.map((r) => r.pass_at[k]!)), candidate: mean(C.map((r) => r.pass_at[k]!)) }]));

  const vectors = (rows: EvalReportRow[]) =>
    rows.filter((r) => r.regime !== 'solved' && r.features && FEATURE_NAMES.every((f) => Number.isFinite(r.features![f] as number))).map((r) => FEATURE_NAMES.map((f) => r.features![f] as number));
  const topography = classifierTwoSampleTest(vectors(baseline.rows), vectors(candidate.rows), { permutations: policy.permutations, seed: policy.seed });

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  const regressions: string[] = [];
  for (const r of regimes) {
    const limit = policy.maxIncrease[r.regime];
    if (limit !== undefined && r.diff > limit && r.ci[0] > 0) {
      regressions.push(`${r.regime} share up ${pts(r.diff)} points (${pct(r.baseline.share)} → ${pct(r.candidate.share)}; ${100 * (1 - policy.alpha)}% CI ${pts(r.ci[0])}…${pts(r.ci[1])}), over the allowed +${(100 * limit).toFixed(1)}`);
    }
  }
  if (policy.maxPassRateDrop !== null && -passRate.diff > policy.maxPassRateDrop && passRate.ci[1] < 0) {
    regressions.push(`pass rate down ${pts(passRate.diff)} points (${pct(passRate.baseline)} → ${pct(passRate.candidate)}), over the allowed −${(100 * policy.maxPassRateDrop).toFixed(1)}`);
  }
  if (policy.topography === 'fail' && topography && topography.p < policy.alpha) {
    regressions.push(`failure topography shifted: baseline and candidate failures are told apart with ${pct(topography.accuracy)} accuracy (majority ${pct(topography.majority)}, permutation p = ${topography.p.toFixed(3)})`);
  }
  return { pass: regressions.length === 0, regressions, suite: { shared: n, onlyBaseline, onlyCandidate }, regimes, chiSquare, transitions, notable, passRate, passAt, topography, policy };
}
