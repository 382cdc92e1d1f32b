// FROZEN: the Part-1 implementation (commit 7640ed1), kept as the oracle that pins the optimized
// code to the same numbers (test/core/part1Pin.test.ts). Do not edit.
import { DEFAULTS, type LogprobNormalization } from '../../../src/core/defaults.js';
import { missingHigh, rawTail, type TailModel, tailContribution } from './truncatedTail.js';
import { topEntries } from './topEntries.js';

/**
 * A top-K slice as parallel arrays: token ids, their temperature-1 log-probs and, optionally,
 * each entry's 1-based rank in the full distribution (vLLM's `rank`). Any entry order.
 */
export interface TopKSlice {
  readonly ids: ArrayLike<number>;
  readonly logprobs: ArrayLike<number>;
  /**
   * vLLM's ranks. With them the top-k are the entries of rank ≤ k, so the actual token that vLLM
   * adds at its true rank never counts as top-k; without them the k largest log-probs (ties by id).
   */
  readonly ranks?: ArrayLike<number> | undefined;
}

/** The inputs of one position. */
export interface StepInput {
  readonly token: number;
  readonly specialist: TopKSlice;
  readonly ancestor?: TopKSlice | undefined;
}

export interface TokenSignalOptions {
  temperature: number;
  kCov: number;
  floorLogprob: number;
  epsilon: number;
  confidenceTopK: number;
  /** How to read the log-probs: raw full-vocabulary (vLLM V1 default) or renormalize over the top-K. */
  normalization: LogprobNormalization;
  /** c: an unreturned token's probability is estimated as c·p_b (see truncatedTail.ts). */
  tailFraction: number;
  /** Below this, the unreturned mass 1 − Σ exp(lp) is summation rounding and counts as none. */
  tailMassFloor: number;
  /** Raw log-probs whose probabilities sum above 1 + this are refused (they are not raw). */
  rawMassTolerance: number;
  /** τ: J's positive parts count only above τ·max(1, |operands|) (see TokenSignals.j). */
  jTolerance: number;
}

/**
 * Per-position signals (method.md, "Per-token signals"). The ancestor-based ones are NaN when
 * the position has no ancestor scores (`paired` is then false).
 *
 * With `normalization: 'fullVocabulary'` (default) every p^T uses the full normalizer
 * Z_T = Σ_all p(y)^{1/T}: exact at T = 1, estimated inside its bound at T ≠ 1 from the returned
 * mass (truncatedTail.ts), so the ancestor's coverage mass is < 1 even when it returned exactly
 * its top-k_cov. A token missing from a slice gets the tail estimate q̂ (its probability is at most
 * the smallest returned one and at most the unreturned mass). With `'renormalizeTopK'` (for
 * log-probs that are not raw): p^T renormalized over the returned top-K, a missing token at
 * `floorLogprob` (the reference implementation's behaviour, degenerate when K_A = k_cov).
 * `…Low`/`…High` bound Δpath and G_cov over everything the truncation leaves unknown (equal to
 * the point value under 'renormalizeTopK', which assumes nothing is unknown).
 */
export interface TokenSignals {
  /** S and A both had scores here. */
  paired: boolean;
  /** Δpath_t = log p_S^T(x_t) − log p_A^T(x_t); the taken token's returned log-prob is used as given. */
  deltaPath: number;
  deltaPathLow: number;
  deltaPathHigh: number;
  /**
   * G_cov_t = log((Σ_{y∈A_t} p_A^T(y) + ε) / (Σ_{y∈A_t} p_S^T(y) + ε)), A_t = A's top-k_cov
   * (rank ≤ k_cov with ranks); A_t tokens missing from S's slice count at S's tail estimate.
   */
  gcov: number;
  gcovLow: number;
  gcovHigh: number;
  /**
   * J_t = [Δpath_t]₊ + [G_cov_t]₊ where [v]₊ = v if v > τ·max(1, |a|, |b|) else 0, with a, b the
   * two logs whose difference v is (log p_S^T(x), log p_A^T(x) for Δpath; log(mass + ε) of A and S
   * for G_cov): float rounding (~1e-15 of those magnitudes) is never demotion pressure.
   */
  j: number;
  /** Σ_{y∈S's slice} p_S^T(y)·(log p_S^T(y) − log p_A^T(y)): the top-K part of KL(p_S^T ‖ p_A^T), clamped at 0. */
  kl: number;
  /** Var_{y∼p̃_S^T}[lp_S(y)], p̃ renormalized over S's returned entries (method.md's definition). */
  logitVar: number;
  /** H(p̃_S^T) over S's returned entries, p̃ renormalized over them, in nats. */
  entropy: number;
  /** The taken token's temperature-1 log-prob under S (its lowest top-K log-prob if absent). */
  takenLogprob: number;
  /** DeepConf token confidence: −mean of S's `confidenceTopK` largest temperature-1 log-probs. */
  confidence: number;
}

