import { KERNELS_WASM_BASE64 } from './kernelsBinary.js';

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The WebAssembly SIMD kernels of kernels.wat, bound to one memory. Pointers are byte offsets
 * into `memory`; lengths count float32s. See kernels.wat for each formula.
 */
export interface Kernels {
  readonly memory: WasmMemory;
  /** y[r, o] = (accumulate ? y[r, o] : 0) + (Σ_i x[r, i]·W[o, i] + b[o]); W is [out, in]; b = 0: no bias. */
  linear(x: number, rows: number, inDim: number, w: number, b: number, outDim: number, y: number, accumulate: number): void;
  /** x[i] ← e^{x[i]} (n a multiple of 4). */
  exp(x: number, n: number): void;
  /** x[i] ← gelu_tanh(x[i]) (n a multiple of 4). */
  gelu(x: number, n: number): void;
  /** y[r] = (x[r] − mean) / √(var + eps) · γ + β per row. */
  layerNorm(x: number, rows: number, d: number, gamma: number, beta: number, y: number, eps: number): void;
  /** One query row's causal attention over cached positions 0 … n−1, every head. */
  attend(q: number, k: number, v: number, n: number, heads: number, headDim: number, stride: number, scale: number, scores: number, out: number): void;
}

let compiled: object | undefined;

/** The compiled module, once per process (synchronous: Node allows it at any size). */
function kernelsModule(): object {
  compiled ??= new wasm.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled;
}

/** Instantiates the kernels over a fresh memory of `bytes` (rounded up to 64 KiB pages). */
export function instantiateKernels(bytes: number): Kernels {
  const memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536), maximum: 65536 });
  const instance = new wasm.Instance(kernelsModule(), { env: { memory } });
  return { memory, ...(instance.exports as unknown as Omit<Kernels, 'memory'>) };
}
