/**
 * Mean and population standard deviation that cannot overflow: the values are divided by
 * s = max|x| before summing or squaring (every scaled value lies in [−1, 1]), and the moments are
 * scaled back, mean = s · mean(x/s), sd = s · sd(x/s) ≤ s. Inputs of ±1e308 give finite moments
 * where the textbook Σx and Σ(x − m)² overflow to Infinity. Throws on a non-finite value,
 * naming its index; empty input gives NaN.
 *
 * @example scaledMoments([1e308, -1e308]) // { mean: 0, sd: 1e308, scale: 1e308 }
 */
export function scaledMoments(values: readonly number[]): { mean: number; sd: number; scale: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, scale: NaN };
  let scale = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`value #${i} is ${v}; moments need finite numbers`);
    const a = Math.abs(v);
    if (a > scale) scale = a;
  }
  if (scale === 0) return { mean: 0, sd: 0, scale: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]! / scale;
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! / scale - m;
    ss += d * d;
  }
  return { mean: m * scale, sd: Math.sqrt(ss / n) * scale, scale };
}

/**
 * z = (v − mean) / sd, computed as (v/k − mean/k) / (sd/k) with k = max(|v|, |mean|, sd), so
 * the difference cannot overflow. A zero (or non-positive) sd gives 0: nothing stands out.
 * Throws when the ratio itself exceeds the largest double (v more than ~1e308 SDs away).
 */
export function standardize(v: number, mean: number, sd: number): number {
  if (!(sd > 0)) return 0;
  const k = Math.max(Math.abs(v), Math.abs(mean), sd);
  const z = (v / k - mean / k) / (sd / k);
  if (!Number.isFinite(z)) throw new RangeError(`z-score of ${v} on mean ${mean}, SD ${sd} is beyond the largest number`);
  return z;
}