export function tokenSignalDefaults(): TokenSignalOptions {
  return {
    temperature: DEFAULTS.temperature,
    kCov: DEFAULTS.kCov,
    floorLogprob: DEFAULTS.floorLogprob,
    epsilon: DEFAULTS.epsilon,
    confidenceTopK: DEFAULTS.confidenceTopK,
    normalization: DEFAULTS.normalization,
    tailFraction: DEFAULTS.tailFraction,
    tailMassFloor: DEFAULTS.tailMassFloor,
    rawMassTolerance: DEFAULTS.rawMassTolerance,
    jTolerance: DEFAULTS.jTolerance,
  };
}

/** A position's log-probs were not finite log-probabilities. */
export class InvalidLogprobError extends Error {
  override readonly name = 'InvalidLogprobError';
}

/**
 * A token-id → position index over one top-K slice, reset in O(1) by bumping a generation stamp
 * (no clearing, no Map): dense typed arrays grown to the largest id seen.
 */
class SliceIndex {
  private stamp = new Int32Array(1024);
  private pos = new Int32Array(1024);
  private generation = 0;

  /** Indexes `ids`; returns the index of the first duplicated id, or −1. */
  load(ids: ArrayLike<number>): number {
    this.generation++;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= this.stamp.length) this.grow(id);
      if (this.stamp[id] === this.generation) return i;
      this.stamp[id] = this.generation;
      this.pos[id] = i;
    }
    return -1;
  }

  /** Position of `id` in the loaded slice, or −1. */
  get(id: number): number {
    return id < this.stamp.length && this.stamp[id] === this.generation ? this.pos[id]! : -1;
  }

  private grow(id: number): void {
    let n = this.stamp.length;
    while (n <= id) n *= 2;
    const stamp = new Int32Array(n);
    stamp.set(this.stamp);
    const pos = new Int32Array(n);
    pos.set(this.pos);
    this.stamp = stamp;
    this.pos = pos;
  }
}

/** One model's distribution at a position, as far as its slice tells (scaled by exp(−shift)). */
interface Normalized {
  /** shift = max_y lp(y)/T; every sum below is scaled by exp(−shift). */
  shift: number;
  /** Σ_returned exp(lp/T − shift). */
  returned: number;
  /** The tail's contribution Σ_tail q^{1/T} (point, low, high), scaled. */
  tail: { estimate: number; low: number; high: number };
  tailModel: TailModel | null;
  /** log Z_T (point estimate, low, high). */
  logZ: number;
  logZLow: number;
  logZHigh: number;
  /** Temperature-1 log-prob assigned to a token missing from the slice (point, high). */
  missingLogprob: number;
  missingLogprobHigh: number;
}

/**
 * Computes TokenSignals for one position at a time, reusing its scratch space so a whole trace
 * can be streamed with O(K) memory and no allocation per position. Not re-entrant: `compute`
 * returns the same object each call.
 */
export class TokenSignalComputer {
  private readonly opts: TokenSignalOptions;
  private readonly raw: boolean;
  private readonly sIndex = new SliceIndex();
  private readonly aIndex = new SliceIndex();
  private wS = new Float64Array(128);
  private wA = new Float64Array(128);
  private cov = new Int32Array(128);
  private order: number[] = [];
  private terms = new Float64Array(128);
  private readonly out: TokenSignals = {
    paired: false,
    deltaPath: NaN,
    deltaPathLow: NaN,
    deltaPathHigh: NaN,
    gcov: NaN,
    gcovLow: NaN,
    gcovHigh: NaN,
    j: NaN,
    kl: NaN,
    logitVar: NaN,
    entropy: NaN,
    takenLogprob: NaN,
    confidence: NaN,
  };

