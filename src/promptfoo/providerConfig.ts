import { z } from 'zod';
import { EndpointConfigSchema } from '../http/openAiCompatibleModel.js';
import { MixSchema } from '../simulator/mechanisms.js';

/** The embedded lineage simulator ("sim" for short). */
const SimModelSchema = z.object({ type: z.literal('sim'), seed: z.number().int().default(0), mix: MixSchema.optional() });
/** An OpenAI-compatible endpoint in vLLM's dialect (top-K log-probs, prompt_logprobs). */
const EndpointModelSchema = EndpointConfigSchema.extend({ type: z.literal('endpoint') });
/** Any promptfoo provider id (black-box: text only, no log-probs). */
const PromptfooModelSchema = z.object({ type: z.literal('provider'), id: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}) });

const modelSpec = <T extends z.ZodType>(union: T) => z.preprocess((v) => (v === 'sim' ? { type: 'sim' } : v), union);

export const SpecialistSchema = modelSpec(z.discriminatedUnion('type', [SimModelSchema, EndpointModelSchema, PromptfooModelSchema]));
export const AncestorSchema = modelSpec(z.discriminatedUnion('type', [SimModelSchema, EndpointModelSchema]));

/**
 * RolloutProvider config. Example:
 *   specialist: sim                       # or {type: endpoint, baseUrl, model} or {type: provider, id}
 *   ancestor: {type: endpoint, baseUrl: http://127.0.0.1:8000/v1, model: base}
 *   samples: 12
 */
export const RolloutProviderConfigSchema = z
  .object({
    specialist: SpecialistSchema,
    /** The base model scoring each rollout; omit for specialist-only signals. With specialist: sim, defaults to the simulator's ancestor. */
    ancestor: AncestorSchema.optional(),
    /** Rollouts K per test. */
    samples: z.number().int().min(1).max(1000).default(12),
    temperature: z.number().min(0).max(5).default(0.6),
    /** Specialist top-K log-probs per position. */
    topK: z.number().int().min(1).max(100).default(20),
    /** Ancestor top-K per position (k_cov ≤ this). */
    ancestorTopK: z.number().int().min(1).max(100).default(20),
    maxTokens: z.number().int().min(1).max(100_000).default(512),
    /** Seed of every sample; rows also mix in the prompt and the repeat index. */
    seed: z.number().int().default(0),
    /** Calls in flight for a black-box provider (endpoints use their own `concurrency`). */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** The row's output: the first rollout, or one whose answer is the most common. */
    output: z.enum(['first', 'majority']).default('first'),
    /** Append full traces (every position's top-K) to this JSONL file. */
    sidecar: z.string().optional(),
    /** A JSONL file of captured rows: an interrupted eval resumes from it without resampling. */
    cache: z.string().optional(),
    /**
     * Retries of a whole row by promptfoo's scheduler, which reads this key (on 429s and
     * transient errors). Default 0: the endpoint client already retries with backoff and
     * Retry-After, and stacking both multiplies waits and calls.
     */
    maxRetries: z.number().int().min(0).max(10).default(0),
    /** Scoring with the ancestor fails → keep the rollouts and degrade (true), or fail the row. */
    degradeOnAncestorError: z.boolean().default(true),
    /** Set by promptfoo: the config file's directory; relative paths resolve against it. */
    basePath: z.string().optional(),
  })
  .strict();
export type RolloutProviderConfig = z.output<typeof RolloutProviderConfigSchema>;
