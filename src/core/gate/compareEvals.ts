import { mean, sampleStandardDeviation } from 'simple-statistics';
import { normalQuantile } from '../stats/normalQuantile.js';
import type { EvalReport, EvalReportRow } from '../contracts/evalReport.js';
import { FEATURE_NAMES } from '../contracts/problemRecord.js';
import { PROSPECTIVE_REGIMES, type ProspectiveRegime } from '../regimes/prospectiveRegime.js';
import { chiSquareHomogeneity, type ChiSquareResult } from './chiSquare.js';
import type { GateEstimator } from './gateEstimator.js';
import { classifierTwoSampleTest, type TwoSampleTestResult } from './classifierTwoSampleTest.js';
import { type GatePolicy } from './gatePolicy.js';
import { type DuplicateTest, type ErroredTest, matchTests, type TestRef } from './matchTests.js';
import { differenceInterval } from './proportionDifference.js';
import { pairedTestsNeeded, proportionTestsNeeded } from './testsNeeded.js';

export interface RegimeComparison {
  regime: ProspectiveRegime;
  /** Count and share of the compared tests. */
  baseline: { n: number; share: number };
  candidate: { n: number; share: number };
  /** candidate share − baseline share, with its (1 − α) Newcombe interval. */
  diff: number;
  ci: [number, number];
}

/**
 * One thing the policy checks, and what came of it: `fail` (a regression), `pass` (within its
 * limit), `inconclusive` (over its limit, but the interval includes no change: not enough tests
 * to call it; the gate passes and says so), or `report` (shown, not gating).
 */
export interface GateCheck {
  check: string;
  status: 'pass' | 'fail' | 'inconclusive' | 'report';
  /** The observed change (a difference of shares or rates; balanced accuracy for the topography). */
  observed: number;
  limit: number | null;
  ci: [number, number] | null;
  /** One line: why this status. */
  why: string;
  /** Tests per eval that would decide at the observed effect (inconclusive checks), with the formula. */
  testsNeeded: { n: number; formula: string } | null;
}

export interface GateResult {
  pass: boolean;
  /** One line per failing check. */
  regressions: string[];
  /** Every check of the policy with its status and why. */
  checks: GateCheck[];
  suite: {
    /** Tests graded in both evals: the ones compared. */
    shared: number;
    onlyBaseline: TestRef[];
    onlyCandidate: TestRef[];
    /** In both evals but errored in at least one: not compared. */
    errored: ErroredTest[];
    duplicates: DuplicateTest[];
  };
  regimes: RegimeComparison[];
  chiSquare: ChiSquareResult;
  /** Counts of baseline regime → candidate regime on compared tests. */
  transitions: Record<string, Record<string, number>>;
  /** Compared tests that became beyond reach, or left solved. */
  notable: (TestRef & { from: ProspectiveRegime; to: ProspectiveRegime })[];
  /** Rollout pass rate: the mean over compared tests of passed/K, and the paired change. */
  passRate: { baseline: number; candidate: number; diff: number; ci: [number, number]; sdDiff: number | null };
  passAt: Record<string, { baseline: number; candidate: number }>;
  /** Failure topography on the compared tests' failures (null with fewer than 2 in either eval). */
  topography: TwoSampleTestResult | null;
  policy: GatePolicy;
  /** Where both evals' regimes came from (the same for both). */
  estimator: GateEstimator;
}

/** Comparisons at a limit use this slack, so a change of exactly the limit passes (as Eq. 2 does). */
const TOLERANCE = 1e-9;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/**
 * Compares two evals of the same suite on the tests graded in both (matched by test identity,
 * see matchTests; tests in one eval only, or errored in either, are listed and never compared):
 * regime shares of tests (chi-square homogeneity, a Newcombe interval per regime), per-test regime
 * transitions, the paired rollout-pass-rate change, pass@k, and the failure-topography shift (a
 * classifier two-sample test on the compared failures' features). Every policy check reports a
 * status and why. Both reports should use one z-scale (the gate CLI scores the candidate on the
 * baseline's).
 */
