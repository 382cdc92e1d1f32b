import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import type { Distribution } from '../models/servedModel.js';

/** A full next-token distribution in canonical order, with plain arrays (safe to serialize); shared by caches, so read-only. */
export interface FullDistribution extends Distribution {
  readonly ids: readonly number[];
  readonly logprobs: readonly number[];
}

/**
 * log_softmax of one row of float32 logits, in float64: lp_i = z_i − (m + ln Σ_j e^{z_j − m}),
 * m = max_j z_j; every token, in canonical order (log-prob descending, then id ascending).
 */
export function logSoftmax(logits: ArrayLike<number>, offset: number, vocab: number): FullDistribution {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i]! - max);
  const lse = max + Math.log(sum);
  const ids: number[] = [];
  const logprobs: number[] = [];
  // insertion sort: vocab is small
  for (let id = 0; id < vocab; id++) {
    const lp = logits[offset + id]! - lse;
    let j = ids.length;
    ids.push(id);
    logprobs.push(lp);
    while (j > 0 && logprobs[j - 1]! < lp) {
      ids[j] = ids[j - 1]!;
      logprobs[j] = logprobs[j - 1]!;
      j--;
    }
    ids[j] = id;
    logprobs[j] = lp;
  }
  return { ids, logprobs };
}

/** Every row of `logits` (rows × vocab) as a distribution. */
export function logSoftmaxRows(logits: Float32Array, vocab: number): FullDistribution[] {
  const out: FullDistribution[] = [];
  for (let offset = 0; offset < logits.length; offset += vocab) out.push(logSoftmax(logits, offset, vocab));
  return out;
}

/**
 * The first k entries of a distribution, plus `token` (at its true log-prob, in canonical order)
 * when it ranks below k — what vLLM returns for a position.
 */
export function topKWith(dist: FullDistribution, k: number, token?: number): TopKSlice {
  const n = Math.min(Math.max(0, k), dist.ids.length);
  const ids = dist.ids.slice(0, n);
  const logprobs = dist.logprobs.slice(0, n);
  if (token !== undefined && !ids.includes(token)) {
    const at = dist.ids.indexOf(token);
    if (at >= 0) {
      // every entry past n ranks below the top-k, so the token goes last
      ids.push(token);
      logprobs.push(dist.logprobs[at]!);
    }
  }
  return { ids, logprobs };
}
