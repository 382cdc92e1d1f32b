import type { RolloutSummary, StepInput, TokenSignalOptions, TopKSlice } from '../../src/core/index.js';

/**
 * A straightforward per-token reference for the property tests: Maps, sorted copies and
 * log-sum-exp, written from method.md and the doc comments of tokenSignals.ts / truncatedTail.ts
 * without sharing any code with them. Slow on purpose; clarity over speed.
 */
export interface ReferenceSignals {
  paired: boolean;
  deltaPath: number;
  deltaPathLow: number;
  deltaPathHigh: number;
  gcov: number;
  gcovLow: number;
  gcovHigh: number;
  j: number;
  kl: number;
  logitVar: number;
  entropy: number;
  takenLogprob: number;
  confidence: number;
}

const logSumExp = (xs: number[]): number => {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

interface ModelView {
  lp: Map<number, number>;
  /** log Z_T: point, low, high. */
  logZ: [number, number, number];
  /** T = 1 log-prob given to a token absent from the slice (point, most it can be). */
  absent: number;
  absentHigh: number;
  /** Unreturned mass and the bound on one unreturned token. */
  m: number;
  pb: number;
  qHat: number;
}

function view(slice: TopKSlice, token: number, o: TokenSignalOptions): ModelView {
  const T = o.temperature;
  const n = slice.ids.length;
  const entries = Array.from({ length: n }, (_, i) => ({ id: slice.ids[i]!, lp: Math.max(slice.logprobs[i]!, o.floorLogprob), raw: slice.logprobs[i]!, rank: slice.ranks?.[i] }));
  const lp = new Map(entries.map((e) => [e.id, e.lp]));
  const scaled = entries.map((e) => e.lp / T);
  if (o.normalization === 'renormalizeTopK') {
    const z = logSumExp(scaled);
    return { lp, logZ: [z, z, z], absent: o.floorLogprob, absentHigh: o.floorLogprob, m: 0, pb: 0, qHat: 0 };
  }
  let m = 1 - entries.reduce((s, e) => s + Math.exp(e.lp), 0);
  if (m < o.tailMassFloor) m = 0;
  // The top block: rank ≤ n with ranks; without, all but a taken token that is the unique minimum.
  let block = entries;
  if (slice.ranks) block = entries.filter((e) => e.rank! <= n);
  else if (n > 1) {
    const sorted = [...entries].sort((a, b) => a.raw - b.raw);
    if (sorted[0]!.id === token && sorted[1]!.raw > sorted[0]!.raw) block = entries.filter((e) => e.id !== token);
  }
  const pTail = block.length > 0 ? Math.exp(Math.max(Math.min(...block.map((e) => e.raw)), o.floorLogprob)) : 0;
  const pb = Math.min(pTail, m);
  const qHat = o.tailFraction * pb;
  const a = 1 / T - 1;
  const tailEst = pb > 0 ? [Math.log(m) + a * Math.log(qHat)] : [];
  const tailAtBound = pb > 0 ? [Math.log(m) + a * Math.log(pb)] : [];
  const z = logSumExp([...scaled, ...tailEst]);
  const zBound = logSumExp([...scaled, ...tailAtBound]);
  const zReturned = logSumExp(scaled);
  const logZ: [number, number, number] = T < 1 ? [z, zReturned, zBound] : T === 1 ? [z, z, z] : [z, zBound, pb > 0 ? Infinity : zBound];
  return { lp, logZ, absent: pb > 0 ? Math.max(Math.log(qHat), o.floorLogprob) : o.floorLogprob, absentHigh: pb > 0 ? Math.max(Math.log(pb), o.floorLogprob) : o.floorLogprob, m, pb, qHat };
}

/** The ancestor's top-k_cov ids: rank ≤ k with ranks, else the k largest log-probs, ties by smaller id. */
function coverageIds(a: TopKSlice, k: number): number[] {
  const entries = Array.from({ length: a.ids.length }, (_, i) => ({ id: a.ids[i]!, lp: a.logprobs[i]!, rank: a.ranks?.[i] }));
  if (a.ranks) return entries.filter((e) => e.rank! <= k).map((e) => e.id);
  return entries.sort((x, y) => y.lp - x.lp || x.id - y.id).slice(0, k).map((e) => e.id);
}

export function referenceSignals(step: StepInput, o: TokenSignalOptions): ReferenceSignals {
  const T = o.temperature;
  const raw = o.normalization === 'fullVocabulary';
  const s = step.specialist;
  const lpsS = Array.from(s.logprobs, (x) => Math.max(x, o.floorLogprob));
  // Specialist-only signals: p̃ renormalized over S's returned entries.
  const zTilde = logSumExp(lpsS.map((x) => x / T));
  const pTilde = lpsS.map((x) => Math.exp(x / T - zTilde));
  const entropy = -pTilde.reduce((acc, p, i) => acc + (p > 0 ? p * (lpsS[i]! / T - zTilde) : 0), 0);
  const mean = pTilde.reduce((acc, p, i) => acc + p * lpsS[i]!, 0);
  const logitVar = pTilde.reduce((acc, p, i) => acc + p * (lpsS[i]! - mean) ** 2, 0);
  const sMap = new Map(Array.from(s.ids, (id, i) => [id, lpsS[i]!]));
  const takenLogprob = sMap.get(step.token) ?? Math.min(...lpsS);
  const top = [...lpsS].sort((x, y) => y - x).slice(0, o.confidenceTopK);
  const confidence = -top.reduce((acc, x) => acc + x, 0) / top.length;
  const base = { entropy, logitVar, takenLogprob, confidence };
  const a = step.ancestor;
  if (!a || a.ids.length === 0) {
    return { paired: false, deltaPath: NaN, deltaPathLow: NaN, deltaPathHigh: NaN, gcov: NaN, gcovLow: NaN, gcovHigh: NaN, j: NaN, kl: NaN, ...base };
  }
  const S = view(s, step.token, o);
  const A = view(a, step.token, o);
  const logP = (M: ModelView, id: number) => (M.lp.get(id) ?? M.absent) / T - M.logZ[0];

  const inS = S.lp.has(step.token);
  const inA = A.lp.has(step.token);
  const deltaPath = logP(S, step.token) - logP(A, step.token);
  const xS = S.lp.get(step.token);
  const xA = A.lp.get(step.token);
  const sHigh = inS ? xS! : S.absentHigh;
  const aHigh = inA ? xA! : A.absentHigh;
  const sLow = inS || !raw ? (xS ?? S.absent) : -Infinity;
  const aLow = inA || !raw ? (xA ?? A.absent) : -Infinity;
  const deltaPathLow = sLow / T - S.logZ[2] - (aHigh / T - A.logZ[1]);
  const deltaPathHigh = sHigh / T - S.logZ[1] - (aLow / T - A.logZ[2]);

  const cov = coverageIds(a, o.kCov);
  const cA = cov.reduce((acc, id) => acc + Math.exp(A.lp.get(id)! / T), 0);
  const present = cov.filter((id) => S.lp.has(id));
  const nMissing = cov.length - present.length;
  const cS = present.reduce((acc, id) => acc + Math.exp(S.lp.get(id)! / T), 0);
  // S's T-mass on A_t tokens it did not return: each q̂ (capped jointly by the unreturned mass).
  let miss = 0;
  let missHigh = 0;
  if (!raw) miss = missHigh = nMissing * Math.exp(o.floorLogprob / T);
  else if (nMissing > 0 && S.pb > 0) {
    miss = Math.min(nMissing * S.qHat, S.m) * S.qHat ** (1 / T - 1);
    missHigh = T <= 1 ? Math.min(nMissing * S.pb, S.m) * S.pb ** (1 / T - 1) : nMissing * Math.min(S.pb, S.m / nMissing) ** (1 / T);
  }
  const eps = o.epsilon;
  const massA = cA / Math.exp(A.logZ[0]);
  const massS = (cS + miss) / Math.exp(S.logZ[0]);
  const gcov = Math.log(massA + eps) - Math.log(massS + eps);
  let gcovLow = gcov;
  let gcovHigh = gcov;
  if (raw) {
    const zRetS = Math.exp(logSumExp(Array.from(S.lp.values(), (x) => x / T)));
    const tailLowS = Math.exp(S.logZ[1]) - zRetS;
    const massSHigh = (cS + missHigh) / (zRetS + Math.max(tailLowS, missHigh));
    const massSLow = cS / Math.exp(S.logZ[2]);
    gcovLow = Math.log(cA / Math.exp(A.logZ[2]) + eps) - Math.log(massSHigh + eps);
    gcovHigh = Math.log(cA / Math.exp(A.logZ[1]) + eps) - Math.log(massSLow + eps);
  }

  let kl = 0;
  for (const id of Array.from(s.ids)) {
    const lS = logP(S, id);
    if (Math.exp(lS) > 0) kl += Math.exp(lS) * (lS - logP(A, id));
  }
  const tau = o.jTolerance;
  const pos = (v: number, x: number, y: number) => (v > tau * Math.max(1, Math.abs(x), Math.abs(y)) ? v : 0);
  const j = pos(deltaPath, logP(S, step.token), logP(A, step.token)) + pos(gcov, Math.log(massA + eps), Math.log(massS + eps));
  return { paired: true, deltaPath, deltaPathLow, deltaPathHigh, gcov, gcovLow, gcovHigh, j, kl: Math.max(0, kl), ...base };
}

/**
 * Per-rollout summary from reference signals, computed in batch from method.md's formulas (the
 * steps held in arrays): the same fields RolloutFeatureAccumulator streams.
 */
export function referenceSummary(
  steps: readonly StepInput[],
  o: TokenSignalOptions & { junctionWindow: number; confidenceWindow: number; logFloor: number },
): RolloutSummary {
  const scored = steps.map((st, t) => ({ t, st })).filter(({ st }) => st.specialist.ids.length > 0);
  const sig = scored.map(({ t, st }) => ({ t, ...referenceSignals(st, o) }));
  const paired = sig.filter((x) => x.paired);
  const n = paired.length;
  const avg = (xs: number[]) => xs.reduce((acc, x) => acc + x, 0) / xs.length;
  const lf = (x: number) => Math.log10(Math.max(x, o.logFloor));
  let jStar = -1;
  paired.forEach((x, i) => {
    if (jStar < 0 || x.j > paired[jStar]!.j) jStar = i;
  });
  const w = o.junctionWindow;
  const win = paired.slice(Math.max(0, jStar - w), jStar + w + 1).map((x) => x.logitVar);
  // Confidence windows over scored positions; a trace shorter than the window is one window.
  const W = o.confidenceWindow;
  const conf = sig.map((x) => x.confidence);
  const vars = sig.map((x) => x.logitVar);
  let minConf = Infinity;
  let varAtMin = NaN;
  const starts = sig.length >= W ? sig.length - W + 1 : sig.length > 0 ? 1 : 0;
  for (let i = 0; i < starts; i++) {
    const c = avg(conf.slice(i, i + W));
    if (c < minConf) {
      minConf = c;
      varAtMin = avg(vars.slice(i, i + W));
    }
  }
  const has = n > 0;
  const meanJ = has ? avg(paired.map((x) => x.j)) : null;
  return {
    scoredPositions: scored.length,
    pairedPositions: n,
    skippedPositions: steps.length - scored.length,
    junction: has ? paired[jStar]!.t : null,
    maxJ: has ? paired[jStar]!.j : null,
    meanJ,
    spread: has ? paired.filter((x) => x.j > 0).length / n : null,
    concentration: has ? lf(paired[jStar]!.j) - Math.log10(Math.max(meanJ!, o.epsilon)) : null,
    logitDispersion: has ? lf(avg(win)) : null,
    meanDeltaPath: has ? avg(paired.map((x) => x.deltaPath)) : null,
    meanGcov: has ? avg(paired.map((x) => x.gcov)) : null,
    meanKl: has ? avg(paired.map((x) => x.kl)) : null,
    meanEntropy: sig.length > 0 ? avg(sig.map((x) => x.entropy)) : null,
    meanLogprob: sig.length > 0 ? avg(sig.map((x) => x.takenLogprob)) : null,
    minWindowConfidence: sig.length > 0 ? minConf : null,
    dispersionAtMinConfidence: sig.length > 0 ? lf(varAtMin) : null,
  };
}
