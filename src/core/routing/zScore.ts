import { scaledMoments } from '../stats/scaledMoments.js';

/**
 * Population z-scores (x − mean) / sd, with sd the population standard deviation, computed on
 * values scaled by max|x| so that ±1e308 cannot overflow the moments (scaledMoments). A constant
 * column (sd = 0) gives all zeros rather than NaN, so "nothing stands out" routes to the
 * fallback. Throws on a non-finite value, naming its index. Empty input gives [].
 *
 * @example zScores([1, 2, 3]) // [−1.2247…, 0, 1.2247…]
 */
export function zScores(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`value #${i} is ${v}; z-scores need finite numbers`);
  });
  const { mean, sd, scale } = scaledMoments(values);
  if (!(sd > 0)) return values.map(() => 0);
  const m = mean / scale;
  const s = sd / scale;
  return values.map((v) => (v / scale - m) / s);
}