export function compareEvals(
  baseline: EvalReport,
  candidate: EvalReport,
  policy: GatePolicy,
  estimator: GateEstimator = { source: 'paper_rule', why: 'no learned policy was given' },
  /** inOrderOnce(baseline), when it was found before (see matchTests). */
  baselineInOrder?: boolean,
): GateResult {
  const matching = matchTests(baseline, candidate, baselineInOrder);
  const B = matching.pairs.map((p) => p.baseline);
  const C = matching.pairs.map((p) => p.candidate);
  const n = B.length;
  const zCrit = normalQuantile(1 - policy.alpha / 2);
  const ciLabel = `${100 * (1 - policy.alpha)}% CI`;

  const counted = (rows: EvalReportRow[]) => {
    const counts = Object.fromEntries(PROSPECTIVE_REGIMES.map((g) => [g, 0])) as Record<ProspectiveRegime, number>;
    for (const r of rows) counts[r.regime]++;
    return (g: ProspectiveRegime) => counts[g];
  };
  const countB = counted(B);
  const countC = counted(C);
  const regimes = PROSPECTIVE_REGIMES.map((g): RegimeComparison => {
    const { diff, ci } = differenceInterval(countB(g), n, countC(g), n, policy.alpha);
    return { regime: g, baseline: { n: countB(g), share: n ? countB(g) / n : 0 }, candidate: { n: countC(g), share: n ? countC(g) / n : 0 }, diff, ci };
  });
  const chiSquare = chiSquareHomogeneity([PROSPECTIVE_REGIMES.map(countB), PROSPECTIVE_REGIMES.map(countC)]);

  const transitions: GateResult['transitions'] = {};
  const notable: GateResult['notable'] = [];
  matching.pairs.forEach(({ baseline: from, candidate: to }) => {
    (transitions[from.regime] ??= {})[to.regime] = (transitions[from.regime]![to.regime] ?? 0) + 1;
    if (from.regime !== to.regime && (to.regime === 'beyond_reach' || from.regime === 'solved')) {
      notable.push({ test_idx: to.test_idx, prompt_idx: to.prompt_idx, description: to.description, from: from.regime, to: to.regime });
    }
  });

  const diffs = matching.pairs.map((p) => p.candidate.pass_rate - p.baseline.pass_rate);
  const meanDiff = n > 0 ? mean(diffs) : 0;
  const sdDiff = n > 1 ? sampleStandardDeviation(diffs) : null;
  const half = sdDiff !== null ? zCrit * (sdDiff / Math.sqrt(n)) : Infinity;
  const passRate = {
    baseline: n > 0 ? mean(B.map((r) => r.pass_rate)) : 0,
    candidate: n > 0 ? mean(C.map((r) => r.pass_rate)) : 0,
    diff: meanDiff,
    ci: [meanDiff - half, meanDiff + half] as [number, number],
    sdDiff,
  };
  // The k of pass@k every compared row of both evals has, in order of first appearance (each
  // distinct pass_at object looked at once: a report's rows with the same n and c share one).
  const keysOf = new Map<Record<string, number>, string[]>();
  const keys = (passAt: Record<string, number>) => {
    let k = keysOf.get(passAt);
    if (k === undefined) keysOf.set(passAt, (k = Object.keys(passAt)));
    return k;
  };
  const seenKs = new Set<string>();
  for (const r of B) for (const k of keys(r.pass_at)) seenKs.add(k);
  for (const r of C) keys(r.pass_at);
  const ks = [...seenKs].filter((k) => [...keysOf.values()].every((list) => list.includes(k)));
  const passAt = Object.fromEntries(ks.map((k) => [k, { baseline: mean(B.map((r) => r.pass_at[k]!)), candidate: mean(C.map((r) => r.pass_at[k]!)) }]));

  /** The features of the rows that failed and have all three. */
  const vectors = (rows: EvalReportRow[]) => {
    const out: number[][] = [];
    const [f0, f1, f2] = FEATURE_NAMES;
    for (const r of rows) {
      if (r.regime === 'solved' || !r.features) continue;
      const v = [r.features[f0] as number, r.features[f1] as number, r.features[f2] as number];
      if (Number.isFinite(v[0]) && Number.isFinite(v[1]) && Number.isFinite(v[2])) out.push(v);
    }
    return out;
  };
  const topography = classifierTwoSampleTest(vectors(B), vectors(C), { permutations: policy.permutations, seed: policy.seed });

  const checks: GateCheck[] = [];
  for (const r of regimes) {
    const limit = policy.maxIncrease[r.regime];
    if (limit === undefined) continue;
    const name = `${r.regime} share of tests`;
    const moved = `${pts(r.diff)} points (${pct(r.baseline.share)} → ${pct(r.candidate.share)} of ${n} tests; ${ciLabel} ${pts(r.ci[0])}…${pts(r.ci[1])})`;
    const base = { check: name, observed: r.diff, limit, ci: r.ci };
    if (!(r.diff > limit + TOLERANCE)) {
      checks.push({ ...base, status: 'pass', why: `${name} ${moved}: within the allowed +${(100 * limit).toFixed(1)}`, testsNeeded: null });
    } else if (r.ci[0] > 0) {
      checks.push({ ...base, status: 'fail', why: `${r.regime} share of tests up ${moved}, over the allowed +${(100 * limit).toFixed(1)}`, testsNeeded: null });
    } else {
      const needed = proportionTestsNeeded(r.baseline.share, r.candidate.share, policy.alpha);
      checks.push({
        ...base,
        status: 'inconclusive',
        why: `${r.regime} share of tests up ${moved}, over the allowed +${(100 * limit).toFixed(1)}, but the interval includes zero: too few tests to call it${needed ? `; about ${needed.n} tests per eval would decide at this effect` : ''}`,
        testsNeeded: needed,
      });
    }
  }
  if (policy.maxPassRateDrop !== null) {
    const max = policy.maxPassRateDrop;
    const name = 'rollout pass rate';
    const moved = `${pts(passRate.diff)} points (${pct(passRate.baseline)} → ${pct(passRate.candidate)}, mean over ${n} tests; paired ${ciLabel} ${pts(passRate.ci[0])}…${pts(passRate.ci[1])})`;
    const base = { check: name, observed: passRate.diff, limit: max, ci: passRate.ci };
    if (!(-passRate.diff > max + TOLERANCE)) {
      checks.push({ ...base, status: 'pass', why: `${name} ${moved}: within the allowed −${(100 * max).toFixed(1)}`, testsNeeded: null });
    } else if (passRate.ci[1] < 0) {
      checks.push({ ...base, status: 'fail', why: `${name} down ${moved}, over the allowed −${(100 * max).toFixed(1)}`, testsNeeded: null });
    } else {
      const needed = sdDiff === null ? null : pairedTestsNeeded(passRate.diff, sdDiff, policy.alpha);
      checks.push({
        ...base,
        status: 'inconclusive',
        why: `${name} down ${moved}, over the allowed −${(100 * max).toFixed(1)}, but the interval includes zero: too few tests to call it${needed ? `; about ${needed.n} tests would decide at this effect` : ''}`,
        testsNeeded: needed,
      });
    }
  }
  {
    const name = 'failure topography';
    const gating = policy.topography === 'fail';
    if (!topography) {
      checks.push({ check: name, status: gating ? 'inconclusive' : 'report', observed: NaN, limit: null, ci: null, why: `${name}: fewer than 2 compared failures with all three features in an eval, nothing to test`, testsNeeded: null });
    } else {
      const t = topography;
      const sub = t.nA < t.totalA || t.nB < t.totalB ? ` (on a subsample of ${t.nA} of ${t.totalA} and ${t.nB} of ${t.totalB} failures)` : '';
      const told = `baseline and candidate failures told apart with ${pct(t.balancedAccuracy)} balanced accuracy (chance 50.0%), permutation p = ${t.p.toFixed(3)}${sub}`;
      const status = !gating ? 'report' : t.p < policy.alpha ? 'fail' : 'pass';
      const why = status === 'fail' ? `${name} shifted: ${told} < α = ${policy.alpha}` : status === 'pass' ? `${name}: ${told} ≥ α = ${policy.alpha}` : `${name}: ${told} (reported, not gating: policy topography is "report")`;
      checks.push({ check: name, status, observed: t.balancedAccuracy, limit: null, ci: null, why, testsNeeded: null });
    }
  }
  const regressions = checks.filter((c) => c.status === 'fail').map((c) => c.why);
  return {
    pass: regressions.length === 0,
    regressions,
    checks,
    suite: { shared: n, onlyBaseline: matching.onlyBaseline, onlyCandidate: matching.onlyCandidate, errored: matching.errored, duplicates: matching.duplicates },
    regimes,
    chiSquare,
    transitions,
    notable,
    passRate,
    passAt,
    topography,
    policy,
    estimator,
  };
}
