// Types of pool.mjs for the TypeScript tests that reuse the bench pool.
export declare const K: number;
export declare const KA: number;
export declare const V: number;
export declare const P: number;
export declare const STRIDE: number;
export declare const L: number;
export interface PoolPosition {
  token: number;
  specialist: { ids: Int32Array; logprobs: Float64Array };
  ancestor: { ids: Int32Array; logprobs: Float64Array };
}
export declare function makePool(): PoolPosition[];
export declare function flatPool(pool: PoolPosition[]): { sIds: Int32Array; sLp: Float64Array; aIds: Int32Array; aLp: Float64Array; tokens: Int32Array };
