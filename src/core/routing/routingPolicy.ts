import { z } from 'zod';
import { OperatorNameSchema } from '../contracts/operators.js';
import { FEATURE_NAMES } from '../contracts/problemRecord.js';

/**
 * The training-free routing rule as data (method.md): z-score each feature over the population,
 * route to the operator mapped to the feature with the largest z (ties: first in `mapping`
 * order); if that z ≤ `fallbackBelow`, nothing stands out, so use `fallback` (null: never).
 */
export const RoutingPolicySchema = z.object({
  mapping: z
    .partialRecord(z.enum(FEATURE_NAMES), OperatorNameSchema)
    .refine((m) => Object.keys(m).length > 0, { message: 'map at least one feature to an operator' })
    .default({ spread: 'dense_steer', concentration: 'sparse_steer', logit_dispersion: 'local_temp' }),
  fallback: OperatorNameSchema.nullable().default('sparse_steer_random'),
  fallbackBelow: z.number().default(0),
});
export type RoutingPolicy = z.output<typeof RoutingPolicySchema>;
export type RoutingPolicyInput = z.input<typeof RoutingPolicySchema>;

/** The reference rule: spread → dense steer, concentration → sparse steer, dispersion → local temp. */
export const DEFAULT_ROUTING_POLICY: RoutingPolicy = RoutingPolicySchema.parse({});
