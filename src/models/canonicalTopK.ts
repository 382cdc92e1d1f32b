import type { TopKSlice } from '../core/tokens/tokenSignals.js';

/**
 * A top-K slice in canonical order: log-prob descending, then token id ascending. Servers return
 * top-K as JSON objects whose key order is not preserved (integer-like keys are reordered by
 * JSON.parse), so both ends of a wire sort this way.
 */
export function canonicalTopK(ids: ArrayLike<number>, logprobs: ArrayLike<number>): TopKSlice {
  const order = Array.from(ids, (_, i) => i).sort((a, b) => logprobs[b]! - logprobs[a]! || ids[a]! - ids[b]!);
  return { ids: order.map((i) => ids[i]!), logprobs: order.map((i) => logprobs[i]!) };
}