  constructor(options: Partial<TokenSignalOptions> = {}) {
    this.opts = { ...tokenSignalDefaults(), ...options };
    const o = this.opts;
    if (!(o.temperature > 0)) throw new RangeError(`temperature must be > 0, got ${o.temperature}`);
    if (!(o.kCov >= 1)) throw new RangeError(`kCov must be ≥ 1, got ${o.kCov}`);
    if (o.normalization !== 'fullVocabulary' && o.normalization !== 'renormalizeTopK') {
      throw new RangeError(`normalization must be 'fullVocabulary' (raw log-probs, vLLM's default) or 'renormalizeTopK' (processed log-probs), got ${String(o.normalization)}`);
    }
    if (!(o.tailFraction > 0 && o.tailFraction <= 1)) throw new RangeError(`tailFraction must be in (0, 1], got ${o.tailFraction}`);
    if (!(o.jTolerance >= 0)) throw new RangeError(`jTolerance must be ≥ 0, got ${o.jTolerance}`);
    this.raw = o.normalization === 'fullVocabulary';
  }

  /** Signals of one position; throws InvalidLogprobError on NaN or positive log-probs, duplicate ids, or raw log-probs summing above 1. */
  compute(step: StepInput, position = 0): TokenSignals {
    const { temperature: T, floorLogprob: floor, epsilon: eps } = this.opts;
    const s = step.specialist;
    const out = this.out;
    const K = checkSlice(s, 'specialist', position);
    if (this.wS.length < K) this.wS = new Float64Array(Math.max(K, this.wS.length * 2));
    const dupS = this.sIndex.load(s.ids);
    if (dupS >= 0) throw duplicateError(s, dupS, 'specialist', position);

    const S = this.normalize(s, K, this.wS, step.token, 'specialist', position);
    const wS = this.wS;
    // Entropy and logit variance over S's returned entries, renormalized over them (method.md).
    let entropy = 0;
    let mean = 0;
    const logTotal = Math.log(S.returned);
    for (let i = 0; i < K; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const p = wS[i]! / S.returned;
      if (p > 0) entropy -= p * (lp / T - S.shift - logTotal);
      mean += p * lp;
    }
    let variance = 0;
    let minLp = Infinity;
    for (let i = 0; i < K; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const d = lp - mean;
      variance += (wS[i]! / S.returned) * d * d;
      if (lp < minLp) minLp = lp;
    }
    const sTaken = this.sIndex.get(step.token);
    out.entropy = entropy;
    out.logitVar = variance;
    out.takenLogprob = sTaken >= 0 ? Math.max(s.logprobs[sTaken]!, floor) : K > 0 ? minLp : floor;
    out.confidence = -this.meanOfLargest(s.logprobs, K, this.opts.confidenceTopK, floor);

    const a = step.ancestor;
    if (!a || a.ids.length === 0) {
      out.paired = false;
      out.deltaPath = out.deltaPathLow = out.deltaPathHigh = NaN;
      out.gcov = out.gcovLow = out.gcovHigh = out.j = out.kl = NaN;
      return out;
    }
    const KA = checkSlice(a, 'ancestor', position);
    if (this.wA.length < KA) {
      this.wA = new Float64Array(Math.max(KA, this.wA.length * 2));
      this.cov = new Int32Array(this.wA.length);
    }
    const dupA = this.aIndex.load(a.ids);
    if (dupA >= 0) throw duplicateError(a, dupA, 'ancestor', position);
    const A = this.normalize(a, KA, this.wA, step.token, 'ancestor', position);
    const wA = this.wA;
    const aTaken = this.aIndex.get(step.token);

    // Δpath from each model's log p^T of the taken token, with its bounds.
    const lxS = sTaken >= 0 ? Math.max(s.logprobs[sTaken]!, floor) : S.missingLogprob;
    const lxA = aTaken >= 0 ? Math.max(a.logprobs[aTaken]!, floor) : A.missingLogprob;
    const logpSx = lxS / T - S.logZ;
    const logpAx = lxA / T - A.logZ;
    const deltaPath = logpSx - logpAx;
    const lxSHigh = sTaken >= 0 ? lxS : S.missingLogprobHigh;
    const lxAHigh = aTaken >= 0 ? lxA : A.missingLogprobHigh;
    const lxSLow = sTaken >= 0 || !this.raw ? lxS : -Infinity;
    const lxALow = aTaken >= 0 || !this.raw ? lxA : -Infinity;
    out.deltaPathLow = lxSLow / T - S.logZHigh - (lxAHigh / T - A.logZLow);
    out.deltaPathHigh = lxSHigh / T - S.logZLow - (lxALow / T - A.logZHigh);

    // A_t and the two coverage masses Σ_{A_t} p^T: C/Z with C over A_t, scaled like Z.
    const cov = this.cov;
    const nCov = topEntries(a.ids, a.logprobs, a.ranks, this.opts.kCov, cov);
    let cA = 0;
    let cS = 0;
    let missing = 0;
    for (let c = 0; c < nCov; c++) {
      const i = cov[c]!;
      cA += wA[i]!;
      const j = this.sIndex.get(a.ids[i]!);
      if (j >= 0) cS += wS[j]!;
      else missing++;
    }
    let missEst: number;
    let missHigh: number;
    if (!this.raw) {
      missEst = missHigh = missing * Math.exp(floor / T - S.shift);
    } else {
      const tm = S.tailModel!;
      missEst = missing > 0 && tm.logEstimate > -Infinity
        ? Math.exp(Math.log(Math.min(missing * Math.exp(tm.logEstimate), tm.mass)) + (1 / T - 1) * tm.logEstimate - S.shift)
        : 0;
      missHigh = missingHigh(missing, tm, T, S.shift);
    }
    const massA = cA / (A.returned + A.tail.estimate);
    const massS = (cS + missEst) / (S.returned + S.tail.estimate);
    const logMassA = Math.log(massA + eps);
    const logMassS = Math.log(massS + eps);
    const gcov = logMassA - logMassS;
    if (this.raw) {
      const massALow = cA / (A.returned + A.tail.high);
      const massAHigh = cA / (A.returned + A.tail.low);
      const massSLow = cS / (S.returned + S.tail.high);
      const massSHigh = (cS + missHigh) / (S.returned + Math.max(S.tail.low, missHigh));
      out.gcovLow = Math.log(massALow + eps) - Math.log(massSHigh + eps);
      out.gcovHigh = Math.log(massAHigh + eps) - Math.log(massSLow + eps);
    } else {
      out.gcovLow = out.gcovHigh = gcov;
    }

    // The top-K part of KL(p_S^T ‖ p_A^T) over S's entries.
    const missingA = A.missingLogprob / T - A.logZ;
    let kl = 0;
    for (let i = 0; i < K; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const logp = lp / T - S.logZ;
      const p = Math.exp(logp);
      if (p > 0) {
        const ai = this.aIndex.get(s.ids[i]!);
        kl += p * (logp - (ai >= 0 ? Math.max(a.logprobs[ai]!, floor) / T - A.logZ : missingA));
      }
    }

    const tau = this.opts.jTolerance;
    const dPos = deltaPath > tau * Math.max(1, Math.abs(logpSx), Math.abs(logpAx)) ? deltaPath : 0;
    const gPos = gcov > tau * Math.max(1, Math.abs(logMassA), Math.abs(logMassS)) ? gcov : 0;
    out.paired = true;
    out.deltaPath = deltaPath;
    out.gcov = gcov;
    out.j = dPos + gPos;
    out.kl = Math.max(0, kl);
    return out;
  }

