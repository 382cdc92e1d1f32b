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
import { readPolicyFile } from '../io/policyFile.js';
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
  const estimate = policyPath
    ? await policyEstimate(policyPath, signals)
    : await paperRuleEstimate(config.reference ? resolve(base, config.reference) : null, { nRollouts: n, nPassed: c, features: usableFeatures });
  const referencePath = config.reference ? resolve(base, config.reference) : null;

  const scores: Record<string, number | null | undefined> = {
    pass_rate: signals.pass_rate,
    ancestor_pass_rate: signals.ancestor_pass_rate,
    spread: signals.spread,
    concentration: signals.concentration,
    logit_dispersion: signals.logit_dispersion,
    answer_entropy: signals.answer_entropy,
    wrong_mode_share: signals.wrong_mode_share,
    mean_token_entropy: signals.mean_token_entropy,
    mean_logprob: signals.mean_logprob,
    min_window_confidence: signals.min_window_confidence,
    dispersion_at_min_confidence: signals.dispersion_at_min_confidence,
    retry_rescue_est: n > c ? passAtK(n, c, Math.min(3, n)) : null,
  };
  for (const k of config.passAtK) {
    if (k <= n) {
      scores[`pass_at_${k}`] = passAtK(n, c, k);
      scores[`pass_hat_${k}`] = passHatK(n, c, k);
    }
  }
  for (const [f, z] of Object.entries(estimate.z ?? {})) scores[`z_${f}`] = z;
  for (const regime of PROSPECTIVE_REGIMES) scores[`regime_${regime}`] = estimate.regime === regime ? 1 : 0;
  const repair = meta.repair ? await repairColumns(meta.repair, check, vars) : null;
  Object.assign(scores, repair?.scores);

  const namedScores: Record<string, number> = {};
  for (const [k, v] of Object.entries(scores)) if (typeof v === 'number' && Number.isFinite(v)) namedScores[config.prefix + k] = v;

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
  };
  const pass = n > 0 && c / n >= config.threshold;
  const ancestorNote = signals.ancestor_pass_rate === null ? '' : ` Ancestor: ${ancestorOutcomes!.filter((o) => o.pass).length}/${ancestorOutcomes!.length} pass.`;
  const firstFail = outcomes.find((o) => !o.pass);
  return {
    pass,
    score: n > 0 ? c / n : 0,
    reason: `${c}/${n} rollouts pass (threshold ${config.threshold})${firstFail ? `; e.g. ${firstFail.reason}` : ''}.${ancestorNote} Regime: ${estimate.regime}${estimate.route ? ` → ${estimate.route}` : ''}. ${estimate.why}.${repair?.reason ?? ''}${meta.unavailable.length ? ` Unavailable: ${meta.unavailable.join('; ')}.` : ''}`,
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
  /** The policy's cross-validated precision for this regime (null for the paper's rule). */
  precision: number | null;
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
  return { regime, route: d.route, why: d.why, source: 'policy', precision: d.precision, z: null };
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
  return { regime: e.regime, route: e.route, why: `${e.why}${untested}`, source: 'paper_rule', precision: null, z: (e.z as Record<string, number> | null) ?? null };
}
