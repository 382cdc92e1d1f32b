import { z } from 'zod';
import { FeaturesSchema } from '../core/contracts/problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';

/** What gradeRollouts records per row (in its grading metadata, lifted to the row by afterEach). */
export const RowRecoverabilitySchema = z.object({
  regime: z.enum(PROSPECTIVE_REGIMES),
  route: z.string().nullable(),
  route_reason: z.string(),
  /** Where regime and route came from: a policy learned from a probe of this model, or the paper's untested rule. */
  route_source: z.enum(['policy', 'paper_rule']).default('paper_rule'),
  /** The policy's cross-validated precision for this regime (null for the paper's rule). */
  precision: z.number().nullable().default(null),
  n_rollouts: z.number().int().nonnegative(),
  n_passed: z.number().int().nonnegative(),
  features: FeaturesSchema.nullable(),
  /** The failed rollouts' answer distribution (what the report needs, so it never reads the rollouts). */
  answer_entropy: z.number().nullable().default(null),
  wrong_mode_share: z.number().nullable().default(null),
  /** The row's prospective signals (what a policy reads); absent in verdicts written before them. */
  signals: z.record(z.string(), z.number().nullable()).nullable().default(null),
  passed: z.array(z.boolean()),
  /** The ancestor's own samples on the prompt, graded (null when none were drawn). */
  ancestor_passed: z.array(z.boolean()).nullable().default(null),
  unavailable: z.array(z.string()),
  reference: z.string().nullable(),
  policy: z.string().nullable().default(null),
  rollout_errors: z.number().int().nonnegative(),
  /** The RolloutProvider's row key (its rollout-cache key), so the report need not read the rollout metadata; absent in verdicts written before it. */
  row_key: z.string().nullable().optional(),
});
export type RowRecoverability = z.infer<typeof RowRecoverabilitySchema>;
export const ROW_KEY = 'recoverability_row';