  /**
   * A slice's weights w_i = exp(lp_i/T − shift) into `w`, and its normalizer: under
   * 'fullVocabulary' the returned part plus the tail estimate (truncatedTail.ts); under
   * 'renormalizeTopK' the returned part alone.
   */
  private normalize(slice: TopKSlice, n: number, w: Float64Array, token: number, which: string, position: number): Normalized {
    const { temperature: T, floorLogprob: floor } = this.opts;
    const lps = slice.logprobs;
    let shift = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = Math.max(lps[i]!, floor) / T;
      if (v > shift) shift = v;
    }
    let returned = 0;
    for (let i = 0; i < n; i++) returned += w[i] = Math.exp(Math.max(lps[i]!, floor) / T - shift);
    const logReturned = shift + Math.log(returned);
    if (!this.raw) {
      return { shift, returned, tail: { estimate: 0, low: 0, high: 0 }, tailModel: null, logZ: logReturned, logZLow: logReturned, logZHigh: logReturned, missingLogprob: floor, missingLogprobHigh: floor };
    }
    const mass1 = this.returnedMass(lps, n);
    if (mass1 > 1 + this.opts.rawMassTolerance) {
      throw new InvalidLogprobError(
        `position ${position}: ${which} top-K probabilities sum to ${mass1.toFixed(6)} > 1, so these are not raw log-probs ` +
          `normalized over the full vocabulary; for processed log-probs set normalization: 'renormalizeTopK'.`,
      );
    }
    let tailModel = rawTail(mass1, smallestTopProbability(slice, n, token, floor), this.opts.tailFraction);
    if (tailModel.mass < this.opts.tailMassFloor) tailModel = { mass: 0, bound: 0, logEstimate: -Infinity };
    const tail = tailContribution(tailModel, T, shift);
    const missingLogprobHigh = tailModel.bound > 0 ? Math.max(Math.log(tailModel.bound), floor) : floor;
    return {
      shift,
      returned,
      tail,
      tailModel,
      logZ: shift + Math.log(returned + tail.estimate),
      logZLow: shift + Math.log(returned + tail.low),
      logZHigh: shift + Math.log(returned + tail.high),
      missingLogprob: tailModel.logEstimate > -Infinity ? Math.max(tailModel.logEstimate, floor) : floor,
      missingLogprobHigh,
    };
  }

  /**
   * Σ exp(lp) over a slice, summed from the smallest term up, so the sum (and the unreturned mass
   * 1 − Σ, which cancels catastrophically when small) is the same whatever order the entries came in.
   */
  private returnedMass(lps: ArrayLike<number>, n: number): number {
    const floor = this.opts.floorLogprob;
    let sum = 0;
    if (isDescending(lps)) {
      for (let i = n - 1; i >= 0; i--) sum += Math.exp(Math.max(lps[i]!, floor));
      return sum;
    }
    if (this.terms.length < n) this.terms = new Float64Array(Math.max(n, this.terms.length * 2));
    const terms = this.terms.subarray(0, n);
    for (let i = 0; i < n; i++) terms[i] = Math.exp(Math.max(lps[i]!, floor));
    terms.sort();
    for (let i = 0; i < n; i++) sum += terms[i]!;
    return sum;
  }

  private meanOfLargest(values: ArrayLike<number>, n: number, k: number, floor: number): number {
    const m = Math.min(k, n);
    if (m === 0) return NaN;
    let sum = 0;
    if (m === n || isDescending(values)) {
      for (let i = 0; i < m; i++) sum += Math.max(values[i]!, floor);
      return sum / m;
    }
    const idx = this.order;
    idx.length = n;
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((x, y) => values[y]! - values[x]!);
    for (let i = 0; i < m; i++) sum += Math.max(values[idx[i]!]!, floor);
    return sum / m;
  }
}

