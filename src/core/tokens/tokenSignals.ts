import { DEFAULTS, type LogprobNormalization } from '../defaults.js';
import { IdTable } from './idTable.js';
import { missingHigh, tailContribution } from './truncatedTail.js';
import { topEntries } from './topEntries.js';
import { STAGE_ENTRIES, type WasmWeights, wasmWeights } from './wasmWeights.js';

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
  /** Run the exp pass in WebAssembly SIMD where available (default); false: Math.exp in JavaScript. */
  wasm?: boolean;
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


/** One model's slice at a position, as the kernel sees it: entries [start, start + length) of flat typed arrays. */
export interface SliceView {
  ids: Int32Array;
  logprobs: Float64Array;
  ranks: Int32Array | null;
  start: number;
  length: number;
}

/** What the kernel keeps of one model's slice for the signals (all sums scaled by exp(−shift)). */
class ModelState {
  /** vmax = max clamped log-prob; shift = vmax / T. */
  vmax = 0;
  shift = 0;
  /** Σ_returned exp((v − vmax)/T). */
  returned = 0;
  /** Σ_returned exp((v − vmax)/T)·v, for the mean log-prob under p̃. */
  sumWV = 0;
  /** Σ_returned exp(v) (T = 1), for the unreturned mass. */
  mass1 = 0;
  /** Entries in raw log-prob descending order / canonical order (ties by id). */
  descending = true;
  canonical = true;
  /** Smallest raw log-prob, its entry, and the next smallest value. */
  min = Infinity;
  minAt = -1;
  second = Infinity;
  /** Entry of the taken token, or −1. */
  tokenAt = -1;
  /** Tail model (fullVocabulary): mass m, bound p_b, log q̂; and its scaled contribution to Z. */
  tailMass = 0;
  tailBound = 0;
  logEstimate = -Infinity;
  tailEstimate = 0;
  /** log Z_T and the T = 1 log-prob of a token missing from the slice. */
  logZ = 0;
  missing = 0;
  /** The JavaScript pass's own arrays for c and w. */
  jsC = new Float64Array(128);
  jsW = new Float64Array(128);
  /** Clamped log-probs c_i = max(lp_i, floor), and w_i = exp((c_i − vmax)/T), per entry: the JavaScript pass's arrays or views into the WebAssembly memory. */
  c: Float64Array = this.jsC;
  w: Float64Array = this.jsW;
}

/**
 * Below this unreturned mass the kernel sums Σp with Math.exp's bits even on the WebAssembly path
 * (the module's copy of it, unless the module did so already): 1 − Σp loses relative precision as
 * it shrinks, and there the module's 2-ulp exp would show.
 */
const EXACT_MASS_BELOW = 1e-2;

/**
 * Computes TokenSignals for one position at a time, reusing its scratch space so a whole trace
 * can be streamed with O(K) memory and no allocation per position. Not re-entrant: `compute`
 * returns the same object each call.
 *
 * One fused kernel over flat typed arrays does the work (`computeAt`): per slice one pass that
 * validates, clamps and indexes the ids in an L1-sized table (duplicates refused), then the
 * weights with two exps per entry (its exp is within 2 ulp of Math.exp; Σp is summed with Math.exp's
 * bits where the unreturned mass may be small), summed smallest term first for sorted slices so results do not
 * depend on the entries' order; A's ids are matched against S's table once, which gives A_t's
 * masses and KL's alignment without looking S's ids up in A; a last pass over S gives logit
 * variance, entropy and KL together. Where WebAssembly SIMD is available these loops run in it
 * (wasmWeights.ts: the same arithmetic in the same order as the JavaScript loops, which run
 * otherwise, and which name the entry when the WebAssembly pass refuses a slice); the per-slice
 * tail and normalizer, and everything per position, stay here. `compute(step)` feeds object
 * steps through the same kernel; `stage` lets a flat trace's slices be read without a copy each.
 */
