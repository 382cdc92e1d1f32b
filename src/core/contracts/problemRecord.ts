import { z } from 'zod';
import { LabelSchema, RescueRatesSchema } from './operators.js';

/**
 * The three problem-level trajectory features (means over the problem's failed rollouts).
 * A feature is null when it could not be computed (no log-probs, no ancestor, no failures).
 */
export const FeaturesSchema = z.object({
  spread: z.number().nullable(),
  concentration: z.number().nullable(),
  logit_dispersion: z.number().nullable(),
});
export type Features = z.infer<typeof FeaturesSchema>;
export const FEATURE_NAMES = ['spread', 'concentration', 'logit_dispersion'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** One failed (or evaluated) problem: who, how many rollouts, features, and probe results. */
export const ProblemRecordSchema = z
  .object({
    problem_id: z.string().min(1),
    /** Model × task cell, e.g. `sft0p6b|gsm8k`; the unit for within-cell z-scores. */
    cell: z.string().min(1).default('all'),
    model: z.string().optional(),
    task: z.string().optional(),
    n_rollouts: z.number().int().nonnegative().optional(),
    n_passed: z.number().int().nonnegative().optional(),
    n_failed_rollouts: z.number().int().nonnegative(),
    features: FeaturesSchema,
    /** Rescue rate per operator from a probe (best-of-n attempts). */
    rescue: RescueRatesSchema.optional(),
    /** An Eq. 2 label given with the record; recomputed from `rescue` when that is present. */
    label: LabelSchema.optional(),
  })
  .refine((r) => r.n_passed === undefined || r.n_rollouts === undefined || r.n_passed <= r.n_rollouts, {
    message: 'n_passed cannot exceed n_rollouts',
    path: ['n_passed'],
  });
export type ProblemRecord = z.infer<typeof ProblemRecordSchema>;
export type ProblemRecordInput = z.input<typeof ProblemRecordSchema>;
