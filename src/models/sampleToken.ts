import type { Random } from '../core/random/seededRandom.js';

/**
 * Draws an index from temperature-T softmax over `logprobs` (any additive constant is
 * irrelevant); T = 0 is greedy (first argmax). Deterministic for a given `random` state.
 */
export function sampleIndex(logprobs: ArrayLike<number>, temperature: number, random: Random): number {
  const n = logprobs.length;
  if (n === 0) throw new RangeError('cannot sample from an empty distribution');
  let best = 0;
  for (let i = 1; i < n; i++) if (logprobs[i]! > logprobs[best]!) best = i;
  if (temperature === 0) return best;
  const max = logprobs[best]! / temperature;
  let total = 0;
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) total += weights[i] = Math.exp(logprobs[i]! / temperature - max);
  let u = random.uniform() * total;
  for (let i = 0; i < n; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return n - 1;
}
