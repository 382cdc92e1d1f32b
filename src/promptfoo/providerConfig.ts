import { z } from 'zod';
import { RetryBudgetSchema } from '../http/retryBudget.js';
import { AncestorSpecSchema, SpecialistSpecSchema } from '../models/modelSpec.js';
import { RepairConfigSchema } from './repairConfig.js';

export const SpecialistSchema = SpecialistSpecSchema;
export const AncestorSchema = AncestorSpecSchema;

/**
 * RolloutProvider config. Example:
 *   specialist: lineage                   # the embedded real lineage; or sim, {type: endpoint, baseUrl, model}, {type: provider, id}
 *   ancestor: {type: endpoint, baseUrl: http://127.0.0.1:8000/v1, model: base}
 *   samples: 12
 */
export const RolloutProviderConfigSchema = z
  .object({
    specialist: SpecialistSchema,
    /**
     * The base model scoring each rollout; omit for specialist-only signals. With specialist
     * `lineage` or `sim`, defaults to that pair's own ancestor.
     */
    ancestor: AncestorSchema.optional(),
    /**
     * Samples drawn from the ancestor itself on each prompt (same temperature and max tokens),
     * graded like the specialist's: the ancestor's own pass rate, a cheap signal of whether
     * steering toward it can help. 0 switches it off; ignored without an ancestor.
     */
    ancestorSamples: z.number().int().min(0).max(1000).default(4),
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
    /**
     * Repair failing rows within a budget and record what it bought (see repairConfig.ts):
     * `{policy: policy.json | route: dense_steer, budget: 4, grader?, operators?, output?}`.
     */
    repair: RepairConfigSchema.optional(),
    /** Set by promptfoo: the config file's directory; relative paths resolve against it. */
    basePath: z.string().optional(),
  })
  .strict();
export type RolloutProviderConfig = z.output<typeof RolloutProviderConfigSchema>;
