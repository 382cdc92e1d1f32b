import { gammaln } from 'simple-statistics';

/**
 * The regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): by its series when x < a + 1,
 * else by its continued fraction (modified Lentz), as in Numerical Recipes §6.2.
 */
export function upperRegularizedGamma(a: number, x: number): number {
  if (!(a > 0) || x < 0 || !Number.isFinite(x)) return x === Infinity ? 0 : NaN;
  if (x === 0) return 1;
  const lnPrefix = a * Math.log(x) - x - gammaln(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

/**
 * P(χ²_df ≥ x): the p-value of a chi-square statistic.
 *
 * @example chiSquareSurvival(3.841458820694124, 1) // ≈ 0.05
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  return upperRegularizedGamma(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
}

/**
 * Pearson's chi-square test of homogeneity on a groups × categories table of counts.
 * Categories with no count in any group are dropped; with fewer than two groups or categories
 * left, there is nothing to test (statistic 0, df 0, p 1).
 */
export function chiSquareHomogeneity(table: readonly (readonly number[])[]): ChiSquareResult {
  const cols = table[0]?.length ?? 0;
  const keep = Array.from({ length: cols }, (_, j) => j).filter((j) => table.some((row) => row[j]! > 0));
  const rows = table.filter((row) => keep.some((j) => row[j]! > 0));
  if (rows.length < 2 || keep.length < 2) return { statistic: 0, df: 0, p: 1 };
  const rowTotals = rows.map((row) => keep.reduce((s, j) => s + row[j]!, 0));
  const colTotals = keep.map((j) => rows.reduce((s, row) => s + row[j]!, 0));
  const n = rowTotals.reduce((a, b) => a + b, 0);
  let statistic = 0;
  rows.forEach((row, i) =>
    keep.forEach((j, k) => {
      const expected = (rowTotals[i]! * colTotals[k]!) / n;
      statistic += (row[j]! - expected) ** 2 / expected;
    }),
  );
  const df = (rows.length - 1) * (keep.length - 1);
  return { statistic, df, p: chiSquareSurvival(statistic, df) };
}
