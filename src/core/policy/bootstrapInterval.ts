import { mean, quantile, sampleWithReplacement } from 'simple-statistics';
import { seededRandom } from '../random/seededRandom.js';

/** A mean with its bootstrap percentile interval. */
export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

export interface BootstrapOptions {
  /** Bootstrap resamples B (default 2000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  seed?: number;
}

/**
 * The mean of per-row values with a percentile bootstrap interval: B resamples of the rows
 * with replacement (seeded), the interval is the (1−level)/2 and (1+level)/2 quantiles of the
 * resampled means. For a paired difference between two policies pass the per-row differences
 * a_i − b_i. Empty input gives NaNs; one row gives a zero-width interval.
 *
 * @example bootstrapInterval([0, 1, 1, 0], {seed: 1}) // {mean: 0.5, lo: 0, hi: 1, n: 4} (roughly)
 */
export function bootstrapInterval(values: readonly number[], options: BootstrapOptions = {}): Estimate {
  const { resamples = 2000, level = 0.95, seed = 0 } = options;
  const n = values.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`value #${i} is ${v}; the bootstrap needs finite numbers`);
  });
  const random = seededRandom(seed);
  const draw = () => random.uniform();
  const means = new Array<number>(resamples);
  for (let b = 0; b < resamples; b++) means[b] = mean(sampleWithReplacement(values as number[], n, draw));
  const [lo, hi] = quantile(means, [(1 - level) / 2, (1 + level) / 2]) as [number, number];
  return { mean: mean(values as number[]), lo, hi, n };
}
