import { z } from 'zod';
import { PROSPECTIVE_REGIMES } from '../regimes/prospectiveRegime.js';

/**
 * What fails the gate. A regime regresses when its share of tests rises by more than its
 * `maxIncrease` and the (1 − α) interval of the rise excludes 0; the pass rate regresses when it
 * drops by more than `maxPassRateDrop` and the (1 − α) interval of the paired drop excludes 0.
 * The failure-topography shift fails the gate only with `topography: fail`.
 */
export const GatePolicySchema = z
  .object({
    alpha: z.number().gt(0).lt(1).default(0.05),
    maxIncrease: z.partialRecord(z.enum(PROSPECTIVE_REGIMES), z.number().min(0).max(1)).default({ beyond_reach: 0.05 }),
    maxPassRateDrop: z.number().min(0).max(1).nullable().default(0.05),
    topography: z.enum(['report', 'fail']).default('report'),
    permutations: z.number().int().min(19).max(100_000).default(200),
    seed: z.number().int().default(1),
  })
  .strict();
export type GatePolicy = z.output<typeof GatePolicySchema>;
export type GatePolicyInput = z.input<typeof GatePolicySchema>;
