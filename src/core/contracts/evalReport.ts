import { z } from 'zod';
import { LabelSchema, OperatorNameSchema } from './operators.js';
import { FeaturesSchema } from './problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../regimes/prospectiveRegime.js';

/** recoverability.json's schema version; readers say which version they got when it is another. */
export const EVAL_REPORT_VERSION = 3;

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

/** Where a row's regime and route came from: a policy learned from a probe of this model, or the paper's rule, untested on it. */
export const ROUTE_SOURCES = ['policy', 'paper_rule'] as const;
export const RouteSourceSchema = z.enum(ROUTE_SOURCES);

const share = z.number().min(0).max(1);
const shareOrNull = share.nullable();
/** A mean with its 95% interval (from policy.json's bootstrap), null where there were no rows. */
const IntervalSchema = z.object({ mean: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable(), n: z.number().int().nonnegative() });

/** What the probe measured on one row of this eval (joined on test_key = the probe's problem_id). */
export const RowMeasurementSchema = z.object({
  /** Eq. 2 label from the label-split attempts. */
  label: LabelSchema,
  /** Eq. 2 label of an independent re-probe, when this row had one. */
  reprobe_label: LabelSchema.nullable(),
  /** Fresh (eval-split) rescue rate per operator. */
  eval_rescue: z.record(OperatorNameSchema, share),
  /** The eval-split rescue of the operator this row is routed to (null for stop, none or an operator not probed). */
  route_rescue: shareOrNull,
});

/** Probe vs independent re-probe on the rows that have one: the ceiling of any regime estimate. */
export const CeilingSchema = z.object({
  n: z.number().int().nonnegative(),
  agreement: shareOrNull,
  kappa: z.number().nullable(),
  balanced_accuracy: shareOrNull,
  /** `probe` (this probe's re-probed rows) or `policy` (as recorded in policy.json). */
  source: z.enum(['probe', 'policy']),
});

/** The probe's measurement, as the report shows it. */
export const MeasuredSchema = z.object({
  probe: z.object({
    path: z.string(),
    format: z.string(),
    records: z.number().int().nonnegative(),
    /** The probe's settings fingerprint (null for a feature table, which records none). */
    settings: z.string().nullable(),
    split: z.enum(['disjoint', 'same', 'mixed']),
    /** Probe records whose problem_id names exactly one graded row of this eval (its test_key, or its row key's first 16 hex digits). */
    matched: z.number().int().nonnegative(),
    /** Records matching no graded row, and records matching several (prompts, providers, repeats). */
    unmatched: z.number().int().nonnegative(),
    ambiguous: z.number().int().nonnegative(),
    unmatched_examples: z.array(z.string()),
  }),
  /** Eq. 2 labels of every probed row (a stratified sample of failing rows: not weighted to the eval's population). */
  regime_shares: z.object({ n: z.number().int().nonnegative(), counts: z.record(LabelSchema, z.number().int().nonnegative()), shares: z.record(LabelSchema, share) }),
  /** The eval's regime estimate against the probe's label, on the matched rows. Null when none matched. */
  agreement: z
    .object({
      /** Which estimate the rows carry: the learned policy, the paper's rule, or both (some rows each). */
      estimate: z.enum(['policy', 'paper_rule', 'mixed']),
      n: z.number().int().positive(),
      /** confusion[measured label][estimated regime]. */
      confusion: z.record(LabelSchema, z.record(z.string(), z.number().int().nonnegative())),
      accuracy: share,
      /** Mean recall over the measured labels present (an estimate outside them counts as wrong). */
      balanced_accuracy: share,
      /** Always predicting the commonest measured label: its accuracy, and its balanced accuracy (1 / labels present). */
      majority: z.object({ label: LabelSchema, accuracy: share, balanced_accuracy: share }),
    })
    .nullable(),
  ceiling: CeilingSchema.nullable(),
  notes: z.array(z.string()),
});
export type Measured = z.infer<typeof MeasuredSchema>;

/** The learned policy's evidence, from policy.json: every routing candidate's cross-validated rescue, with intervals. */
export const PolicySummarySchema = z.object({
  path: z.string(),
  probe: z.object({ path: z.string(), rows: z.number().int().positive(), settings: z.string().nullable(), split: z.enum(['disjoint', 'same']) }),
  choice: z.object({ name: z.string(), kind: z.enum(['learned', 'paper_rule', 'fixed']), best_fixed: z.string(), why: z.string() }),
  candidates: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['learned', 'paper_rule', 'fixed']),
      operator: z.string().nullable(),
      available: z.boolean(),
      note: z.string().nullable(),
      rescue_all: IntervalSchema,
      rescue_steerable: IntervalSchema,
      vs_best_fixed: IntervalSchema.nullable(),
    }),
  ),
  regime_estimate: z.object({
    chosen: z.string(),
    why: z.string(),
    candidates: z.array(z.object({ name: z.string(), available: z.boolean(), balanced_accuracy: z.number().nullable(), accuracy: z.number().nullable(), note: z.string().nullable() })),
    /** Probe vs re-probe on the policy's probe, as recorded in policy.json. */
    ceiling: z.object({ n: z.number().int().nonnegative(), agreement: z.number().nullable(), kappa: z.number().nullable(), balanced_accuracy: z.number().nullable() }).nullable(),
  }),
  warnings: z.array(z.string()),
});
export type PolicySummary = z.infer<typeof PolicySummarySchema>;

