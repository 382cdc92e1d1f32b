import type { RolloutSummary } from '../contracts/rollout.js';
import { type StepInput, TokenSignalComputer, type TopKSlice } from '../tokens/tokenSignals.js';
import { isCanonical } from '../tokens/topEntries.js';
import { RolloutFeatureAccumulator, type RolloutFeatureOptions, rolloutFeatureDefaults } from './rolloutFeatureAccumulator.js';

/** A model's full next-token distribution at one position: every token, raw (T = 1) log-probs. */
export interface FullDistribution {
  readonly ids: ArrayLike<number>;
  readonly logprobs: ArrayLike<number>;
}

/** One position with both models' full distributions and the token taken. */
export interface FullStep {
  readonly token: number;
  readonly specialist: FullDistribution;
  readonly ancestor: FullDistribution;
}

/**
 * What a vLLM server returns for a full distribution with `logprobs: k` / `prompt_logprobs: k`:
 * the top-k (log-prob descending, ties by id) plus the actual token at its true rank when it is
 * not among them, every entry with its 1-based rank (1 + the number of strictly larger log-probs).
 */
export function vllmTopK(full: FullDistribution, k: number, token: number): TopKSlice {
  const n = full.ids.length;
  const order = Array.from({ length: n }, (_, i) => i);
  if (!isCanonical(full.ids, full.logprobs)) order.sort((a, b) => full.logprobs[b]! - full.logprobs[a]! || full.ids[a]! - full.ids[b]!);
  // Rank = 1 + the number of strictly larger log-probs: walk the sorted order, ties share a rank.
  const rankAt = new Int32Array(n);
  for (let r = 0; r < n; r++) rankAt[r] = r > 0 && full.logprobs[order[r]!] === full.logprobs[order[r - 1]!] ? rankAt[r - 1]! : r + 1;
  const chosen = Array.from({ length: Math.min(k, n) }, (_, r) => r);
  if (!chosen.some((r) => full.ids[order[r]!] === token)) {
    const r = order.findIndex((i) => full.ids[i] === token);
    if (r >= 0) chosen.push(r);
  }
  return { ids: chosen.map((r) => full.ids[order[r]!]!), logprobs: chosen.map((r) => full.logprobs[order[r]!]!), ranks: chosen.map((r) => rankAt[r]!) };
}

/** The client's view of a full step from a vLLM server: S's top-K and A's top-K_A, ranks included. */
export function vllmView(topK: number, ancestorTopK: number): (step: FullStep) => StepInput {
  return (step) => ({
    token: step.token,
    specialist: vllmTopK(step.specialist, topK, step.token),
    ancestor: vllmTopK(step.ancestor, ancestorTopK, step.token),
  });
}

/** |G_cov| below this is rounding when the shares of positive and negative G_cov are counted. */
const SIGN_EPS = 1e-9;

/** Features of one rollout from the full distributions (the truth) and from what a client sees. */
export interface RolloutFidelity {
  truth: RolloutSummary;
  seen: RolloutSummary;
  /** seen − truth for the trajectory features and the mean signals. */
  delta: { spread: number; concentration: number; logitDispersion: number; meanDeltaPath: number; meanGcov: number };
}

export interface TruncationFidelity {
  rollouts: RolloutFidelity[];
  positions: {
    /** Paired positions compared. */
    n: number;
    /** Share of positions with J > 0 in the truth and in the client's view. */
    positiveJTruth: number;
    positiveJSeen: number;
    /** Share of positions with G_cov > 1e-9 (coverage pressure alone; rounding excluded) in the truth and in the view. */
    positiveGcovTruth: number;
    positiveGcovSeen: number;
    /** Share of positions where J > 0 agrees. */
    positiveJAgreement: number;
    /** Positions with G_cov < −1e-9 in the truth, and the share of them negative in the view. */
    negativeGcovTruth: number;
    negativeGcovKept: number;
    /** Positions where the truth falls outside the view's [low, high] bound (Δpath or G_cov); 0 when the bounds hold. */
    outsideBounds: number;
    /** Largest |seen − truth| of G_cov and Δpath. */
    maxAbsGcovError: number;
    maxAbsDeltaPathError: number;
  };
  /** Means over rollouts of spread, truth and seen, and the largest |Δ spread|. */
  meanSpreadTruth: number;
  meanSpreadSeen: number;
  maxAbsSpreadDelta: number;
}

