import { mean, standardDeviation } from 'simple-statistics';

/**
 * Population z-scores (x − mean) / sd, with sd the population standard deviation. A constant
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
  const m = mean(values as number[]);
  const sd = values.length > 1 ? standardDeviation(values as number[]) : 0;
  if (!(sd > 0)) return values.map(() => 0);
  return values.map((v) => (v - m) / sd);
}
