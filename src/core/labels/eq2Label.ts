import { EQ2_DEFAULTS, type Eq2Thresholds } from '../defaults.js';
import { RETRY, type Label, type RescueRates } from '../contracts/operators.js';

/**
 * The Eq. 2 label of a failed problem from its measured rescue rates r_op (method.md):
 * - steerable: max_op r_op − r_retry ≥ minGain AND 1 − r_retry ≥ minRetryGap
 * - beyond_reach: not steerable AND every intervention (every operator but retry) has r_op = 0
 * - resample: otherwise.
 * Comparisons allow `tolerance` so a gain of exactly 0.05 (0.30 − 0.25 in floats) counts as met.
 * Throws when the rates lack `retry` or name no intervention.
 */
export function eq2Label(rescue: RescueRates, thresholds: Partial<Eq2Thresholds> = {}): Label {
  const { minGain, minRetryGap, tolerance } = { ...EQ2_DEFAULTS, ...thresholds };
  const retry = rescue[RETRY];
  if (retry === undefined) {
    throw new Error(`Eq. 2 needs the retry rescue rate: add a "${RETRY}" column/key to the rescue rates`);
  }
  const interventions = Object.entries(rescue).filter(([op]) => op !== RETRY);
  if (interventions.length === 0) {
    throw new Error('Eq. 2 needs at least one intervention besides retry (e.g. sparse_steer)');
  }
  const best = Math.max(retry, ...interventions.map(([, r]) => r));
  const steerable = best - retry >= minGain - tolerance && 1 - retry >= minRetryGap - tolerance;
  if (steerable) return 'steerable';
  if (interventions.every(([, r]) => Math.abs(r) <= tolerance)) return 'beyond_reach';
  return 'resample';
}
