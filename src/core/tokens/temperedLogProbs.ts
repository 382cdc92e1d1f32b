/**
 * log Σ_y exp(max(lp(y), floor)/T) over a returned top-K, computed stably with the max trick.
 * With it, the temperature-T distribution renormalized over the top-K is
 * log p^T(y) = lp(y)/T − logSumExpScaled(lp, T). Log-probs below `floor` count as the floor
 * (default: none). An empty slice has no mass: returns −Infinity.
 *
 * @example logSumExpScaled([Math.log(0.5), Math.log(0.5)], 1) // 0
 */
export function logSumExpScaled(logprobs: ArrayLike<number>, temperature: number, floor = -Infinity): number {
  const n = logprobs.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = Math.max(logprobs[i]!, floor) / temperature;
    if (v > max) max = v;
  }
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(Math.max(logprobs[i]!, floor) / temperature - max);
  return max + Math.log(sum);
}

/**
 * The temperature-T log-probs renormalized over the top-K: lp(y)/T − logsumexp(lp/T).
 *
 * @example temperedLogProbs([Math.log(0.9), Math.log(0.1)], 0.5) // log of [0.81, 0.01]/0.82
 */
export function temperedLogProbs(logprobs: ArrayLike<number>, temperature: number): number[] {
  const lse = logSumExpScaled(logprobs, temperature);
  return Array.from(logprobs, (lp) => lp / temperature - lse);
}
