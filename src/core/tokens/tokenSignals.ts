import { DEFAULTS } from '../defaults.js';
import { logSumExpScaled } from './temperedLogProbs.js';

/** A top-K slice as parallel arrays (token ids, temperature-1 log-probs). */
export interface TopKSlice {
  readonly ids: ArrayLike<number>;
  readonly logprobs: ArrayLike<number>;
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
}

/**
 * Per-position signals (method.md, "Per-token signals"). The ancestor-based ones are NaN when
 * the position has no ancestor scores (`paired` is then false).
 */
export interface TokenSignals {
  /** S and A both had scores here. */
  paired: boolean;
  /** Δpath_t = log p_S^T(x_t) − log p_A^T(x_t). */
  deltaPath: number;
  /** G_cov_t = log((Σ_{y∈A_t} p_A^T(y) + ε) / (Σ_{y∈A_t} p_S^T(y) + ε)), A_t = A's top-k_cov. */
  gcov: number;
  /** J_t = max(0, Δpath_t) + max(0, G_cov_t). */
  j: number;
  /** KL(p_S^T ‖ p_A^T) over S's top-K, clamped at 0. */
  kl: number;
  /** Var_{y∼p_S^T}[lp_S(y)]: probability-weighted variance of S's (temperature-1) log-probs. */
  logitVar: number;
  /** H(p_S^T) over S's top-K, in nats. */
  entropy: number;
  /** The taken token's temperature-1 log-prob under S (its lowest top-K log-prob if absent). */
  takenLogprob: number;
  /** DeepConf token confidence: −mean of S's top-`confidenceTopK` temperature-1 log-probs. */
  confidence: number;
}

