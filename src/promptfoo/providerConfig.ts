import { z } from 'zod';
import { EndpointConfigSchema } from '../http/openAiCompatibleModel.js';
import { RetryBudgetSchema } from '../http/retryBudget.js';
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
     * Your own part of every cache key (e.g. a checkpoint hash): change it when the model changed
     * in a way the server does not report (/v1/models' root and max_model_len are in the key already).
     */
    cacheKey: z.string().optional(),
    /**
     * Appended to every prompt before it is sent. promptfoo drops one trailing newline from every
     * var value, so `'Q: 66+42*6=\n'` arrives as `'Q: 66+42*6='`; `promptSuffix: "\n"` puts it back.
     */
    promptSuffix: z.string().default(''),
    /**
     * Send this test var's value exactly as written in the test (before promptfoo renders it)
     * as the prompt, instead of the rendered prompt; `promptSuffix` is still appended.
     */
    promptVar: z.string().min(1).optional(),
    /** Retries all requests of this provider may spend: max(floor, fraction × requests so far). */
    retryBudget: RetryBudgetSchema.default({ floor: 10, fraction: 0.1 }),
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