export class TokenSignalComputer {
  private readonly opts: TokenSignalOptions;
  private readonly raw: boolean;
  private readonly invT: number;
  /** The exp-heavy pass in WebAssembly SIMD where available. */
  private readonly wasm: WasmWeights | null;
  private readonly table = new IdTable(128);
  /** Whether each slot's last slice was scanned in WebAssembly (its id table is there) or in JavaScript. */
  private readonly inWasm = [false, false];
  private readonly aTable = new IdTable(32);
  private readonly S = new ModelState();
  private readonly A = new ModelState();
  /** Per S entry: A's clamped log-prob for that token (A's missing value when A did not return it). */
  private aOnS = new Float64Array(128);
  private covFlags = new Uint8Array(128);
  private cov = new Int32Array(128);
  private terms = new Float64Array(128);
  private order: number[] = [];
  private readonly sView: SliceView = { ids: new Int32Array(128), logprobs: new Float64Array(128), ranks: null, start: 0, length: 0 };
  private readonly aView: SliceView = { ids: new Int32Array(128), logprobs: new Float64Array(128), ranks: null, start: 0, length: 0 };
  /** Own copies of object slices that are not typed arrays (never the caller's arrays). */
  private readonly sBuf = { ids: new Int32Array(128), logprobs: new Float64Array(128) };
  private readonly aBuf = { ids: new Int32Array(128), logprobs: new Float64Array(128) };
  private sRanksBuf = new Int32Array(128);
  private aRanksBuf = new Int32Array(128);
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
    this.invT = 1 / o.temperature;
    this.wasm = o.wasm === false ? null : wasmWeights;
  }

  get options(): Readonly<TokenSignalOptions> {
    return this.opts;
  }

  /**
   * Entries a `stage` call can take per model (0 without WebAssembly: then staging does nothing).
   */
  get stageEntries(): number {
    return this.wasm === null ? 0 : STAGE_ENTRIES;
  }

  /**
   * Lets `computeAt` read the slices within entries [sLo, sHi) of S's flat arrays (and [aLo, aHi)
   * of A's) from one copy made here, instead of copying each position's slice into WebAssembly.
   * The arrays must not change until `unstage()`. Nothing changes in the results.
   */
  stage(s: SliceView, sLo: number, sHi: number, a: SliceView | null, aLo: number, aHi: number): void {
    const wasm = this.wasm;
    if (wasm === null) return;
    wasm.stage(0, s.ids, s.logprobs, sLo, sHi);
    if (a !== null) wasm.stage(1, a.ids, a.logprobs, aLo, aHi);
  }

  unstage(): void {
    this.wasm?.unstage();
  }

  /**
   * Signals of one position, with the bounds of Δpath and G_cov (unless `bounds` is false: then
   * they are NaN, and a little time is saved); throws InvalidLogprobError on
   * NaN or positive log-probs, duplicate ids, bad ranks, or raw log-probs summing above 1.
   */
  compute(step: StepInput, position = 0, bounds = true): TokenSignals {
    const s = this.load(step.specialist, this.sView, 'specialist', position, false);
    const a = step.ancestor && step.ancestor.ids.length > 0 ? this.load(step.ancestor, this.aView, 'ancestor', position, true) : null;
    return this.computeAt(s, a, step.token, position, bounds);
  }

  /**
   * The kernel: signals of one position from flat slices (`a` null: no ancestor scores). Bounds
   * (…Low/…High) only when `bounds`; otherwise they are left NaN.
   */
  computeAt(s: SliceView, a: SliceView | null, token: number, position: number, bounds = false): TokenSignals {
    const { floorLogprob: floor } = this.opts;
    const invT = this.invT;
    const out = this.out;
    const K = s.length;
    const S = this.S;
    this.wasm?.reserve(a === null ? K : Math.max(K, a.length));
    this.scanAndWeigh(s, S, 0, this.table, token, 'specialist', position);
    const ws = S.w;
    const lps = s.logprobs;
    const s0 = s.start;
    const R = S.returned;
    const invR = 1 / R;
    const logR = Math.log(R);
    const mean = S.sumWV * invR;
    const minClamped = S.min > floor ? S.min : floor;
    out.takenLogprob = S.tokenAt >= 0 ? Math.max(lps[s0 + S.tokenAt]!, floor) : K > 0 ? minClamped : floor;
    out.confidence = -this.meanOfLargest(s, S.descending, this.opts.confidenceTopK);

    if (a === null || a.length === 0) {
      // Entropy and logit variance over S's returned entries, renormalized over them (method.md).
      let variance = 0;
      let entropy = 0;
      const cs = S.c;
      for (let i = 0; i < K; i++) {
        const v = cs[i]!;
        const p = ws[i]! * invR;
        const d = v - mean;
        variance += p * d * d;
        if (p > 0) entropy -= p * ((v - S.vmax) * invT - logR);
      }
      out.entropy = entropy;
      out.logitVar = variance;
      out.paired = false;
      out.deltaPath = out.deltaPathLow = out.deltaPathHigh = NaN;
      out.gcov = out.gcovLow = out.gcovHigh = out.j = out.kl = NaN;
      return out;
    }
    const A = this.A;
    const KA = a.length;
    this.scanAndWeigh(a, A, 1, this.aTable, token, 'ancestor', position);
    const wa = A.w;
    const alps = a.logprobs;
    const a0 = a.start;

    // Δpath from each model's log p^T of the taken token.
    const lxS = S.tokenAt >= 0 ? Math.max(lps[s0 + S.tokenAt]!, floor) : S.missing;
    const lxA = A.tokenAt >= 0 ? Math.max(alps[a0 + A.tokenAt]!, floor) : A.missing;
    const logpSx = lxS * invT - S.logZ;
    const logpAx = lxA * invT - A.logZ;
    const deltaPath = logpSx - logpAx;

    // A_t and the coverage masses; each A id is matched in S's table once, which also gives KL.
    const kCov = this.opts.kCov;
    const allCov = a.ranks === null && KA <= kCov;
    const firstCov = a.ranks === null && !allCov && A.canonical;
    let flags: Uint8Array | null = null;
    if (!allCov && !firstCov) {
      if (this.covFlags.length < KA) {
        this.covFlags = new Uint8Array(Math.max(KA, this.covFlags.length * 2));
        this.cov = new Int32Array(this.covFlags.length);
      }
      flags = this.covFlags;
      flags.fill(0, 0, KA);
      const n = topEntries(a.ids.subarray(a0, a0 + KA), alps.subarray(a0, a0 + KA), a.ranks ? a.ranks.subarray(a0, a0 + KA) : undefined, kCov, this.cov);
      for (let c = 0; c < n; c++) flags[this.cov[c]!] = 1;
    }
    const wasm = this.inWasm[0] && this.inWasm[1] ? this.wasm : null;
    let cA = 0;
    let cS = 0;
    let missing = 0;
    // A's ids matched in S's table, in WebAssembly with the sums over S below (the same arithmetic).
    if (wasm !== null) {
      wasm.pair(K, KA, allCov ? 0 : firstCov ? 1 : 2, kCov, flags, A.missing, invR, mean, S.vmax, invT, logR, A.logZ - S.logZ);
      cA = wasm.cA;
      cS = wasm.cS;
      missing = wasm.missing;
    } else {
      const table = this.table;
      const aIds = a.ids;
      if (this.aOnS.length < K) this.aOnS = new Float64Array(Math.max(K, this.aOnS.length * 2));
      const aOnS = this.aOnS;
      aOnS.fill(A.missing, 0, K);
      for (let j = 0; j < KA; j++) {
        const idx = table.get(aIds[a0 + j]!);
        const raw = alps[a0 + j]!;
        if (idx >= 0) aOnS[idx] = raw > floor ? raw : floor;
        if (allCov || (firstCov ? j < kCov : flags![j] === 1)) {
          cA += wa[j]!;
          if (idx >= 0) cS += ws[idx]!;
          else missing++;
        }
      }
    }
    let missEst = 0;
    if (!this.raw) missEst = missing * Math.exp(floor * invT - S.shift);
    else if (missing > 0 && S.logEstimate > -Infinity) {
      missEst = Math.exp(Math.log(Math.min(missing * Math.exp(S.logEstimate), S.tailMass)) + (invT - 1) * S.logEstimate - S.shift);
    }
    const eps = this.opts.epsilon;
    const zA = A.returned + A.tailEstimate;
    const zS = R + S.tailEstimate;
    const logMassA = Math.log(cA / zA + eps);
    const logMassS = Math.log((cS + missEst) / zS + eps);
    const gcov = logMassA - logMassS;

    // One pass over S: logit variance and entropy over its returned entries renormalized over
    // them (method.md), and the top-K part of KL(p_S^T ‖ p_A^T):
    // Σ_i p_i((v_i − a_i)/T − log Z_S + log Z_A), p_i = w_i / Z_S.
    let variance = 0;
    let entropy = 0;
    let kl = 0;
    if (wasm !== null) {
      variance = wasm.variance;
      entropy = wasm.entropy;
      kl = wasm.kl;
    } else {
      const dZ = A.logZ - S.logZ;
      const cs = S.c;
      const aOnS = this.aOnS;
      for (let i = 0; i < K; i++) {
        const v = cs[i]!;
        const w = ws[i]!;
        const p = w * invR;
        const d = v - mean;
        variance += p * d * d;
        entropy -= p * ((v - S.vmax) * invT - logR);
        kl += w * ((v - aOnS[i]!) * invT + dZ);
      }
    }
    kl /= zS;
    out.entropy = entropy;
    out.logitVar = variance;

    const tau = this.opts.jTolerance;
    const dPos = deltaPath > tau * Math.max(1, Math.abs(logpSx), Math.abs(logpAx)) ? deltaPath : 0;
    const gPos = gcov > tau * Math.max(1, Math.abs(logMassA), Math.abs(logMassS)) ? gcov : 0;
    out.paired = true;
    out.deltaPath = deltaPath;
    out.gcov = gcov;
    out.j = dPos + gPos;
    out.kl = kl > 0 ? kl : 0;
    if (bounds) this.bounds(lxS, lxA, cA, cS, missing);
    else out.deltaPathLow = out.deltaPathHigh = out.gcovLow = out.gcovHigh = NaN;
    return out;
  }

  /**
   * The pass over a slice, last entry first: validates log-probs (and ranks), clamps them at the
   * floor into M.c, tracks the largest, the two smallest, the order and the taken token, and
   * indexes the ids (duplicates refused). Then the weights w_i = exp((c_i − vmax)/T) with Σ w,
   * Σ w·c and, for raw log-probs, Σ exp(c_i), summed last entry first (smallest term first for a
   * sorted slice, so results do not depend on the entries' order). All of it in WebAssembly where
   * available (wasmWeights.ts; its id table then serves the paired pass), else in JavaScript with
   * Math.exp; a slice the WebAssembly pass refuses goes through the JavaScript loop, which throws
   * naming the entry. Then the normalizer (finishSlice).
   */
  private scanAndWeigh(v: SliceView, M: ModelState, slot: 0 | 1, table: IdTable, token: number, which: string, position: number): void {
    const wasm = this.wasm;
    if (wasm !== null && wasm.scanWeigh(slot, v.ids, v.logprobs, v.start, v.length, token, this.opts.floorLogprob, this.invT, this.raw)) {
      M.c = wasm.input(slot);
      M.w = wasm.weights(slot);
      M.descending = wasm.descending;
      M.canonical = wasm.canonical;
      M.min = wasm.min;
      M.minAt = wasm.minAt;
      M.second = wasm.second;
      M.tokenAt = wasm.tokenAt;
      this.checkRanks(v, which, position);
      this.finishSlice(v, M, token, wasm.vmax, wasm.returned, wasm.sumWV, wasm.mass1, wasm.massExact ? null : slot, which, position);
      this.inWasm[slot] = true;
      return;
    }
    // Without WebAssembly, or to name the entry it refused: the same pass in JavaScript.
    this.inWasm[slot] = false;
    const { ids, logprobs, start, length: n } = v;
    const { floorLogprob: floor } = this.opts;
    const invT = this.invT;
    table.reset(n);
    if (M.jsC.length < n) {
      M.jsC = new Float64Array(Math.max(n, M.jsC.length * 2));
      M.jsW = new Float64Array(M.jsC.length);
    }
    const cs = M.jsC;
    let vmax = -Infinity;
    let descending = true;
    let canonical = true;
    let next = -Infinity;
    let nextId = 0;
    let min = Infinity;
    let minAt = -1;
    let second = Infinity;
    let tokenAt = -1;
    for (let i = n - 1; i >= 0; i--) {
      const raw = logprobs[start + i]!;
      // NaN fails the comparison; −Infinity is a valid (zero-probability) log-prob, clamped to the floor.
      if (!(raw <= 1e-6)) throw firstInvalid(logprobs, start, n, which, position);
      const id = ids[start + i]!;
      if (raw < next) descending = canonical = false;
      else if (raw === next && id > nextId) canonical = false;
      next = raw;
      nextId = id;
      if (raw <= min) {
        second = min;
        min = raw;
        minAt = i;
      } else if (raw < second) second = raw;
      const c = raw > floor ? raw : floor;
      cs[i] = c;
      if (c > vmax) vmax = c;
      if (!table.insert(id, i)) {
        throw new InvalidLogprobError(`position ${position}: ${which} top-K lists token id ${id} twice; each id must appear once.`);
      }
      if (id === token) tokenAt = i;
    }
    this.checkRanks(v, which, position);
    const raw1 = this.raw;
    let returned = 0;
    let sumWV = 0;
    let mass1 = 0;
    const w = M.jsW;
    for (let i = n - 1; i >= 0; i--) {
      const c = cs[i]!;
      const wi = Math.exp((c - vmax) * invT);
      w[i] = wi;
      returned += wi;
      sumWV += wi * c;
      if (raw1) mass1 += Math.exp(c);
    }
    M.c = cs;
    M.w = w;
    M.descending = descending;
    M.canonical = canonical;
    M.min = min;
    M.minAt = minAt;
    M.second = second;
    M.tokenAt = tokenAt;
    this.finishSlice(v, M, token, vmax, returned, sumWV, mass1, null, which, position);
  }

  /** Refuses ranks that are not 1-based. */
  private checkRanks(v: SliceView, which: string, position: number): void {
    const { ranks, start, length: n } = v;
    if (ranks === null) return;
    for (let i = 0; i < n; i++) {
      const r = ranks[start + i]!;
      if (!(r >= 1)) throw new InvalidLogprobError(`position ${position}: ${which} rank #${i} is ${r}; ranks are 1-based (vLLM's "rank")`);
    }
  }

  /**
   * After the scan and the weights: the normalizer, the returned part plus, for raw log-probs, the
   * tail estimate. Σp is re-summed exactly for an unsorted slice, and with the module's copy of
   * Math.exp where it came from the module's own exp (`inexactMassSlot`: the slot it was summed
   * in; null when Σp is Math.exp's already) and the unreturned mass is small.
   */
  private finishSlice(v: SliceView, M: ModelState, token: number, vmax: number, returned: number, sumWV: number, mass1: number, inexactMassSlot: 0 | 1 | null, which: string, position: number): void {
    const { length: n } = v;
    const { floorLogprob: floor } = this.opts;
    const invT = this.invT;
    const raw1 = this.raw;
    M.vmax = vmax;
    M.shift = vmax * invT;
    M.returned = returned;
    M.sumWV = sumWV;
    if (!raw1) {
      M.tailMass = M.tailBound = M.tailEstimate = 0;
      M.logEstimate = -Infinity;
      M.logZ = M.shift + Math.log(returned);
      M.missing = floor;
      return;
    }
    if (!M.descending) mass1 = this.sortedMass(v);
    else if (inexactMassSlot !== null && !(1 - mass1 >= EXACT_MASS_BELOW)) {
      // A small unreturned mass 1 − Σp is ill-conditioned: Σp again with Math.exp's bits, as the JavaScript path.
      mass1 = this.wasm!.exactMass(inexactMassSlot, n);
    }
    if (mass1 > 1 + this.opts.rawMassTolerance) {
      throw new InvalidLogprobError(
        `position ${position}: ${which} top-K probabilities sum to ${mass1.toFixed(6)} > 1, so these are not raw log-probs ` +
          `normalized over the full vocabulary; for processed log-probs set normalization: 'renormalizeTopK'.`,
      );
    }
    M.mass1 = mass1;
    // The tail (truncatedTail.ts): m = 1 − Σp; p_b = min(smallest top-block p, m); q̂ = c·p_b.
    const { tailFraction, tailMassFloor } = this.opts;
    let tailMass = Math.max(0, 1 - mass1);
    let bound = Math.min(Math.exp(Math.max(this.smallestTop(v, M, token), floor)), tailMass);
    if (tailMass < tailMassFloor) tailMass = bound = 0;
    const logEstimate = bound > 0 ? Math.log(tailFraction * bound) : -Infinity;
    M.tailMass = tailMass;
    M.tailBound = bound;
    M.logEstimate = logEstimate;
    M.tailEstimate = tailMass > 0 && bound > 0 ? Math.exp(Math.log(tailMass) + (invT - 1) * logEstimate - M.shift) : 0;
    M.logZ = M.shift + Math.log(returned + M.tailEstimate);
    M.missing = logEstimate > -Infinity ? Math.max(logEstimate, floor) : floor;
  }

  /**
   * The smallest raw log-prob of the slice's top block. With ranks, the entries of rank ≤ n (a
   * larger rank marks a token the server appended from below its top-k); without, the taken
   * token, when it is the unique smallest entry, may be such a token: the next smallest is used.
   */
  private smallestTop(v: SliceView, M: ModelState, token: number): number {
    const { ids, logprobs, ranks, start, length: n } = v;
    if (ranks !== null) {
      let min = Infinity;
      for (let i = 0; i < n; i++) if (ranks[start + i]! <= n && logprobs[start + i]! < min) min = logprobs[start + i]!;
      return min === Infinity ? -Infinity : min;
    }
    if (n > 1 && ids[start + M.minAt] === token && M.second > M.min) return M.second;
    return n > 0 ? M.min : -Infinity;
  }

  /** Σ exp(lp) summed smallest term first (an unsorted slice): independent of the entries' order. */
  private sortedMass(v: SliceView): number {
    const { logprobs, start, length: n } = v;
    const floor = this.opts.floorLogprob;
    if (this.terms.length < n) this.terms = new Float64Array(Math.max(n, this.terms.length * 2));
    const terms = this.terms.subarray(0, n);
    for (let i = 0; i < n; i++) terms[i] = Math.exp(Math.max(logprobs[start + i]!, floor));
    terms.sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += terms[i]!;
    return sum;
  }

  /** Mean of the k largest clamped log-probs of S. */
  private meanOfLargest(v: SliceView, descending: boolean, k: number): number {
    const { logprobs, start, length: n } = v;
    const floor = this.opts.floorLogprob;
    const m = Math.min(k, n);
    if (m === 0) return NaN;
    let sum = 0;
    if (m === n || descending) {
      for (let i = 0; i < m; i++) {
        const raw = logprobs[start + i]!;
        sum += raw > floor ? raw : floor;
      }
      return sum / m;
    }
    const idx = this.order;
    idx.length = n;
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((x, y) => logprobs[start + y]! - logprobs[start + x]!);
    for (let i = 0; i < m; i++) sum += Math.max(logprobs[start + idx[i]!]!, floor);
    return sum / m;
  }

  /** The bounds of Δpath and G_cov over what the truncation leaves unknown (TokenSignals). */
  private bounds(lxS: number, lxA: number, cA: number, cS: number, missing: number): void {
    const out = this.out;
    const { S, A } = this;
    const T = this.opts.temperature;
    if (!this.raw) {
      out.deltaPathLow = out.deltaPathHigh = out.deltaPath;
      out.gcovLow = out.gcovHigh = out.gcov;
      return;
    }
    const eps = this.opts.epsilon;
    const floor = this.opts.floorLogprob;
    const tailS = tailContribution({ mass: S.tailMass, bound: S.tailBound, logEstimate: S.logEstimate }, T, S.shift);
    const tailA = tailContribution({ mass: A.tailMass, bound: A.tailBound, logEstimate: A.logEstimate }, T, A.shift);
    const logZLow = (M: ModelState, t: { low: number }) => M.shift + Math.log(M.returned + t.low);
    const logZHigh = (M: ModelState, t: { high: number }) => M.shift + Math.log(M.returned + t.high);
    const missingHighLp = (M: ModelState) => (M.tailBound > 0 ? Math.max(Math.log(M.tailBound), floor) : floor);
    const lxSHigh = S.tokenAt >= 0 ? lxS : missingHighLp(S);
    const lxAHigh = A.tokenAt >= 0 ? lxA : missingHighLp(A);
    const lxSLow = S.tokenAt >= 0 ? lxS : -Infinity;
    const lxALow = A.tokenAt >= 0 ? lxA : -Infinity;
    out.deltaPathLow = lxSLow / T - logZHigh(S, tailS) - (lxAHigh / T - logZLow(A, tailA));
    out.deltaPathHigh = lxSHigh / T - logZLow(S, tailS) - (lxALow / T - logZHigh(A, tailA));
    const missHigh = missingHigh(missing, { mass: S.tailMass, bound: S.tailBound, logEstimate: S.logEstimate }, T, S.shift);
    const massALow = cA / (A.returned + tailA.high);
    const massAHigh = cA / (A.returned + tailA.low);
    const massSLow = cS / (S.returned + tailS.high);
    const massSHigh = (cS + missHigh) / (S.returned + Math.max(tailS.low, missHigh));
    out.gcovLow = Math.log(massALow + eps) - Math.log(massSHigh + eps);
    out.gcovHigh = Math.log(massAHigh + eps) - Math.log(massSLow + eps);
  }

  /** An object slice as a kernel view: typed arrays are used in place, other arrays copied once. */
  private load(slice: TopKSlice, view: SliceView, which: string, position: number, ancestor: boolean): SliceView {
    const n = slice.logprobs.length;
    if (slice.ids.length !== n) {
      throw new InvalidLogprobError(`position ${position}: ${which} top-K has ${slice.ids.length} ids but ${n} log-probs`);
    }
    const ranks = slice.ranks;
    if (ranks && ranks.length !== n) {
      throw new InvalidLogprobError(`position ${position}: ${which} top-K has ${ranks.length} ranks for ${n} log-probs; pass one rank per entry or none`);
    }
    if (slice.ids instanceof Int32Array && slice.logprobs instanceof Float64Array) {
      view.ids = slice.ids;
      view.logprobs = slice.logprobs;
    } else {
      const buf = ancestor ? this.aBuf : this.sBuf;
      if (buf.ids.length < n) {
        buf.ids = new Int32Array(Math.max(n, 2 * buf.ids.length));
        buf.logprobs = new Float64Array(buf.ids.length);
      }
      for (let i = 0; i < n; i++) {
        buf.ids[i] = slice.ids[i]!;
        buf.logprobs[i] = slice.logprobs[i]!;
      }
      view.ids = buf.ids;
      view.logprobs = buf.logprobs;
    }
    if (!ranks) view.ranks = null;
    else if (ranks instanceof Int32Array) view.ranks = ranks;
    else {
      let buf = ancestor ? this.aRanksBuf : this.sRanksBuf;
      if (buf.length < n) buf = new Int32Array(Math.max(n, 2 * buf.length));
      for (let i = 0; i < n; i++) buf[i] = ranks[i]!;
      if (ancestor) this.aRanksBuf = buf;
      else this.sRanksBuf = buf;
      view.ranks = buf;
    }
    view.start = 0;
    view.length = n;
    return view;
  }
}

/** The error for a slice's first entry that is not a log-probability. */
function firstInvalid(logprobs: Float64Array, start: number, n: number, which: string, position: number): InvalidLogprobError {
  let i = 0;
  while (i < n - 1 && logprobs[start + i]! <= 1e-6) i++;
  return invalidLogprob(which, i, logprobs[start + i]!, position);
}

function invalidLogprob(which: string, i: number, lp: number, position: number): InvalidLogprobError {
  return new InvalidLogprobError(
    `position ${position}: ${which} log-prob #${i} is ${lp}; expected a finite value ≤ 0 (natural log). ` +
      'Check the endpoint\'s logprobs output; values below the floor are clamped to it.',
  );
}
