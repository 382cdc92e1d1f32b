import { answerDistribution } from '../blackbox/answerDistribution.js';
import { specialistSignals } from '../blackbox/specialistSignals.js';
import type { ProbeSignal } from '../contracts/probeRecord.js';
import type { RolloutSummary } from '../contracts/rollout.js';
import { problemFeatures } from '../features/problemFeatures.js';

/** One graded rollout of a row, as the row-level signals need it. */
export interface GradedRollout {
  passed: boolean;
  answer: string | null;
  /** Null when its log-probs were unusable or absent (black-box). */
  summary: RolloutSummary | null;
}

/** A row's prospective signals (null = not measured) and its rollout counts. */
export type RowSignalValues = Record<ProbeSignal, number | null> & { n_rollouts: number; n_passed: number };

/**
 * Everything known about a test before any repair is tried, from its K graded rollouts and,
 * optionally, the ancestor's own graded samples on the same prompt:
 * - pass_rate = c / n;
 * - spread, concentration, logit_dispersion: means over the failed rollouts' summaries, null
 *   without an ancestor (`withAncestor` false) or when no failed rollout has them;
 * - ancestor_pass_rate: passing ancestor samples / ancestor samples, null when none were drawn;
 * - answer_entropy, wrong_mode_share: the failed rollouts' answer distribution;
 * - mean_token_entropy, mean_logprob, min_window_confidence, dispersion_at_min_confidence: the
 *   specialist-only signals over the failed rollouts' summaries.
 * Signals over failed rollouts are null when every rollout passed.
 */
export function rowSignals(rollouts: readonly GradedRollout[], options: { withAncestor: boolean; ancestorPassed?: readonly boolean[] | null }): RowSignalValues {
  const n = rollouts.length;
  const c = rollouts.filter((r) => r.passed).length;
  const failed = rollouts.filter((r) => !r.passed);
  const summaries = failed.map((r) => r.summary).filter((s): s is RolloutSummary => s !== null);
  const features = options.withAncestor && summaries.length > 0 ? problemFeatures(summaries) : null;
  const answers = failed.length > 0 ? answerDistribution(failed.map((r) => r.answer)) : null;
  const specialist = summaries.length > 0 ? specialistSignals(summaries) : null;
  const ancestor = options.ancestorPassed ?? null;
  const finite = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    n_rollouts: n,
    n_passed: c,
    pass_rate: n > 0 ? c / n : null,
    spread: finite(features?.spread),
    concentration: finite(features?.concentration),
    logit_dispersion: finite(features?.logit_dispersion),
    ancestor_pass_rate: ancestor && ancestor.length > 0 ? ancestor.filter(Boolean).length / ancestor.length : null,
    answer_entropy: finite(answers?.entropy),
    wrong_mode_share: finite(answers?.topShare),
    mean_token_entropy: finite(specialist?.mean_token_entropy),
    mean_logprob: finite(specialist?.mean_logprob),
    min_window_confidence: finite(specialist?.min_window_confidence),
    dispersion_at_min_confidence: finite(specialist?.dispersion_at_min_confidence),
  };
}