/**
 * The largest probability an unreturned token can have: the smallest probability of the slice's
 * top block. With ranks the block is the entries of rank ≤ n (a larger rank marks a token the
 * server appended from below its top-k); without ranks, the taken token, when it is the unique
 * smallest entry, may be such an appended token, so the next smallest is used (valid either way).
 */
function smallestTopProbability(slice: TopKSlice, n: number, token: number, floor: number): number {
  const { ids, logprobs: lps, ranks } = slice;
  let min = Infinity;
  if (ranks) {
    for (let i = 0; i < n; i++) if (ranks[i]! <= n && lps[i]! < min) min = lps[i]!;
  } else {
    let minAt = -1;
    let second = Infinity;
    for (let i = 0; i < n; i++) {
      const v = lps[i]!;
      if (v < min) {
        second = min;
        min = v;
        minAt = i;
      } else if (v < second) second = v;
    }
    if (n > 1 && ids[minAt] === token && second > min) min = second;
  }
  return min === Infinity ? 0 : Math.exp(Math.max(min, floor));
}

function isDescending(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! > values[i - 1]!) return false;
  return true;
}

function duplicateError(slice: TopKSlice, at: number, which: string, position: number): InvalidLogprobError {
  return new InvalidLogprobError(`position ${position}: ${which} top-K lists token id ${slice.ids[at]} twice (entry #${at}); each id must appear once.`);
}

/** Validates a slice and returns its length. */
function checkSlice(slice: TopKSlice, which: string, position: number): number {
  const n = slice.logprobs.length;
  if (slice.ids.length !== n) {
    throw new InvalidLogprobError(`position ${position}: ${which} top-K has ${slice.ids.length} ids but ${n} log-probs`);
  }
  for (let i = 0; i < n; i++) {
    const lp = slice.logprobs[i]!;
    // NaN fails the comparison; −Infinity is a valid (zero-probability) log-prob, clamped to the floor.
    if (!(lp <= 1e-6)) {
      throw new InvalidLogprobError(
        `position ${position}: ${which} log-prob #${i} is ${lp}; expected a finite value ≤ 0 (natural log). ` +
          'Check the endpoint\'s logprobs output; values below the floor are clamped to it.',
      );
    }
  }
  const ranks = slice.ranks;
  if (ranks) {
    if (ranks.length !== n) throw new InvalidLogprobError(`position ${position}: ${which} top-K has ${ranks.length} ranks for ${n} log-probs; pass one rank per entry or none`);
    for (let i = 0; i < n; i++) {
      if (!(ranks[i]! >= 1)) throw new InvalidLogprobError(`position ${position}: ${which} rank #${i} is ${ranks[i]}; ranks are 1-based (vLLM's "rank")`);
    }
  }
  return n;
}
