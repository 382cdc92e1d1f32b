import { z } from 'zod';
import { RolloutSummarySchema } from '../core/contracts/rollout.js';

/**
 * What the RolloutProvider puts under `metadata.recoverability`: the contract between the
 * provider and the rollout assertions. Compact: texts, answers and per-rollout summaries, never
 * per-token top-K arrays (those go to the optional sidecar).
 */
export const RolloutMetadataSchema = z.object({
  version: z.literal(1),
  specialist: z.string(),
  ancestor: z.string().nullable(),
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
  /** Rollouts that could not be obtained (after retries), with the error. */
  errors: z.array(z.object({ index: z.number().int().nonnegative(), message: z.string() })),
  sidecar: z.string().nullable(),
  /** The promptfoo config's directory: relative paths in the assertion's config resolve against it. */
  base_path: z.string().nullable().default(null),
});
export type RolloutMetadata = z.infer<typeof RolloutMetadataSchema>;
export const METADATA_KEY = 'recoverability';
