import { z } from 'zod';

const logprob = z
  .number()
  .max(1e-6, 'a log-probability is ≤ 0')
  .describe('natural-log probability, finite and ≤ 0');

/**
 * A top-K slice of one model's next-token distribution, as parallel arrays (token ids, their
 * log-probs at temperature 1 and, optionally, their ranks). Parallel arrays, not `{token: lp}`
 * objects, so a trace can be streamed through typed arrays. Entries may come in any order. An
 * empty slice means "no scores at this position" (padding, or a position the server did not
 * score). With vLLM, pass its `rank`s: an entry of `top_logprobs` / `prompt_logprobs` holds the
 * top-k plus the actual token at its true rank, so k + 1 entries can come back and only the
 * ranks tell the appended token from the top-k.
 */
export const TopKSchema = z
  .object({
    ids: z.array(z.number().int().nonnegative()),
    logprobs: z.array(logprob),
    ranks: z
      .array(z.number().int().positive('a rank is 1-based (vLLM\'s "rank": 1 + the number of more likely tokens)'))
      .optional()
      .describe("each entry's 1-based rank in the full distribution (vLLM's rank)"),
  })
  .refine((t) => t.ids.length === t.logprobs.length, {
    message: 'ids and logprobs must have the same length (one log-prob per token id)',
    path: ['logprobs'],
  })
  .refine((t) => t.ranks === undefined || t.ranks.length === t.ids.length, {
    message: 'ranks must have one rank per token id, or be left out',
    path: ['ranks'],
  })
  .refine((t) => new Set(t.ids).size === t.ids.length, {
    message: 'each token id may appear once in a top-K slice',
    path: ['ids'],
  });
export type TopK = z.infer<typeof TopKSchema>;

/** One generated position: the taken token and the top-K of the specialist (and ancestor). */
export const TokenStepSchema = z.object({
  /** Id of the token the specialist emitted at this position. */
  token: z.number().int().nonnegative(),
  /** Its text, when known (derived from the id; informational only). */
  text: z.string().optional(),
  /** Specialist S's top-K log-probs at this position. */
  specialist: TopKSchema,
  /** Ancestor A's top-K log-probs at the same position (scored by one prefill), if available. */
  ancestor: TopKSchema.optional(),
});
export type TokenStep = z.infer<typeof TokenStepSchema>;
