// Types of pool.mjs for the TypeScript tests that reuse the bench pool.
export declare const K: number;
export declare const KA: number;
export declare const V: number;
export declare const P: number;
export declare const STRIDE: number;
export declare const L: number;
export declare const DISTINCT: number;
export declare function poolIndex(d: number, t: number): number;
export interface PoolPosition {
  token: number;
  specialist: { ids: Int32Array; logprobs: Float64Array };
  ancestor: { ids: Int32Array; logprobs: Float64Array };
}
export declare function makePool(options?: { confident?: number; tail?: number }): PoolPosition[];
export declare function flatRollouts(pool: PoolPosition[]): {
  tokens: Int32Array;
  specialist: { ids: Int32Array; logprobs: Float64Array; offsets: Int32Array };
  ancestor: { ids: Int32Array; logprobs: Float64Array; offsets: Int32Array };
}[];
