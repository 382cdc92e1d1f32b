import { WEIGHTS_WASM_BASE64 } from './weightsWasm.js';

/** The little of the WebAssembly API used here (the compiler's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
interface WeightsExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  expArray(src: number, dst: number, n: number): void;
  fexpArray(src: number, dst: number, n: number): void;
  exactMass(src: number, n: number): number;
  scanWeigh(ids: number, raw: number, cs: number, w: number, n: number, token: number, floor: number, invT: number, mass: number, tab: number, mask: number, shift: number, gen: number): number;
  pair(sc: number, sw: number, ac: number, aw: number, aIds: number, aOnS: number, flags: number, K: number, KA: number, mode: number, kCov: number, aMissing: number,
       tab: number, mask: number, shift: number, gen: number, invR: number, mean: number, vmax: number, invT: number, logR: number, dZ: number): void;
}

/** Entries of one slot's flat arrays that `stage` copies in at most (48 KiB a slot: a block stays in L2). */
export const STAGE_ENTRIES = 1 << 12;

/** How `pair` picks A_t among the ancestor's entries: 0 all of them, 1 the first k_cov, 2 those flagged. */
export type CoverageMode = 0 | 1 | 2;

/**
 * The token-signal kernel's loops in WebAssembly (weights.wat). `scanWeigh` copies a slice in and
 * runs the scan (validation, order, clamping, the id table) and the exp-heavy pass: clamped
 * log-probs c_i in `input(slot)`, w_i = exp((c_i − vmax)/T) in `weights(slot)`, Σ w, Σ w·c, Σ exp(c)
 * (summed last entry first, as the JavaScript loop), in SIMD; its exp is within 2 ulp of Math.exp,
 * but Σ exp(c) of a slice whose largest probability is ≥ 0.99 (`massExact`) and `exactMass` use
 * the module's copy of Math.exp (V8's fdlibm exp), so those sums are the JavaScript loop's bits.
 * `pair` matches the ancestor's ids in the specialist's table and sums the coverage masses, the
 * logit variance, the entropy and KL. Everything but exp is the JavaScript kernel's arithmetic in
 * the same order, so bit for bit the same. `stage` copies a block of a flat trace's entries in
 * at once, so that `scanWeigh` reads the slices within it in place. Two slots: 0 for the
 * specialist, 1 for the ancestor. One module instance is shared; calls are synchronous and a
 * slot's arrays are only read until its next use.
 */
export class WasmWeights {
  returned = 0;
  sumWV = 0;
  mass1 = 0;
  /** The scan's results (scanWeigh). */
  vmax = 0;
  min = 0;
  second = 0;
  minAt = -1;
  tokenAt = -1;
  descending = true;
  canonical = true;
  /** Whether `mass1` was summed with the module's copy of Math.exp (a slice whose largest probability is ≥ 0.99). */
  massExact = false;
  /** The paired pass's results (pair). */
  cA = 0;
  cS = 0;
  missing = 0;
  variance = 0;
  entropy = 0;
  kl = 0;
  private capacity = 0;
  private f64!: Float64Array;
  private i32!: Int32Array;
  private u8!: Uint8Array;
  private readonly inputs: Float64Array[] = [];
  private readonly outputs: Float64Array[] = [];
  /** Byte offsets of each slot's raw log-probs, ids and id table; of A's values aligned on S; of A_t's flags. */
  private readonly rawAt = [0, 0];
  private readonly idsAt = [0, 0];
  private readonly tableAt = [0, 0];
  private readonly generation = [0, 0];
  private aOnSAt = 0;
  private flagsAt = 0;
  /** Per slot: where staged entries live (ids, log-probs), and whose entries [lo, hi) they are. */
  private readonly stageIdsAt = [0, 0];
  private readonly stageLpAt = [0, 0];
  /** Where each slot's last scanned ids are (its own region, or within the staged entries): `pair` reads A's there. */
  private readonly scannedIdsAt = [0, 0];
  private readonly staged: ({ ids: Int32Array; logprobs: Float64Array; lo: number; hi: number } | null)[] = [null, null];
  private tableMask = 0;
  private tableShift = 0;

  constructor(private readonly exports: WeightsExports) {
    this.layout(256);
  }

  /** Room for slices of n entries; call before filling a position's first slot (growing moves both). */
  reserve(n: number): void {
    if (n > this.capacity) this.layout(n);
  }

