import { stratifiedSample } from '../core/sampling/stratifiedSample.js';
import { seedOf } from '../core/random/seededRandom.js';

/** Pass-rate bands of a failing row: none (0), low (≤ 1/4), mid (≤ 1/2), high (> 1/2). */
export type PassRateBand = 'none' | 'low' | 'mid' | 'high';

export function passRateBand(passRate: number | null): PassRateBand {
  if (passRate === null || passRate <= 0) return 'none';
  if (passRate <= 0.25) return 'low';
  if (passRate <= 0.5) return 'mid';
  return 'high';
}

/** A failing row's stratum: its estimated regime × its pass-rate band, e.g. `steerable×low`. */
export function rowStratum(row: { estimatedRegime: string; signals: { pass_rate: number | null } }): string {
  return `${row.estimatedRegime}×${passRateBand(row.signals.pass_rate)}`;
}

/**
 * A seeded stratified sample of at most `budget` rows (all of them when budget is null or not
 * smaller), in the rows' order: every stratum is represented while the budget allows, the rest
 * in proportion to stratum size (stratifiedSample).
 */
export function sampleRows<T>(rows: readonly T[], stratum: (row: T) => string, budget: number | null, seed: number): T[] {
  if (budget === null || budget >= rows.length) return [...rows];
  return stratifiedSample(rows.map(stratum), budget, seedOf('probe-rows', seed)).map((i) => rows[i]!);
}

/**
 * The rows re-probed for the noise ceiling: round(share × n) of them (at least 2 when share > 0
 * and there are 2 rows; agreement needs pairs), a seeded stratified sample drawn independently of
 * the budget's sample.
 */
export function reprobeRows<T>(rows: readonly T[], stratum: (row: T) => string, share: number, seed: number): T[] {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`the re-probe share is from 0 to 1, got ${share}`);
  if (share === 0 || rows.length === 0) return [];
  const n = Math.min(rows.length, Math.max(2, Math.round(share * rows.length)));
  return stratifiedSample(rows.map(stratum), n, seedOf('reprobe-rows', seed)).map((i) => rows[i]!);
}
