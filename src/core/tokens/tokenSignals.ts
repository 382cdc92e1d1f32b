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
 * Computes TokenSignals for one position at a time, reusing its scratch space so a whole trace
 * can be streamed with O(K) memory. Not re-entrant: `compute` returns the same object each call.
 */
export class TokenSignalComputer {
  private readonly opts: TokenSignalOptions;
  private readonly specialistIndex = new Map<number, number>();
  private readonly ancestorIndex = new Map<number, number>();
  private sortScratch: number[] = [];
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
    checkSlice(s, 'specialist', position, floor);
    const lseS = logSumExpScaled(clampView(s.logprobs, floor), T);

    indexSlice(s, this.specialistIndex);
    const sTaken = this.specialistIndex.get(step.token);

    // Specialist-only: entropy, logit variance (weights p_S^T, values raw lp), confidence.
    let entropy = 0;
    let mean = 0;
    for (let i = 0; i < s.logprobs.length; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const logp = lp / T - lseS;
      const p = Math.exp(logp);
      if (p > 0) entropy -= p * logp;
      mean += p * lp;
    }
    let variance = 0;
    for (let i = 0; i < s.logprobs.length; i++) {
      const lp = Math.max(s.logprobs[i]!, floor);
      const p = Math.exp(lp / T - lseS);
      const d = lp - mean;
      variance += p * d * d;
    }
    out.entropy = entropy;
    out.logitVar = variance;
    out.takenLogprob = sTaken !== undefined ? Math.max(s.logprobs[sTaken]!, floor) : minOf(s.logprobs, floor);
    out.confidence = -this.meanOfLargest(s.logprobs, this.opts.confidenceTopK, floor);

    const a = step.ancestor;
    if (!a || a.ids.length === 0) {
      out.paired = false;
      out.deltaPath = out.gcov = out.j = out.kl = NaN;
      return out;
    }
    checkSlice(a, 'ancestor', position, floor);
    const lseA = logSumExpScaled(clampView(a.logprobs, floor), T);
    indexSlice(a, this.ancestorIndex);

    const logpS = (id: number): number => {
      const i = this.specialistIndex.get(id);
      return (i === undefined ? floor : Math.max(s.logprobs[i]!, floor)) / T - lseS;
    };
    const logpA = (id: number): number => {
      const i = this.ancestorIndex.get(id);
      return (i === undefined ? floor : Math.max(a.logprobs[i]!, floor)) / T - lseA;
    };

    const deltaPath = logpS(step.token) - logpA(step.token);

    // A_t: the ancestor's top-k_cov tokens by log-prob.
    let massA = 0;
    let massS = 0;
    const cov = this.topIndices(a.logprobs, this.opts.kCov);
    for (let c = 0; c < cov.length; c++) {
      const i = cov[c]!;
      massA += Math.exp(Math.max(a.logprobs[i]!, floor) / T - lseA);
      massS += Math.exp(logpS(a.ids[i]!));
    }
    const eps = this.opts.epsilon;
    const gcov = Math.log((massA + eps) / (massS + eps));

    let kl = 0;
    for (let i = 0; i < s.logprobs.length; i++) {
      const logp = Math.max(s.logprobs[i]!, floor) / T - lseS;
      const p = Math.exp(logp);
      if (p > 0) kl += p * (logp - logpA(s.ids[i]!));
    }

    out.paired = true;
    out.deltaPath = deltaPath;
    out.gcov = gcov;
    out.j = Math.max(0, deltaPath) + Math.max(0, gcov);
    out.kl = Math.max(0, kl);
    return out;
  }

  /** Indices of the k largest values (all of them when there are ≤ k); order not guaranteed. */
  private topIndices(values: ArrayLike<number>, k: number): ArrayLike<number> {
    const n = values.length;
    const idx = this.sortScratch;
    idx.length = n;
    for (let i = 0; i < n; i++) idx[i] = i;
    if (n <= k) return idx;
    if (!isSortedDescending(values)) idx.sort((x, y) => values[y]! - values[x]!);
    idx.length = k;
    return idx;
  }

  private meanOfLargest(values: ArrayLike<number>, k: number, floor: number): number {
    const top = this.topIndices(values, k);
    if (top.length === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < top.length; i++) sum += Math.max(values[top[i]!]!, floor);
    return sum / top.length;
  }
}

function indexSlice(slice: TopKSlice, index: Map<number, number>): void {
  index.clear();
  // First occurrence wins if a server repeats an id.
  for (let i = slice.ids.length - 1; i >= 0; i--) index.set(slice.ids[i]!, i);
}

function checkSlice(slice: TopKSlice, which: string, position: number, floor: number): void {
  if (slice.ids.length !== slice.logprobs.length) {
    throw new InvalidLogprobError(
      `position ${position}: ${which} top-K has ${slice.ids.length} ids but ${slice.logprobs.length} log-probs`,
    );
  }
  for (let i = 0; i < slice.logprobs.length; i++) {
    const lp = slice.logprobs[i]!;
    // NaN fails the comparison; −Infinity is a valid (zero-probability) log-prob, clamped to the floor.
    if (!(lp <= 1e-6)) {
      throw new InvalidLogprobError(
        `position ${position}: ${which} log-prob #${i} is ${lp}; expected a finite value ≤ 0 (natural log). ` +
          `Check the endpoint's logprobs output; values below ${floor} are clamped to the floor.`,
      );
    }
  }
}

/** Log-probs clamped to the floor, without copying when nothing needs clamping. */
function clampView(values: ArrayLike<number>, floor: number): ArrayLike<number> {
  for (let i = 0; i < values.length; i++) {
    if (values[i]! < floor) return Array.from(values, (v) => Math.max(v, floor));
  }
  return values;
}

function minOf(values: ArrayLike<number>, floor: number): number {
  let m = Infinity;
  for (let i = 0; i < values.length; i++) m = Math.min(m, values[i]!);
  return m === Infinity ? floor : Math.max(m, floor);
}

function isSortedDescending(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! > values[i - 1]!) return false;
  return true;
}
