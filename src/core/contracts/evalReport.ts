import { z } from 'zod';
import { FeaturesSchema } from './problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../regimes/prospectiveRegime.js';

const scaleSchema = z.object({
  n: z.number().int().nonnegative(),
  mean: z.record(z.string(), z.number()),
  sd: z.record(z.string(), z.number()),
});

/** recoverability.json: the eval-wide recoverability summary written by the afterAll hook. */
export const EvalReportSchema = z.object({
  version: z.literal(1),
  generator: z.literal('promptfoo-recoverability'),
  eval_id: z.string().nullable(),
  /** Where the z-score scale came from: this eval's failures, or a reference population. */
  scale_source: z.enum(['eval', 'reference', 'none']),
  reference: z.string().nullable(),
  scale: scaleSchema.nullable(),
  totals: z.object({
    rows: z.number().int().nonnegative(),
    failures: z.number().int().nonnegative(),
    with_features: z.number().int().nonnegative(),
    rollouts: z.number().int().nonnegative(),
    passed_rollouts: z.number().int().nonnegative(),
  }),
  regimes: z.object({
    counts: z.record(z.enum(PROSPECTIVE_REGIMES), z.number().int().nonnegative()),
    /** Shares among failures (rows with at least one failed rollout). */
    shares: z.record(z.enum(PROSPECTIVE_REGIMES), z.number()),
  }),
  routing: z.object({ counts: z.record(z.string(), z.number().int().nonnegative()) }),
  clusters: z.array(
    z.object({ name: z.string(), signature: z.string(), size: z.number().int().positive(), centroid: z.record(z.string(), z.number()), route: z.string().nullable() }),
  ),
  notes: z.array(z.object({ message: z.string(), rows: z.number().int().nonnegative() })),
  rows: z.array(
    z.object({
      key: z.string(),
      test_idx: z.number().int().nonnegative(),
      prompt_idx: z.number().int().nonnegative(),
      repeat: z.number().int().nonnegative(),
      description: z.string(),
      provider: z.string(),
      n_rollouts: z.number().int().nonnegative(),
      n_passed: z.number().int().nonnegative(),
      pass_rate: z.number().nullable(),
      pass_at: z.record(z.string(), z.number()),
      features: FeaturesSchema.nullable(),
      z: z.record(z.string(), z.number()).nullable(),
      regime: z.enum(PROSPECTIVE_REGIMES),
      route: z.string().nullable(),
      why: z.string(),
      cluster: z.string().nullable(),
      answer_entropy: z.number().nullable(),
      wrong_mode_share: z.number().nullable(),
      sample_output: z.string(),
    }),
  ),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;
export type EvalReportRow = EvalReport['rows'][number];