/**
 * Compares the features computed from full distributions with those computed from a truncated
 * view of the same positions (e.g. `vllmView(20, 20)`). Both use `options`; the truth always
 * reads the full distributions as raw (they are complete, so nothing is estimated). Streams:
 * only one rollout's steps are held at a time.
 */
export function compareTruncation(
  rollouts: Iterable<readonly FullStep[]>,
  view: (step: FullStep) => StepInput,
  options: Partial<RolloutFeatureOptions> = {},
): TruncationFidelity {
  const opts = { ...rolloutFeatureDefaults(), ...options };
  const truthOpts = { ...opts, normalization: 'fullVocabulary' as const };
  const truthSignals = new TokenSignalComputer(truthOpts);
  const seenSignals = new TokenSignalComputer(opts);
  const out: RolloutFidelity[] = [];
  let n = 0;
  let posTruth = 0;
  let posSeen = 0;
  let agree = 0;
  let gTruth = 0;
  let gSeen = 0;
  let negTruth = 0;
  let negKept = 0;
  let outside = 0;
  let maxG = 0;
  let maxD = 0;
  for (const steps of rollouts) {
    const truthAcc = new RolloutFeatureAccumulator(truthOpts);
    const seenAcc = new RolloutFeatureAccumulator(opts);
    steps.forEach((step, t) => {
      const seenStep = view(step);
      const tr = { ...truthSignals.compute(step, t) };
      const se = seenSignals.compute(seenStep, t);
      truthAcc.pushSignals(tr);
      seenAcc.pushSignals(se);
      if (!tr.paired || !se.paired) return;
      n++;
      if (tr.j > 0) posTruth++;
      if (se.j > 0) posSeen++;
      if (tr.j > 0 === se.j > 0) agree++;
      if (tr.gcov > SIGN_EPS) gTruth++;
      if (se.gcov > SIGN_EPS) gSeen++;
      if (tr.gcov < -SIGN_EPS) {
        negTruth++;
        if (se.gcov < 0) negKept++;
      }
      const slack = 1e-9;
      if (tr.gcov < se.gcovLow - slack || tr.gcov > se.gcovHigh + slack || tr.deltaPath < se.deltaPathLow - slack || tr.deltaPath > se.deltaPathHigh + slack) outside++;
      maxG = Math.max(maxG, Math.abs(se.gcov - tr.gcov));
      maxD = Math.max(maxD, Math.abs(se.deltaPath - tr.deltaPath));
    });
    const truth = truthAcc.finish();
    const seen = seenAcc.finish();
    const d = (k: keyof RolloutSummary) => (seen[k] as number) - (truth[k] as number);
    out.push({ truth, seen, delta: { spread: d('spread'), concentration: d('concentration'), logitDispersion: d('logitDispersion'), meanDeltaPath: d('meanDeltaPath'), meanGcov: d('meanGcov') } });
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  return {
    rollouts: out,
    positions: {
      n,
      positiveJTruth: posTruth / Math.max(1, n),
      positiveJSeen: posSeen / Math.max(1, n),
      positiveGcovTruth: gTruth / Math.max(1, n),
      positiveGcovSeen: gSeen / Math.max(1, n),
      positiveJAgreement: agree / Math.max(1, n),
      negativeGcovTruth: negTruth,
      negativeGcovKept: negTruth > 0 ? negKept / negTruth : 1,
      outsideBounds: outside,
      maxAbsGcovError: maxG,
      maxAbsDeltaPathError: maxD,
    },
    meanSpreadTruth: mean(out.map((r) => r.truth.spread ?? NaN)),
    meanSpreadSeen: mean(out.map((r) => r.seen.spread ?? NaN)),
    maxAbsSpreadDelta: Math.max(0, ...out.map((r) => Math.abs(r.delta.spread))),
  };
}