/** Rescue at a budget of attempts per failed rollout, per operator, from the probe journal. */
export const BudgetSchema = z.object({
  path: z.string(),
  /** The journal's phase the curves come from: `eval` (fresh attempts), or `label` for journals without phases. */
  phase: z.enum(['eval', 'label']),
  settings: z.string().nullable(),
  /** Probed problems and failed rollouts (units) the curves are over. */
  problems: z.number().int().nonnegative(),
  curves: z.array(
    z.object({
      operator: z.string(),
      units: z.number().int().positive(),
      attempts: z.number().int().nonnegative(),
      /** Tokens the phase's attempts of this operator generated and read, when the journal records them. */
      tokens: z.number().int().nonnegative().nullable(),
      points: z.array(z.object({ budget: z.number().int().positive(), rescue: share })),
    }),
  ),
  notes: z.array(z.string()),
});
export type Budget = z.infer<typeof BudgetSchema>;

/**
 * recoverability.json: the eval-wide recoverability summary (the afterAll hook and `report`).
 * Quantities and their one denominator each:
 * - `totals.rows`: graded rows (rows with rollouts and a gradeRollouts verdict); error rows are
 *   counted apart (`totals.error_rows`, `errors`), never dropped;
 * - `totals.rows_passed`: rows promptfoo counts as passed (its assertion threshold);
 * - `totals.failures`: rows with a failed rollout (at least one of the K rollouts failed);
 * - `totals.rollout_pass_rate`: the rollout pass rate, mean over graded rows of passed/K;
 * - `regimes.share_of_tests`: each regime's share of graded rows (tests) — the share the gate compares;
 * - `regimes.shares`: each regime's share of the rows with a failed rollout.
 * Version 3 adds where the estimates came from (`estimate`, rows' `route_source`, `precision`),
 * the ancestor's pass rate per row, cluster centroids in z, and what was measured: `measured`
 * (the probe's labels, agreement with the estimate, the ceiling), `policy` (every routing
 * candidate's cross-validated rescue with intervals) and `budget` (rescue at budget).
 */
export const EvalReportSchema = z.object({
  version: z.literal(EVAL_REPORT_VERSION, {
    error: (issue) => `this is recoverability.json version ${JSON.stringify(issue.input)}; this reader reads version ${EVAL_REPORT_VERSION}: rerun "recoverability report" on the eval output`,
  }),
  generator: z.literal('promptfoo-recoverability'),
  eval_id: z.string().nullable(),
  /**
   * Where the rows' regimes and routes came from: all from a learned policy (measured on this
   * model), all from the paper's rule (untested on it), or some of each; `policy` names the file.
   */
  estimate: z.object({
    source: z.enum(['policy', 'paper_rule', 'mixed']),
    policy: z.string().nullable(),
    rows: z.object({ policy: z.number().int().nonnegative(), paper_rule: z.number().int().nonnegative() }),
  }),
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
    z.object({
      name: z.string(),
      signature: z.string(),
      size: z.number().int().positive(),
      /** The centroid in the features' own units. */
      centroid: z.record(z.string(), z.number()),
      /** The centroid in z-scores over the clustered failures (what k-means ran on, and what names and routes it). */
      centroid_z: z.record(z.string(), z.number()),
      route: z.string().nullable(),
    }),
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
      /** The RolloutProvider's row key (a hash of model, prompt and repeat): a probe names a row by its first 16 hex digits or by test_key. */
      row_key: z.string().nullable(),
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
      route_source: RouteSourceSchema,
      /** The learned policy's cross-validated precision for this regime (null for the paper's rule). */
      precision: shareOrNull,
      /** The ancestor's own pass rate on the prompt (null when no ancestor samples were drawn). */
      ancestor_pass_rate: shareOrNull,
      /** What the probe measured on this row, when it was probed. */
      measured: RowMeasurementSchema.nullable(),
      cluster: z.string().nullable(),
      answer_entropy: z.number().nullable(),
      wrong_mode_share: z.number().nullable(),
      sample_output: z.string(),
    }).refine((r) => r.n_passed <= r.n_rollouts, { message: 'n_passed cannot exceed n_rollouts', path: ['n_passed'] }),
  ),
  /** The probe's measurement (`report --probe`, or the probe a policy records). */
  measured: MeasuredSchema.nullable(),
  /** The learned policy's evidence (`report --policy`, or the assertion's policy). */
  policy: PolicySummarySchema.nullable(),
  /** Rescue at budget on this model (`report --journal`, or the probe's journal). */
  budget: BudgetSchema.nullable(),
  /** What was looked for and not used (a policy's probe that moved, a journal of another probe…). */
  measurement_notes: z.array(z.string()),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;
export type EvalReportRow = EvalReport['rows'][number];
