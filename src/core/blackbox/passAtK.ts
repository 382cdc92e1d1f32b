const isCount = (v: number) => Number.isInteger(v) && v >= 0;

function checkCounts(n: number, c: number, k: number): void {
  if (!isCount(n)) throw new RangeError(`n must be a whole number ≥ 0, got ${n}`);
  if (!isCount(c)) throw new RangeError(`c must be a whole number ≥ 0, got ${c}`);
  if (!isCount(k)) throw new RangeError(`k must be a whole number ≥ 0, got ${k}`);
  if (c > n) throw new RangeError(`c (passing samples, ${c}) cannot exceed n (samples, ${n})`);
  if (k < 1) throw new RangeError(`k must be ≥ 1, got ${k}`);
  if (n < k) {
    throw new RangeError(`pass@${k} needs at least k = ${k} samples but only n = ${n} were drawn; sample more or lower k`);
  }
}

/**
 * Unbiased pass@k (Chen et al. 2021): 1 − C(n−c, k)/C(n, k), the chance that at least one of
 * k samples drawn without replacement from n (c correct) is correct. Computed in the stable
 * product form 1 − Π_{i=n−c+1..n} (1 − k/i); equals 1 when n − c < k. Throws when n < k.
 *
 * @example passAtK(10, 3, 1) // 0.3
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/**
 * pass^k: C(c, k)/C(n, k), the chance that all k samples drawn without replacement are correct
 * (a reliability measure). Stable product form Π_{i=0..k−1} (c − i)/(n − i). Throws when n < k.
 *
 * @example passHatK(10, 3, 2) // (3·2)/(10·9) = 1/15
 */
export function passHatK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  let prod = 1;
  for (let i = 0; i < k; i++) prod *= (c - i) / (n - i);
  return Math.max(0, prod);
}
