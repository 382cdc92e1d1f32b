import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AssertionValueFunctionContext, GradingResult } from 'promptfoo';
import { z } from 'zod';
import { answerDistribution } from '../core/blackbox/answerDistribution.js';
import { passAtK, passHatK } from '../core/blackbox/passAtK.js';
import { specialistSignals } from '../core/blackbox/specialistSignals.js';
import type { RolloutSummary } from '../core/contracts/rollout.js';
import { parseWith } from '../core/contracts/validate.js';
import { problemFeatures } from '../core/features/problemFeatures.js';
import { type BuiltinGrader, gradeRollout, GraderSchema, type GradeOutcome } from '../core/grading/graders.js';
import { PROSPECTIVE_REGIMES, prospectiveRegime } from '../core/regimes/prospectiveRegime.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { METADATA_KEY, RolloutMetadataSchema } from './rolloutMetadata.js';
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
  })
  .strict();

type Check = (text: string, info: { answer: string | null; vars: Record<string, unknown>; index: number }) => unknown;
const functionGraders = new Map<string, Promise<Check>>();

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
  const check = await checker(config.grader, base);
  const outcomes = await Promise.all(meta.rollouts.map((r) => check(r, vars)));
  const n = outcomes.length;
  const c = outcomes.filter((o) => o.pass).length;
  const failed = meta.rollouts.filter((_, i) => !outcomes[i]!.pass);
  const summaries = failed.map((r) => r.summary).filter((s): s is RolloutSummary => s !== null);

  const features = meta.capabilities.ancestor && summaries.length > 0 ? problemFeatures(summaries) : null;
  const usableFeatures = features && Object.values(features).every((v) => v !== null) ? features : null;
  const answers = answerDistribution(failed.map((r) => r.answer));
  const signals = meta.capabilities.logprobs ? specialistSignals(summaries) : null;

  let scale = null;
  let noScaleReason = 'per-row routing needs a population scale: set the assertion\'s `reference` (the eval-wide routing is in recoverability.md)';
  const referencePath = config.reference ? resolve(base, config.reference) : null;
  if (referencePath) {
    try {
      scale = await loadReferenceScale(referencePath);
    } catch (err) {
      noScaleReason = `the reference could not be read: ${(err as Error).message}`;
    }
  }
  const estimate = prospectiveRegime({ nRollouts: n, nPassed: c, features: usableFeatures }, { scale, noScaleReason });

  const scores: Record<string, number | null | undefined> = {
    pass_rate: n > 0 ? c / n : null,
    spread: features?.spread,
    concentration: features?.concentration,
    logit_dispersion: features?.logit_dispersion,
    answer_entropy: failed.length > 0 ? answers.entropy : null,
    wrong_mode_share: failed.length > 0 ? answers.topShare : null,
    mean_token_entropy: signals?.mean_token_entropy,
    mean_logprob: signals?.mean_logprob,
    min_window_confidence: signals?.min_window_confidence,
    dispersion_at_min_confidence: signals?.dispersion_at_min_confidence,
    retry_rescue_est: estimate.retryRescue,
  };
  for (const k of config.passAtK) {
    if (k <= n) {
      scores[`pass_at_${k}`] = passAtK(n, c, k);
      scores[`pass_hat_${k}`] = passHatK(n, c, k);
    }
  }
  for (const [f, z] of Object.entries(estimate.z ?? {})) scores[`z_${f}`] = z;
  for (const regime of PROSPECTIVE_REGIMES) scores[`regime_${regime}`] = estimate.regime === regime ? 1 : 0;

  const namedScores: Record<string, number> = {};
  for (const [k, v] of Object.entries(scores)) if (typeof v === 'number' && Number.isFinite(v)) namedScores[config.prefix + k] = v;

  const row: RowRecoverability = {
    regime: estimate.regime,
    route: estimate.route,
    route_reason: estimate.why,
    n_rollouts: n,
    n_passed: c,
    features,
    passed: outcomes.map((o) => o.pass),
    unavailable: meta.unavailable,
    reference: referencePath,
    rollout_errors: meta.errors.length,
  };
  const pass = n > 0 && c / n >= config.threshold;
  const firstFail = outcomes.find((o) => !o.pass);
  return {
    pass,
    score: n > 0 ? c / n : 0,
    reason: `${c}/${n} rollouts pass (threshold ${config.threshold})${firstFail ? `; e.g. ${firstFail.reason}` : ''}. Regime: ${estimate.regime}${estimate.route ? ` → ${estimate.route}` : ''}. ${estimate.why}.${meta.unavailable.length ? ` Unavailable: ${meta.unavailable.join('; ')}.` : ''}`,
    namedScores,
    metadata: { [ROW_KEY]: row },
  };
}

/** A per-rollout check for the configured grader; function graders load once per file. */
async function checker(grader: z.output<typeof GraderSchema>, base: string) {
  if (grader.type !== 'function') {
    return async (r: { text: string; answer: string | null }, vars: Record<string, unknown>) => gradeRollout(r, grader as BuiltinGrader, vars);
  }
  const fn = await loadFunction(grader.value, base);
  return async (r: { text: string; answer: string | null; index: number }, vars: Record<string, unknown>): Promise<GradeOutcome> => {
    try {
      const out = await fn(r.text, { answer: r.answer, vars, index: r.index });
      if (typeof out === 'boolean') return { pass: out, reason: `function grader returned ${out}` };
      if (out && typeof out === 'object' && typeof (out as { pass?: unknown }).pass === 'boolean') {
        const o = out as { pass: boolean; reason?: string };
        return { pass: o.pass, reason: o.reason ?? `function grader: ${o.pass}` };
      }
      return { pass: false, reason: `function grader returned ${JSON.stringify(out)}; return a boolean or {pass, reason}` };
    } catch (err) {
      return { pass: false, reason: `function grader threw: ${(err as Error).message}` };
    }
  };
}

function loadFunction(ref: string, base: string): Promise<Check> {
  const m = /^file:\/\/(.+):([A-Za-z_$][\w$]*)$/.exec(ref)!;
  const file = resolve(base, m[1]!);
  let p = functionGraders.get(`${file}:${m[2]}`);
  if (!p) {
    p = import(pathToFileURL(file).href).then((mod: Record<string, unknown>) => {
      const fn = mod[m[2]!];
      if (typeof fn !== 'function') throw new Error(`grader ${ref}: ${m[1]} has no exported function "${m[2]}"`);
      return fn as Check;
    });
    functionGraders.set(`${file}:${m[2]}`, p);
  }
  return p;
}
