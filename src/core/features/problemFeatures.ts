import { mean } from 'simple-statistics';
import type { Features } from '../contracts/problemRecord.js';
import type { RolloutSummary } from '../contracts/rollout.js';

/**
 * Problem-level features: the mean, over the problem's failed rollouts, of each per-rollout
 * feature (method.md). Rollouts where a feature is unavailable (no ancestor scores) are left
 * out of that feature's mean; a feature no failed rollout has is null.
 */
export function problemFeatures(failedRollouts: readonly RolloutSummary[]): Features {
  return {
    spread: meanOfAvailable(failedRollouts.map((r) => r.spread)),
    concentration: meanOfAvailable(failedRollouts.map((r) => r.concentration)),
    logit_dispersion: meanOfAvailable(failedRollouts.map((r) => r.logitDispersion)),
  };
}

/** Mean of the finite values, or null when there are none. */
export function meanOfAvailable(values: readonly (number | null | undefined)[]): number | null {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return finite.length > 0 ? mean(finite) : null;
}
