import { WEIGHTS_WASM_BASE64 } from './weightsWasm.js';

/** The little of the WebAssembly API used here (the compiler's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
interface WeightsExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  weigh(src: number, w: number, n: number, vmax: number, invT: number, mass: number): void;
  expArray(src: number, dst: number, n: number): void;
}

/**
 * The exp-heavy pass of the token-signal kernel in WebAssembly SIMD (weights.wat): for clamped
 * log-probs c_i written into `input(slot)`, w_i = exp((c_i − vmax)/T) into `weights(slot)` and
 * Σ w, Σ w·c, Σ exp(c) (summed last entry first, as the JavaScript loop). Its exp is within 2 ulp
 * of Math.exp. Two slots: 0 for the specialist, 1 for the ancestor. One module instance is
 * shared; calls are synchronous and a slot's arrays are only read until its next use.
 */
export class WasmWeights {
  returned = 0;
  sumWV = 0;
  mass1 = 0;
  private capacity = 0;
  private f64!: Float64Array;
  private readonly inputs: Float64Array[] = [];
  private readonly outputs: Float64Array[] = [];

  constructor(private readonly exports: WeightsExports) {
    this.layout(256);
  }

  /** Room for slices of n entries; call before filling a position's first slot (growing moves both). */
  reserve(n: number): void {
    if (n > this.capacity) this.layout(n);
  }

  /** Where to write a slot's clamped log-probs. */
  input(slot: 0 | 1): Float64Array {
    return this.inputs[slot]!;
  }

  /** A slot's weights after `weigh`. */
  weights(slot: 0 | 1): Float64Array {
    return this.outputs[slot]!;
  }

  weigh(slot: 0 | 1, n: number, vmax: number, invT: number, withMass: boolean): void {
    this.exports.weigh(this.offset(slot, 0), this.offset(slot, 1), n, vmax, invT, withMass ? 1 : 0);
    const f64 = this.f64;
    this.returned = f64[0]!;
    this.sumWV = f64[1]!;
    this.mass1 = f64[2]!;
  }

  /** exp of n (even) values, for tests: the module's exp. */
  exp(values: Float64Array): Float64Array {
    const n = values.length + (values.length % 2);
    this.reserve(n);
    this.input(0).set(values);
    this.exports.expArray(this.offset(0, 0), this.offset(0, 1), n);
    return this.weights(0).slice(0, values.length);
  }

  // Layout: results in bytes [0, 64); then per slot an input and an output region of capacity + 2
  // doubles, each starting one double in (scratch for an odd count's extra lane).
  private offset(slot: number, region: number): number {
    return 64 + 8 + (slot * 2 + region) * (this.capacity + 2) * 8;
  }

  private layout(n: number): void {
    let capacity = Math.max(256, this.capacity);
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    const bytes = 64 + 4 * (capacity + 2) * 8;
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength / 65536;
    const need = Math.ceil(bytes / 65536);
    if (need > have) memory.grow(need - have);
    this.f64 = new Float64Array(memory.buffer);
    for (const slot of [0, 1]) {
      this.inputs[slot] = new Float64Array(memory.buffer, this.offset(slot, 0), capacity);
      this.outputs[slot] = new Float64Array(memory.buffer, this.offset(slot, 1), capacity);
    }
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
