import { resolve } from 'node:path';
import type { AssertionValueFunctionContext, GradingResult } from 'promptfoo';
import { z } from 'zod';
import { passAtK, passHatK } from '../core/blackbox/passAtK.js';
import { parseWith } from '../core/contracts/validate.js';
import { GraderSchema } from '../core/grading/graders.js';
import { applyPolicy } from '../core/policy/applyPolicy.js';
import type { Policy } from '../core/policy/policySchema.js';
import { PROSPECTIVE_REGIMES, type ProspectiveRegime, prospectiveRegime } from '../core/regimes/prospectiveRegime.js';
import { rowSignals } from '../core/signals/rowSignals.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { loadReferenceValues } from '../io/loadReferenceValues.js';
import { readPolicyFile } from '../io/policyFile.js';
import { reasonLine, whyOnly } from '../report/reasonLine.js';
import { COLUMN_SETS, rowColumns } from '../report/viewColumns.js';
import { METADATA_KEY, RolloutMetadataSchema } from './rolloutMetadata.js';
import { repairColumns } from './repairColumns.js';
import { rolloutChecker } from './rolloutGrader.js';
import { type RowRecoverability, ROW_KEY } from './rowRecoverability.js';

/** Config of the rollout assertion (the `config:` of a `type: javascript` assert). */
export const GradeRolloutsConfigSchema = z
  .object({
    grader: GraderSchema.default({ type: 'equals', var: 'answer', caseSensitive: false }),
    /** k values for pass@k (and pass^k); those above the number of rollouts are skipped. */
    passAtK: z.array(z.number().int().min(1)).default([1, 3, 5, 10]),
    /** The row passes when the share of passing rollouts is at least this. */
    threshold: z.number().min(0).max(1).default(0.5),
    /** Prefix for every named score, for users whose own metrics collide. */
    prefix: z.string().default(''),
    /** A population of failures giving the z-score scale for per-row routing (see README). */
    reference: z.string().optional(),
    /**
     * A policy learned from a rescue probe of this model (`recoverability calibrate`): the row's
     * regime and route come from it, with its measured precision, instead of the paper's untested
     * rule. Relative to the config file.
     */
    policy: z.string().optional(),
    /**
     * The row's columns in `promptfoo view`: `default`, the few that matter, each a share 0–1 or
     * an indicator (pass rate, pass@k, the ancestor's pass rate, the three features, regime and
     * route); `all` adds every signal, each named with its unit (see report/viewColumns).
     */
    columns: z.enum(COLUMN_SETS).default('default'),
  })
  .strict();

/**
 * Grades every rollout of a RolloutProvider row and reports, per test: pass rate, unbiased
 * pass@k, the three features over the failed rollouts, the black-box signals and the
 * prospective regime with its route. Never throws: any problem is a failed assertion with a reason.
 * Use as `type: javascript, value: package:promptfoo-recoverability:gradeRollouts`.
 */
export async function gradeRollouts(_output: string, context: AssertionValueFunctionContext): Promise<GradingResult> {
  try {
    return await grade(context);
  } catch (err) {
    return { pass: false, score: 0, reason: `gradeRollouts: ${(err as Error).message}` };
  }
}