  /** A slot's clamped log-probs after `scanWeigh` (and `exp`'s inputs). */
  input(slot: 0 | 1): Float64Array {
    return this.inputs[slot]!;
  }

  /** A slot's weights after `scanWeigh`. */
  weights(slot: 0 | 1): Float64Array {
    return this.outputs[slot]!;
  }

  /**
   * Copies entries [start, start + n) of a slice into the slot and scans and weighs them (see
   * the class comment); false when an entry is invalid or an id repeats (then nothing is read:
   * the caller's own loop names the entry).
   */
  scanWeigh(slot: 0 | 1, ids: Int32Array, logprobs: Float64Array, start: number, n: number, token: number, floor: number, invT: number, withMass: boolean): boolean {
    let idsAt = this.idsAt[slot]!;
    let rawAt = this.rawAt[slot]!;
    const st = this.staged[slot]!;
    if (st !== null && st.ids === ids && st.logprobs === logprobs && start >= st.lo && start + n <= st.hi) {
      idsAt = this.stageIdsAt[slot]! + 4 * (start - st.lo);
      rawAt = this.stageLpAt[slot]! + 8 * (start - st.lo);
    } else {
      this.i32.set(ids.subarray(start, start + n), idsAt >> 2);
      this.f64.set(logprobs.subarray(start, start + n), rawAt >> 3);
    }
    this.scannedIdsAt[slot] = idsAt;
    let gen = this.generation[slot]! + 1;
    if (gen === 0x7fffffff) {
      this.clearTable(slot);
      gen = 1;
    }
    this.generation[slot] = gen;
    const status = this.exports.scanWeigh(idsAt, rawAt, this.offset(slot, 0), this.offset(slot, 1), n, token, floor, invT, withMass ? 1 : 0, this.tableAt[slot]!, this.tableMask, this.tableShift, gen);
    if (status !== 0) return false;
    const f64 = this.f64;
    const i32 = this.i32;
    this.returned = f64[0]!;
    this.sumWV = f64[1]!;
    this.mass1 = f64[2]!;
    this.vmax = f64[3]!;
    this.min = f64[4]!;
    this.second = f64[5]!;
    this.minAt = i32[12]!;
    this.tokenAt = i32[13]!;
    this.descending = i32[14] === 1;
    this.canonical = i32[15] === 1;
    this.massExact = i32[27] === 1;
    return true;
  }

  /**
   * The paired pass over the slices last scanned into slot 0 (S, K entries) and slot 1 (A, KA
   * entries): A_t by `mode` (`flags[j]` = 1 marks A's entry j for Flagged), then the sums over S
   * (see the class comment).
   */
  pair(K: number, KA: number, mode: CoverageMode, kCov: number, flags: Uint8Array | null, aMissing: number,
       invR: number, mean: number, vmax: number, invT: number, logR: number, dZ: number): void {
    if (flags !== null) this.u8.set(flags.subarray(0, KA), this.flagsAt);
    this.exports.pair(this.offset(0, 0), this.offset(0, 1), this.offset(1, 0), this.offset(1, 1), this.scannedIdsAt[1]!, this.aOnSAt, this.flagsAt, K, KA, mode, kCov, aMissing,
      this.tableAt[0]!, this.tableMask, this.tableShift, this.generation[0]!, invR, mean, vmax, invT, logR, dZ);
    const f64 = this.f64;
    this.cA = f64[8]!;
    this.cS = f64[9]!;
    this.variance = f64[10]!;
    this.entropy = f64[11]!;
    this.kl = f64[12]!;
    this.missing = this.i32[26]!;
  }

  /**
   * Copies entries [lo, hi) of a slot's flat arrays in at once (at most STAGE_ENTRIES), so that
   * scanWeigh reads the slices within them in place instead of copying each; false when they do
   * not fit. The arrays must not change until `unstage()`.
   */
  stage(slot: 0 | 1, ids: Int32Array, logprobs: Float64Array, lo: number, hi: number): boolean {
    this.staged[slot] = null;
    if (hi - lo > STAGE_ENTRIES || lo < 0 || hi > ids.length || hi > logprobs.length) return false;
    this.i32.set(ids.subarray(lo, hi), this.stageIdsAt[slot]! >> 2);
    this.f64.set(logprobs.subarray(lo, hi), this.stageLpAt[slot]! >> 3);
    this.staged[slot] = { ids, logprobs, lo, hi };
    return true;
  }

