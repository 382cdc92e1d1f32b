import { z } from 'zod';
import { TokenStepSchema } from './tokenStep.js';

const finite = z.number();
const nullableFinite = finite.nullable();

/**
 * The compact per-rollout summary: everything the problem-level features and black-box signals
 * need, in a few numbers. Produced in one streaming pass over the token steps
 * (see RolloutFeatureAccumulator). Ancestor-based fields are null when no position had
 * ancestor scores; specialist-only fields are null when no position had specialist scores.
 */
export const RolloutSummarySchema = z.object({
  /** Positions with specialist scores (trailing/unscored padding excluded). */
  scoredPositions: z.number().int().nonnegative(),
  /** Positions with both specialist and ancestor scores: the base of the trajectory features. */
  pairedPositions: z.number().int().nonnegative(),
  /** Positions without scores that were skipped (padding). */
  skippedPositions: z.number().int().nonnegative(),
  /** Index (in the rollout's own token positions) of the junction j* = argmax_t J_t. */
  junction: z.number().int().nonnegative().nullable(),
  /** max_t J_t and mean_t J_t over paired positions. */
  maxJ: nullableFinite,
  meanJ: nullableFinite,
  /** Fraction of paired positions with J_t > 0. */
  spread: nullableFinite,
  /** log10(max J / max(mean J, ε)). */
  concentration: nullableFinite,
  /** log10(mean logit_var over [j*−w, j*+w]). */
  logitDispersion: nullableFinite,
  /** Means over paired positions of Δpath, G_cov and KL(p_S^T ‖ p_A^T). */
  meanDeltaPath: nullableFinite,
  meanGcov: nullableFinite,
  meanKl: nullableFinite,
  /** Specialist-only signals (no ancestor needed). */
  meanEntropy: nullableFinite,
  meanLogprob: nullableFinite,
  minWindowConfidence: nullableFinite,
  /** log10(mean logit_var) over the lowest-confidence window: the black-box dispersion. */
  dispersionAtMinConfidence: nullableFinite,
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

/** One sampled rollout of the specialist. */
export const RolloutSchema = z.object({
  /** Position of this rollout among the K samples of its test. */
  index: z.number().int().nonnegative(),
  /** The generated text. */
  text: z.string(),
  /** The extracted final answer, or null when none could be extracted. */
  answer: z.string().nullable(),
  /** Graded outcome, once graded. */
  passed: z.boolean().optional(),
  /** Full token steps; kept in sidecar traces, never in promptfoo's database. */
  steps: z.array(TokenStepSchema).optional(),
  /** Compact per-rollout summary. */
  summary: RolloutSummarySchema.optional(),
});
export type Rollout = z.infer<typeof RolloutSchema>;
