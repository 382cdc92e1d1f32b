import type { RolloutSummary } from '../contracts/rollout.js';
import { meanOfAvailable } from '../features/problemFeatures.js';

/** Problem-level signals that need only the specialist's top-K log-probs (no ancestor). */
export interface SpecialistSignals {
  mean_token_entropy: number | null;
  mean_logprob: number | null;
  /** DeepConf-style: mean over rollouts of the lowest sliding-window token confidence. */
  min_window_confidence: number | null;
  /** log10 mean logit variance at the lowest-confidence window. */
  dispersion_at_min_confidence: number | null;
}

/** Means over the given (normally the failed) rollouts of their specialist-only summaries. */
export function specialistSignals(rollouts: readonly RolloutSummary[]): SpecialistSignals {
  return {
    mean_token_entropy: meanOfAvailable(rollouts.map((r) => r.meanEntropy)),
    mean_logprob: meanOfAvailable(rollouts.map((r) => r.meanLogprob)),
    min_window_confidence: meanOfAvailable(rollouts.map((r) => r.minWindowConfidence)),
    dispersion_at_min_confidence: meanOfAvailable(rollouts.map((r) => r.dispersionAtMinConfidence)),
  };
}