  /** Forgets what was staged: slices are copied again. */
  unstage(): void {
    this.staged[0] = this.staged[1] = null;
  }

  /**
   * Σ exp(c_i) over the n clamped log-probs last scanned into the slot, with the module's copy of
   * Math.exp (V8's fdlibm exp, the same bits), summed last entry first: the JavaScript loop's sum,
   * bit for bit.
   */
  exactMass(slot: 0 | 1, n: number): number {
    return this.exports.exactMass(this.offset(slot, 0), n);
  }

  /** The module's copy of Math.exp on the values, for tests. */
  exactExp(values: Float64Array): Float64Array {
    return this.throughArray(this.exports.fexpArray, values);
  }

  /** The module's (2-ulp) exp on the values, for tests. */
  exp(values: Float64Array): Float64Array {
    return this.throughArray(this.exports.expArray, values);
  }

  /** `fn` (one of the module's array exps, which take an even count) over the values, through slot 0. */
  private throughArray(fn: (src: number, dst: number, n: number) => void, values: Float64Array): Float64Array {
    const n = values.length + (values.length % 2);
    this.reserve(n);
    this.input(0).set(values);
    fn(this.offset(0, 0), this.offset(0, 1), n);
    return this.weights(0).slice(0, values.length);
  }

  // Layout: results in bytes [0, 128); then per slot an input and an output region of capacity + 2
  // doubles, each starting one double in (scratch for an odd count's extra lane); then per slot
  // the raw log-probs (capacity doubles) and ids (capacity int32); A's values aligned on S
  // (capacity doubles); per slot an id table (keys, values, stamps: 3 × size int32, size ≥ 4 ×
  // capacity so probes stay short); A_t's flags (capacity bytes).
  private offset(slot: number, region: number): number {
    return 128 + 8 + (slot * 2 + region) * (this.capacity + 2) * 8;
  }

  private layout(n: number): void {
    let capacity = Math.max(256, this.capacity);
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    let at = this.offset(2, 0);
    for (const slot of [0, 1]) {
      this.rawAt[slot] = at;
      at += capacity * 8;
    }
    this.aOnSAt = at;
    at += capacity * 8;
    for (const slot of [0, 1]) {
      this.idsAt[slot] = at;
      at += capacity * 4;
    }
    const size = 4 * capacity; // a power of two, as capacity is
    for (const slot of [0, 1]) {
      this.tableAt[slot] = at;
      at += 3 * size * 4;
    }
    this.tableMask = size - 1;
    this.tableShift = 32 - Math.log2(size);
    this.flagsAt = at;
    at += capacity + 8 - (capacity % 8);
    for (const slot of [0, 1]) {
      this.stageIdsAt[slot] = at;
      at += STAGE_ENTRIES * 4;
      this.stageLpAt[slot] = at;
      at += STAGE_ENTRIES * 8;
    }
    this.unstage(); // the layout moved
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength / 65536;
    const need = Math.ceil(at / 65536);
    if (need > have) memory.grow(need - have);
    this.f64 = new Float64Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
    for (const slot of [0, 1] as const) {
      this.inputs[slot] = new Float64Array(memory.buffer, this.offset(slot, 0), capacity);
      this.outputs[slot] = new Float64Array(memory.buffer, this.offset(slot, 1), capacity);
      this.clearTable(slot);
    }
  }

  /** Empties a slot's id table: no stamp is a generation in use. */
  private clearTable(slot: 0 | 1): void {
    const size = this.tableMask + 1;
    this.i32.fill(0, (this.tableAt[slot]! >> 2) + 2 * size, (this.tableAt[slot]! >> 2) + 3 * size);
    this.generation[slot] = 0;
  }
}

/** The shared instance, or null where WebAssembly SIMD is not available (the JavaScript loop then runs). */
export const wasmWeights: WasmWeights | null = (() => {
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) return null;
    const bytes = Uint8Array.from(atob(WEIGHTS_WASM_BASE64), (c) => c.charCodeAt(0));
    return new WasmWeights(new wasm.Instance(new wasm.Module(bytes), {}).exports as WeightsExports);
  } catch {
    return null;
  }
})();
