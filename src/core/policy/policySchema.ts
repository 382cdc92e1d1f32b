import { z } from 'zod';
import { LabelSchema, OperatorNameSchema } from '../contracts/operators.js';
import { PROBE_SIGNALS, ProbeSplitSchema } from '../contracts/probeRecord.js';
import { FEATURE_NAMES } from '../contracts/problemRecord.js';
import { PolicyNodeSchema } from './policyTree.js';
import { RegimeNodeSchema } from './regimeTree.js';

/** policy.json's format name and version; a reader refuses any other. */
export const POLICY_FORMAT = 'recoverability-policy';
export const POLICY_VERSION = 1;

const SignalSchema = z.enum(PROBE_SIGNALS);
const finiteOrNull = z.number().nullable();

/** A mean with its 95% bootstrap interval (null where there were no rows). */
export const EstimateSchema = z.object({ mean: finiteOrNull, lo: finiteOrNull, hi: finiteOrNull, n: z.number().int().nonnegative() });
export type EstimateJson = z.infer<typeof EstimateSchema>;

/** The paper's z-scale: mean and population SD of each feature over the probed failures. */
export const FeatureScaleSchema = z.object({
  n: z.number().int().positive(),
  mean: z.record(z.enum(FEATURE_NAMES), z.number()),
  sd: z.record(z.enum(FEATURE_NAMES), z.number().nonnegative()),
});

/** How a row's route is chosen. */
export const RouteModelSchema = z.discriminatedUnion('kind', [
  /** The learned policy tree; `fallback` (the best fixed operator) when a row lacks a signal. */
  z.object({ kind: z.literal('tree'), tree: PolicyNodeSchema, fallback: OperatorNameSchema }),
  /** The paper's z-score rule on the probe's scale. */
  z.object({ kind: z.literal('paper_rule'), scale: FeatureScaleSchema }),
  /** One operator for every failing row. */
  z.object({ kind: z.literal('fixed'), operator: OperatorNameSchema }),
]);
export type RouteModel = z.infer<typeof RouteModelSchema>;

/** How a row's regime (its Eq. 2 label, estimated) is chosen. */
export const RegimeModelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tree'), tree: RegimeNodeSchema }),
  z.object({ kind: z.literal('paper_rule'), scale: FeatureScaleSchema }),
  z.object({ kind: z.literal('majority'), regime: LabelSchema }),
]);
export type RegimeModel = z.infer<typeof RegimeModelSchema>;

/** Cross-validated precision of a predicted regime: of the n rows predicted so, the share whose label agreed. */
export const RegimePrecisionSchema = z.object({ precision: finiteOrNull, n: z.number().int().nonnegative() });

/** One routing candidate's cross-validated rescue, measured with the eval split. */
export const RouteCandidateSchema = z.object({
  name: z.string(),
  kind: z.enum(['learned', 'paper_rule', 'fixed']),
  operator: OperatorNameSchema.nullable(),
  /** False when it could not be evaluated (then `note` says why). */
  available: z.boolean(),
  note: z.string().nullable(),
  rescue_all: EstimateSchema,
  rescue_steerable: EstimateSchema,
  /** Paired difference against the best fixed operator over all rows (null for that operator). */
  vs_best_fixed: EstimateSchema.nullable(),
  /** Rows routed to each route, out of fold. */
  routes: z.record(z.string(), z.number().int().nonnegative()),
});
export type RouteCandidate = z.infer<typeof RouteCandidateSchema>;

export const RegimeCandidateSchema = z.object({
  name: z.enum(['learned', 'paper_rule', 'majority']),
  available: z.boolean(),
  note: z.string().nullable(),
  balanced_accuracy: finiteOrNull,
  accuracy: finiteOrNull,
  /** confusion[true label][predicted] (the paper's rule can also predict "unjudged"). */
  confusion: z.record(LabelSchema, z.record(z.string(), z.number().int().nonnegative())),
});
export type RegimeCandidate = z.infer<typeof RegimeCandidateSchema>;

/** Probe vs independent re-probe, on the rows that have one: the ceiling of any regime estimate. */
export const RegimeCeilingSchema = z.object({
  n: z.number().int().nonnegative(),
  agreement: finiteOrNull,
  kappa: finiteOrNull,
  balanced_accuracy: finiteOrNull,
});

/**
 * policy.json: the routing policy and regime model `recoverability calibrate` chose from a probe,
 * everything they were chosen against (cross-validated, with intervals), the signals they need,
 * and the probe they came from. `applyPolicy` reads `route`, `regime` and `needs`.
 */
export const PolicySchema = z.object({
  format: z.literal(POLICY_FORMAT),
  version: z.literal(POLICY_VERSION),
  probe: z.object({
    path: z.string(),
    rows: z.number().int().positive(),
    sha256: z.string(),
    /** The probe's settings fingerprint (the `settings` column), when it wrote one. */
    settings: z.string().nullable(),
    split: ProbeSplitSchema,
  }),
  settings: z.object({
    folds: z.number().int().min(2),
    seed: z.number().int(),
    resamples: z.number().int().positive(),
    max_depth: z.number().int().min(0).max(2),
    min_leaf: z.number().int().positive(),
    thresholds: z.number().int().positive(),
    stop_below: z.number().min(0).max(1),
  }),
  operators: z.array(OperatorNameSchema).min(2),
  label_counts: z.record(LabelSchema, z.number().int().nonnegative()),
  signals: z.object({ usable: z.array(SignalSchema), skipped: z.record(z.string(), z.string()) }),
  /** Signals the chosen route and regime models read; a row without one falls back (and says so). */
  needs: z.array(SignalSchema),
  route: RouteModelSchema,
  regime: z.object({
    name: z.enum(['learned', 'paper_rule', 'majority']),
    model: RegimeModelSchema,
    precision: z.record(LabelSchema, RegimePrecisionSchema),
  }),
  choice: z.object({
    name: z.string(),
    kind: z.enum(['learned', 'paper_rule', 'fixed']),
    best_fixed: OperatorNameSchema,
    why: z.string(),
  }),
  candidates: z.array(RouteCandidateSchema),
  regime_estimate: z.object({
    chosen: z.enum(['learned', 'paper_rule', 'majority']),
    why: z.string(),
    candidates: z.array(RegimeCandidateSchema),
    ceiling: RegimeCeilingSchema.nullable(),
  }),
  warnings: z.array(z.string()),
});
export type Policy = z.infer<typeof PolicySchema>;

