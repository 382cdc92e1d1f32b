// FROZEN: the Part-1 implementation (commit 7640ed1), kept as the oracle that pins the optimized
// code to the same numbers (test/core/part1Pin.test.ts). Do not edit.
/**
 * Which entries of a top-K slice are its top k, independent of the order the server listed them:
 * with vLLM's ranks, the entries of rank ≤ k (a `prompt_logprobs` or `top_logprobs` entry holds
 * the top-k plus the actual token at its true rank, so k + 1 entries can come back); without
 * ranks, the k largest log-probs, ties broken by the smaller token id.
 *
 * Writes the chosen entry indices into `out` (which must hold `logprobs.length` numbers) and
 * returns how many there are (k, or fewer for a short slice; with ranks, all entries tied at
 * rank ≤ k).
 *
 * @example topEntries([7, 3, 9], [-2, -0.5, -0.5], undefined, 2, out) // 2: out = [1, 2]
 */
export function topEntries(
  ids: ArrayLike<number>,
  logprobs: ArrayLike<number>,
  ranks: ArrayLike<number> | undefined,
  k: number,
  out: Int32Array | number[],
): number {
  const n = logprobs.length;
  if (ranks) {
    let c = 0;
    for (let i = 0; i < n; i++) if (ranks[i]! <= k) out[c++] = i;
    return c;
  }
  if (k >= n) {
    for (let i = 0; i < n; i++) out[i] = i;
    return n;
  }
  if (isCanonical(ids, logprobs)) {
    for (let i = 0; i < k; i++) out[i] = i;
    return k;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logprobs[b]! - logprobs[a]! || ids[a]! - ids[b]!);
  for (let i = 0; i < k; i++) out[i] = order[i]!;
  return k;
}

/** Log-prob descending, ties by id ascending: the order canonicalTopK and most servers use. */
export function isCanonical(ids: ArrayLike<number>, logprobs: ArrayLike<number>): boolean {
  for (let i = 1; i < logprobs.length; i++) {
    const d = logprobs[i]! - logprobs[i - 1]!;
    if (d > 0 || (d === 0 && ids[i]! < ids[i - 1]!)) return false;
  }
  return true;
}
