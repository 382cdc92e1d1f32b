import { z } from 'zod';

/**
 * The operators (interventions) whose rescue rates the paper's table reports. Other operator
 * names are allowed anywhere a rescue rate is recorded (snake_case), so new interventions
 * need no schema change.
 */
export const PAPER_OPERATORS = [
  'retry',
  'sparse_steer',
  'sparse_steer_random',
  'local_temp',
  'dense_steer',
] as const;

/** The rank-preserving baseline every intervention is compared with. */
export const RETRY = 'retry';

export const OperatorNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'operator names are snake_case, e.g. "sparse_steer"');
export type OperatorName = z.infer<typeof OperatorNameSchema>;

/** A rescue rate: the fraction of attempts of one operator that solved the problem. */
export const RescueRateSchema = z.number().min(0).max(1);

/** Rescue rate per operator; `retry` is required wherever labels are derived (Eq. 2). */
export const RescueRatesSchema = z.record(OperatorNameSchema, RescueRateSchema);
export type RescueRates = z.infer<typeof RescueRatesSchema>;

/** Eq. 2 labels. */
export const LABELS = ['resample', 'steerable', 'beyond_reach'] as const;
export const LabelSchema = z.enum(LABELS);
export type Label = z.infer<typeof LabelSchema>;
