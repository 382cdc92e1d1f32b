import { z } from 'zod';
import { FeaturesSchema } from '../core/contracts/problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';

/** What gradeRollouts records per row (in its grading metadata, lifted to the row by afterEach). */
export const RowRecoverabilitySchema = z.object({
  regime: z.enum(PROSPECTIVE_REGIMES),
  route: z.string().nullable(),
  route_reason: z.string(),
  n_rollouts: z.number().int().nonnegative(),
  n_passed: z.number().int().nonnegative(),
  features: FeaturesSchema.nullable(),
  passed: z.array(z.boolean()),
  unavailable: z.array(z.string()),
  reference: z.string().nullable(),
  rollout_errors: z.number().int().nonnegative(),
});
export type RowRecoverability = z.infer<typeof RowRecoverabilitySchema>;
export const ROW_KEY = 'recoverability_row';