async function grade(context: AssertionValueFunctionContext): Promise<GradingResult> {
  const config = parseWith(GradeRolloutsConfigSchema, context.config ?? {}, 'gradeRollouts config');
  const raw = context.providerResponse?.metadata?.[METADATA_KEY];
  if (raw === undefined) {
    return { pass: false, score: 0, reason: 'gradeRollouts: this row has no rollouts; use the RolloutProvider (package:promptfoo-recoverability:RolloutProvider) for this test' };
  }
  const meta = parseWith(RolloutMetadataSchema, raw, 'RolloutProvider metadata');
  const vars = (context.vars ?? {}) as Record<string, unknown>;
  const base = meta.base_path ?? '.';
  const check = await rolloutChecker(config.grader, base);
  const outcomes = await Promise.all(meta.rollouts.map((r) => check(r, vars)));
  const ancestorOutcomes = meta.ancestor_rollouts ? await Promise.all(meta.ancestor_rollouts.map((r) => check(r, vars))) : null;
  const n = outcomes.length;
  const c = outcomes.filter((o) => o.pass).length;
  const signals = rowSignals(
    meta.rollouts.map((r, i) => ({ passed: outcomes[i]!.pass, answer: r.answer, summary: meta.capabilities.logprobs ? r.summary : null })),
    { withAncestor: meta.capabilities.ancestor, ancestorPassed: ancestorOutcomes?.map((o) => o.pass) ?? null },
  );
  const features = signals.spread === null && signals.concentration === null && signals.logit_dispersion === null
    ? null
    : { spread: signals.spread, concentration: signals.concentration, logit_dispersion: signals.logit_dispersion };
  const usableFeatures = features && Object.values(features).every((v) => v !== null) ? features : null;

  // Without its own policy, the assertion applies the provider's repair policy: the route column and the repair agree.
  const policyPath = config.policy ? resolve(base, config.policy) : meta.repair?.source === 'policy' ? meta.repair.policy : null;
  const referencePath = config.reference ? resolve(base, config.reference) : null;
  const estimate = policyPath
    ? await policyEstimate(policyPath, signals)
    : await paperRuleEstimate(referencePath, { nRollouts: n, nPassed: c, features: usableFeatures });

  const passAt: Record<number, number> = {};
  const passHat: Record<number, number> = {};
  for (const k of config.passAtK) {
    if (k <= n) {
      passAt[k] = passAtK(n, c, k);
      passHat[k] = passHatK(n, c, k);
    }
  }
  const referenceValues = referencePath && config.reference ? await loadReferenceValues(referencePath).catch(() => null) : null;
  const namedScores = rowColumns(
    {
      ...signals,
      pass_at: passAt,
      pass_hat: passHat,
      retry_rescue_est: n > c ? passAtK(n, c, Math.min(3, n)) : null,
      z: estimate.z,
      regime: estimate.regime,
      route: estimate.route,
      precision: estimate.precision,
    },
    { set: config.columns, reference: referenceValues, prefix: config.prefix },
  );
  const repair = meta.repair ? await repairColumns(meta.repair, check, vars) : null;
  // `rescued` is a default column (what the recommendation bought); its cost only with `columns: all`,
  // so a row keeps within the 10 pills promptfoo's view shows (the cost is in the row's metadata).
  for (const [k, v] of Object.entries(repair?.scores ?? {})) {
    if (Number.isFinite(v) && (config.columns === 'all' || k === 'rescued')) namedScores[config.prefix + k] = v;
  }

  const row: RowRecoverability = {
    regime: estimate.regime,
    route: estimate.route,
    route_reason: estimate.why,
    route_source: estimate.source,
    precision: estimate.precision,
    n_rollouts: n,
    n_passed: c,
    features,
    answer_entropy: signals.answer_entropy,
    wrong_mode_share: signals.wrong_mode_share,
    signals,
    passed: outcomes.map((o) => o.pass),
    ancestor_passed: ancestorOutcomes?.map((o) => o.pass) ?? null,
    unavailable: meta.unavailable,
    reference: referencePath,
    policy: policyPath,
    rollout_errors: meta.errors.length,
    row_key: meta.row_key,
  };
  const pass = n > 0 && c / n >= config.threshold;
  const ancestorPassed = ancestorOutcomes ? ancestorOutcomes.filter((o) => o.pass).length : null;
  const firstFail = outcomes.find((o) => !o.pass);
  return {
    pass,
    score: n > 0 ? c / n : 0,
    reason: `${reasonLine({
      regime: estimate.regime,
      route: estimate.route,
      source: estimate.source,
      precision: estimate.precision,
      precisionN: estimate.precisionN,
      nPassed: c,
      nRollouts: n,
      threshold: config.threshold,
      example: firstFail?.reason ?? null,
      ancestor: ancestorOutcomes && ancestorPassed !== null ? { passed: ancestorPassed, n: ancestorOutcomes.length } : null,
      why: whyOnly(estimate.rawWhy, estimate.route),
      unavailable: meta.unavailable,
    })}${repair ? ` · ${repair.reason.trim()}` : ''}`,
    namedScores,
    metadata: { [ROW_KEY]: row },
  };
}

/** A row's regime and route, with where they came from. */
interface Estimate {
  regime: ProspectiveRegime;
  route: string | null;
  why: string;
  /** `policy`: learned from a probe of this model; `paper_rule`: the paper's fixed rule, untested here. */
  source: 'policy' | 'paper_rule';
  /** The policy's cross-validated precision for this regime (null for the paper's rule), and its base. */
  precision: number | null;
  precisionN: number | null;
  /** The estimator's own one-line why (without the note on where the estimate came from). */
  rawWhy: string;
  z: Record<string, number> | null;
}

const policies = new Map<string, Promise<Policy>>();

/** The calibrated policy's decision (policy.json read once per path and process). */
async function policyEstimate(path: string, signals: ReturnType<typeof rowSignals>): Promise<Estimate> {
  let p = policies.get(path);
  if (!p) {
    policies.set(path, (p = readPolicyFile(path)));
    p.catch(() => policies.delete(path));
  }
  const d = applyPolicy(await p, signals);
  // "unknown" (the regime model lacks a signal this row has not got) has no prospective regime of its own.
  const regime: ProspectiveRegime = d.regime === 'unknown' ? 'retry_insufficient' : d.regime;
  return { regime, route: d.route, why: d.why, rawWhy: d.why, source: 'policy', precision: d.precision, precisionN: d.precision === null ? null : d.precisionN, z: null };
}

/** The paper's rule on the reference scale (untested on this model: say so). */
async function paperRuleEstimate(referencePath: string | null, evidence: Parameters<typeof prospectiveRegime>[0]): Promise<Estimate> {
  let scale = null;
  let noScaleReason = 'no `reference` set: per-row steerable / beyond-reach needs a population scale (set the assertion\'s `reference`; the eval-wide split is in recoverability.md)';
  if (referencePath) {
    try {
      scale = await loadReferenceScale(referencePath);
    } catch (err) {
      noScaleReason = `the reference could not be read: ${(err as Error).message}`;
    }
  }
  const e = prospectiveRegime(evidence, { scale, noScaleReason });
  const untested = e.regime === 'steerable' || e.regime === 'beyond_reach' ? ' (the paper\'s rule, untested on this model: run `recoverability probe` and `calibrate` to measure it)' : '';
  return { regime: e.regime, route: e.route, why: `${e.why}${untested}`, rawWhy: e.why, source: 'paper_rule', precision: null, precisionN: null, z: (e.z as Record<string, number> | null) ?? null };
}