export function tokenSignalDefaults(): TokenSignalOptions {
  return {
    temperature: DEFAULTS.temperature,
    kCov: DEFAULTS.kCov,
    floorLogprob: DEFAULTS.floorLogprob,
    epsilon: DEFAULTS.epsilon,
    confidenceTopK: DEFAULTS.confidenceTopK,
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

  /** Indexes `ids` (the first occurrence of an id wins). */
  load(ids: ArrayLike<number>): void {
    this.generation++;
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i]!;
      if (id >= this.stamp.length) this.grow(id);
      this.stamp[id] = this.generation;
      this.pos[id] = i;
    }
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

/**
 * Computes TokenSignals for one position at a time, reusing its scratch space so a whole trace
 * can be streamed with O(K) memory and no allocation per position. Not re-entrant: `compute`
 * returns the same object each call.
 */
export class TokenSignalComputer {
  private readonly opts: TokenSignalOptions;
  private readonly sIndex = new SliceIndex();
  private readonly aIndex = new SliceIndex();
  private logpS = new Float64Array(128);
  private pS = new Float64Array(128);
  private order: number[] = [];
  private readonly out: TokenSignals = {
    paired: false,
    deltaPath: NaN,
    gcov: NaN,
    j: NaN,
    kl: NaN,
    logitVar: NaN,
    entropy: NaN,
    takenLogprob: NaN,
    confidence: NaN,
  };

  constructor(options: Partial<TokenSignalOptions> = {}) {
    this.opts = { ...tokenSignalDefaults(), ...options };
    if (!(this.opts.temperature > 0)) throw new RangeError(`temperature must be > 0, got ${this.opts.temperature}`);
    if (!(this.opts.kCov >= 1)) throw new RangeError(`kCov must be ≥ 1, got ${this.opts.kCov}`);
  }

  /** Signals of one position; throws InvalidLogprobError on NaN or positive log-probs. */
  compute(step: StepInput, position = 0): TokenSignals {
    const { temperature: T, floorLogprob: floor } = this.opts;
    const s = step.specialist;
    const out = this.out;
    const K = checkSlice(s, 'specialist', position);
    if (this.logpS.length < K) {
      this.logpS = new Float64Array(Math.max(K, this.logpS.length * 2));
      this.pS = new Float64Array(this.logpS.length);
    }
    const logpS = this.logpS;
    const pS = this.pS;

    // Tempered distribution over the top-K with one exp per entry: w = exp(lp/T − max), p = w/Σw.
    let max = -Infinity;
    let sorted = true;
    let minLp = Infinity;
    for (let i = 0; i < K; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      if (lp / T > max) max = lp / T;
      if (i > 0 && s.logprobs[i]! > s.logprobs[i - 1]!) sorted = false;
      if (lp < minLp) minLp = lp;
    }
    let total = 0;
    for (let i = 0; i < K; i++) total += pS[i] = Math.exp(Math.max(s.logprobs[i]!, floor) / T - max);
    const lseS = max + Math.log(total);
    let entropy = 0;
    let mean = 0;
    for (let i = 0; i < K; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const p = (pS[i]! /= total);
      const logp = (logpS[i] = lp / T - lseS);
      if (p > 0) entropy -= p * logp;
      mean += p * lp;
    }
    let variance = 0;
    for (let i = 0; i < K; i++) {
      const d = Math.max(s.logprobs[i]!, floor) - mean;
      variance += pS[i]! * d * d;
    }
    this.sIndex.load(s.ids);
    const sTaken = this.sIndex.get(step.token);
    out.entropy = entropy;
    out.logitVar = variance;
    out.takenLogprob = sTaken >= 0 ? Math.max(s.logprobs[sTaken]!, floor) : K > 0 ? minLp : floor;
    out.confidence = -this.meanOfLargest(s.logprobs, K, sorted, this.opts.confidenceTopK, floor);

    const a = step.ancestor;
    if (!a || a.ids.length === 0) {
      out.paired = false;
      out.deltaPath = out.gcov = out.j = out.kl = NaN;
      return out;
    }
    const KA = checkSlice(a, 'ancestor', position);
    const lseA = logSumExpScaled(a.logprobs, T, floor);
    this.aIndex.load(a.ids);
    const logpAof = (id: number): number => {
      const i = this.aIndex.get(id);
      return (i < 0 ? floor : Math.max(a.logprobs[i]!, floor)) / T - lseA;
    };
    const floorS = floor / T - lseS;

    const deltaPath = (sTaken >= 0 ? logpS[sTaken]! : floorS) - logpAof(step.token);

    // A_t: the ancestor's top-k_cov tokens by log-prob; S's mass on them from its top-K. Both masses
    // use the same formula, exp(log p^T), so identical distributions give G_cov = 0 exactly (a
    // rounding-level positive G_cov would count as J > 0 in spread).
    let massA = 0;
    let massS = 0;
    const kCov = Math.min(this.opts.kCov, KA);
    const cov = isSortedDescending(a.logprobs) ? null : this.topIndices(a.logprobs, kCov);
    const pFloorS = Math.exp(floorS);
    for (let c = 0; c < kCov; c++) {
      const i = cov ? cov[c]! : c;
      massA += Math.exp(Math.max(a.logprobs[i]!, floor) / T - lseA);
      const j = this.sIndex.get(a.ids[i]!);
      massS += j >= 0 ? Math.exp(logpS[j]!) : pFloorS;
    }
    const eps = this.opts.epsilon;
    const gcov = Math.log((massA + eps) / (massS + eps));

    let kl = 0;
    for (let i = 0; i < K; i++) {
      const p = pS[i]!;
      if (p > 0) kl += p * (logpS[i]! - logpAof(s.ids[i]!));
    }

    out.paired = true;
    out.deltaPath = deltaPath;
    out.gcov = gcov;
    out.j = Math.max(0, deltaPath) + Math.max(0, gcov);
    out.kl = Math.max(0, kl);
    return out;
  }

  /** Indices of the k largest values of an unsorted slice. */
  private topIndices(values: ArrayLike<number>, k: number): number[] {
    const idx = this.order;
    idx.length = values.length;
    for (let i = 0; i < values.length; i++) idx[i] = i;
    idx.sort((x, y) => values[y]! - values[x]!);
    idx.length = k;
    return idx;
  }

  private meanOfLargest(values: ArrayLike<number>, n: number, sorted: boolean, k: number, floor: number): number {
    const m = Math.min(k, n);
    if (m === 0) return NaN;
    const top = sorted ? null : this.topIndices(values, m);
    let sum = 0;
    for (let i = 0; i < m; i++) sum += Math.max(values[top ? top[i]! : i]!, floor);
    return sum / m;
  }
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
  return n;
}

function isSortedDescending(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! > values[i - 1]!) return false;
  return true;
}
