import { z } from 'zod';
import { FeaturesSchema } from './problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../regimes/prospectiveRegime.js';

const scaleSchema = z.object({
  n: z.number().int().nonnegative(),
  mean: z.record(z.string(), z.number()),
  sd: z.record(z.string(), z.number()),
});

/** A row that produced no grade: an ERROR row of promptfoo (an endpoint timeout, …) or a row without rollouts. */
export const ErrorRowSchema = z.object({
  test_idx: z.number().int().nonnegative(),
  prompt_idx: z.number().int().nonnegative(),
  /** Stable identity of the test (a hash of its vars and assertions), as for graded rows. */
  test_key: z.string(),
  /** Readable name: the test's description, or its vars when promptfoo only numbered it (`Row #N`). */
  description: z.string(),
  provider: z.string(),
  /** The error's name, e.g. `EndpointTimeoutError`; `NoRollouts` for a graded row with none. */
  kind: z.string(),
  /** The error's first line, shortened. */
  message: z.string(),
});
export type ErrorRow = z.infer<typeof ErrorRowSchema>;

/**
 * recoverability.json: the eval-wide recoverability summary (the afterAll hook and `report`).
 * Quantities and their one denominator each:
 * - `totals.rows`: graded rows (rows with rollouts and a gradeRollouts verdict); error rows are
 *   counted apart (`totals.error_rows`, `errors`), never dropped;
 * - `totals.rows_passed`: rows promptfoo counts as passed (its assertion threshold);
 * - `totals.failures`: rows with a failed rollout (at least one of the K rollouts failed);
 * - `totals.rollout_pass_rate`: the rollout pass rate, mean over graded rows of passed/K;
 * - `regimes.share_of_tests`: each regime's share of graded rows (tests) — the share the gate compares;
 * - `regimes.shares`: each regime's share of the rows with a failed rollout (kept for the
 *   afterAll eval metrics `share_*`, which use that denominator).
 */
export const EvalReportSchema = z.object({
  version: z.literal(2),
  generator: z.literal('promptfoo-recoverability'),
  eval_id: z.string().nullable(),
  /** Where the z-score scale came from: this eval's failures, or a reference population. */
  scale_source: z.enum(['eval', 'reference', 'none']),
  reference: z.string().nullable(),
  scale: scaleSchema.nullable(),
  totals: z.object({
    rows: z.number().int().nonnegative(),
    error_rows: z.number().int().nonnegative(),
    rows_passed: z.number().int().nonnegative().nullable(),
    failures: z.number().int().nonnegative(),
    with_features: z.number().int().nonnegative(),
    rollouts: z.number().int().nonnegative(),
    passed_rollouts: z.number().int().nonnegative(),
    rollout_pass_rate: z.number().min(0).max(1).nullable(),
  }),
  regimes: z.object({
    counts: z.record(z.enum(PROSPECTIVE_REGIMES), z.number().int().nonnegative()),
    share_of_tests: z.record(z.enum(PROSPECTIVE_REGIMES), z.number().min(0).max(1)),
    /** Shares among rows with a failed rollout. */
    shares: z.record(z.enum(PROSPECTIVE_REGIMES), z.number().min(0).max(1)),
  }),
  routing: z.object({ counts: z.record(z.string(), z.number().int().nonnegative()) }),
  clusters: z.array(
    z.object({ name: z.string(), signature: z.string(), size: z.number().int().positive(), centroid: z.record(z.string(), z.number()), route: z.string().nullable() }),
  ),
  notes: z.array(z.object({ message: z.string(), rows: z.number().int().nonnegative() })),
  errors: z.object({
    count: z.number().int().nonnegative(),
    by_kind: z.record(z.string(), z.number().int().positive()),
    rows: z.array(ErrorRowSchema),
  }),
  rows: z.array(
    z.object({
      key: z.string(),
      test_idx: z.number().int().nonnegative(),
      prompt_idx: z.number().int().nonnegative(),
      repeat: z.number().int().nonnegative(),
      test_key: z.string(),
      description: z.string(),
      provider: z.string(),
      n_rollouts: z.number().int().positive(),
      n_passed: z.number().int().nonnegative(),
      row_passed: z.boolean().nullable(),
      pass_rate: z.number().min(0).max(1),
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
    }).refine((r) => r.n_passed <= r.n_rollouts, { message: 'n_passed cannot exceed n_rollouts', path: ['n_passed'] }),
  ),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;
export type EvalReportRow = EvalReport['rows'][number];
