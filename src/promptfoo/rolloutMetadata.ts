import { z } from 'zod';
import { RolloutSummarySchema } from '../core/contracts/rollout.js';
import { RepairRecordSchema } from './repairMetadata.js';

/**
 * What the RolloutProvider puts under `metadata.recoverability`: the contract between the
 * provider and the rollout assertions. Compact: texts, answers and per-rollout summaries, never
 * per-token top-K arrays (those go to the optional sidecar).
 */
export const RolloutMetadataSchema = z.object({
  version: z.literal(1),
  specialist: z.string(),
  ancestor: z.string().nullable(),
  /**
   * The models as they can be reached again (the probe and repairs rebuild them): the config's
   * specs without headers (which may carry keys). Null in rows written before this field existed.
   */
  models: z.object({ specialist: z.record(z.string(), z.unknown()), ancestor: z.record(z.string(), z.unknown()).nullable() }).nullable().default(null),
  /** The exact text sent as the prompt (promptVar / promptSuffix applied). */
  prompt: z.string().nullable().default(null),
  /** The row's rollout-cache key (also on its sidecar lines). */
  row_key: z.string().nullable().default(null),
  samples: z.number().int().nonnegative(),
  temperature: z.number(),
  seed: z.number().int(),
  capabilities: z.object({ logprobs: z.boolean(), ancestor: z.boolean() }),
  /** Plain-language reasons why some signals are missing. */
  unavailable: z.array(z.string()),
  rollouts: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      text: z.string(),
      answer: z.string().nullable(),
      finish_reason: z.string(),
      tokens: z.number().int().nonnegative(),
      summary: RolloutSummarySchema.nullable(),
    }),
  ),
  /**
   * What was changed from the config for this row, in plain words (a top-K lowered to the
   * server's max_logprobs, maxTokens lowered to the room max_model_len leaves, …).
   */
  notes: z.array(z.string()).default([]),
  /** Retries this row's requests spent (they draw on the provider's retry budget). */
  retries: z.number().int().nonnegative().default(0),
  /**
   * The ancestor's own samples on the same prompt (config `ancestorSamples`), graded by the
   * assertion into the ancestor's pass rate; null when none were drawn.
   */
  ancestor_rollouts: z
    .array(z.object({ index: z.number().int().nonnegative(), text: z.string(), answer: z.string().nullable(), finish_reason: z.string() }))
    .nullable()
    .default(null),
  /** Rollouts that could not be obtained (after retries), with the error. */
  errors: z.array(z.object({ index: z.number().int().nonnegative(), message: z.string() })),
  sidecar: z.string().nullable(),
  /** The rollout cache file (absolute) holding this row's token ids under `row_key`; null without `cache:`. */
  cache: z.string().nullable().default(null),
  /** The promptfoo config's directory: relative paths in the assertion's config resolve against it. */
  base_path: z.string().nullable().default(null),
  /** What the provider's `repair:` did on this row (absent or null without `repair`). */
  repair: RepairRecordSchema.nullable().optional(),
});
export type RolloutMetadata = z.infer<typeof RolloutMetadataSchema>;
export const METADATA_KEY = 'recoverability';
