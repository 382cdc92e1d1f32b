import { resolve } from 'node:path';
import { z } from 'zod';
import { EndpointConfigSchema } from '../http/openAiCompatibleModel.js';
import { OpenAICompatibleModel } from '../http/openAiCompatibleModel.js';
import type { RetryBudget } from '../http/retryBudget.js';
import { loadArithLineage } from '../lineage/index.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import { MixSchema } from '../simulator/mechanisms.js';
import type { TokenModel } from './tokenModel.js';

/**
 * Where a model comes from, as configs and records name it. The embedded pairs (`lineage`, `sim`)
 * bring their own ancestor: as `specialist`, the pair's ancestor is the default `ancestor`.
 */

/** The embedded real lineage (models/arith-lineage): `arith-specialist` and its `arith-ancestor`. */
export const LineageSpecSchema = z.object({
  type: z.literal('lineage'),
  /** A directory with the lineage's files; default the package's models/arith-lineage. */
  dir: z.string().optional(),
});
/** The planted simulator (a test fixture with known mechanisms). */
export const SimSpecSchema = z.object({ type: z.literal('sim'), seed: z.number().int().default(0), mix: MixSchema.optional() });
/** An OpenAI-compatible endpoint in vLLM's dialect (top-K log-probs, prompt_logprobs). */
export const EndpointSpecSchema = EndpointConfigSchema.extend({ type: z.literal('endpoint') });
/** Any promptfoo provider id (black-box: text only, no log-probs). */
export const PromptfooSpecSchema = z.object({ type: z.literal('provider'), id: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}) });

/** `lineage` and `sim` may be written as plain strings. */
const shorthand = <T extends z.ZodType>(union: T) => z.preprocess((v) => (v === 'sim' || v === 'lineage' ? { type: v } : v), union);

export const SpecialistSpecSchema = shorthand(z.discriminatedUnion('type', [LineageSpecSchema, SimSpecSchema, EndpointSpecSchema, PromptfooSpecSchema]));
export const AncestorSpecSchema = shorthand(z.discriminatedUnion('type', [LineageSpecSchema, SimSpecSchema, EndpointSpecSchema]));

export type SpecialistSpec = z.output<typeof SpecialistSpecSchema>;
export type TokenModelSpec = Exclude<SpecialistSpec, { type: 'provider' }>;
export type Role = 'specialist' | 'ancestor';

/** A short name for people: the served model, the provider id, or the embedded model. */
export function describeSpec(spec: SpecialistSpec, role: Role = 'specialist'): string {
  switch (spec.type) {
    case 'lineage':
      return `arith-${role}`;
    case 'sim':
      return `sim-${role}(seed=${spec.seed})`;
    case 'endpoint':
      return spec.model;
    case 'provider':
      return spec.id;
  }
}

/**
 * The spec as it may be stored in results: what identifies the model and how to reach it again
 * (the probe and repairs rebuild it), never credentials — headers are dropped (they may carry
 * keys), the key's variable name stays.
 */
export function publicSpec(spec: SpecialistSpec): Record<string, unknown> {
  if (spec.type !== 'endpoint') return { ...spec };
  const { headers: _headers, ...rest } = spec;
  return rest;
}

/** The ancestor a config means: the one given, else the embedded pair's own. */
export function ancestorSpecOf(specialist: SpecialistSpec, ancestor: TokenModelSpec | undefined): TokenModelSpec | undefined {
  if (ancestor) return ancestor;
  return specialist.type === 'sim' || specialist.type === 'lineage' ? specialist : undefined;
}

/**
 * Builds token models from specs, sharing one simulator per (seed, mix) and one lineage per
 * directory, so a specialist and its ancestor come from the same embedded pair. Relative lineage
 * directories resolve against `basePath`.
 */
export class TokenModelFactory {
  private readonly sims = new Map<string, LineageSimulator>();

  constructor(private readonly options: { budget?: RetryBudget; basePath?: string; env?: NodeJS.ProcessEnv } = {}) {}

  build(spec: TokenModelSpec, role: Role): TokenModel {
    switch (spec.type) {
      case 'lineage':
        return loadArithLineage(spec.dir === undefined ? undefined : resolve(this.options.basePath ?? '.', spec.dir))[role];
      case 'sim': {
        const key = JSON.stringify({ seed: spec.seed, mix: spec.mix ?? null });
        let sim = this.sims.get(key);
        if (!sim) this.sims.set(key, (sim = new LineageSimulator({ seed: spec.seed, ...(spec.mix ? { mix: spec.mix } : {}) })));
        return sim[role];
      }
      case 'endpoint': {
        const { type: _type, ...endpoint } = spec;
        return new OpenAICompatibleModel(endpoint, this.options.env ?? process.env, this.options.budget ? { budget: this.options.budget } : {});
      }
    }
  }
}
