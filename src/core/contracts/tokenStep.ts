import { z } from 'zod';

const logprob = z
  .number()
  .max(1e-6, 'a log-probability is ≤ 0')
  .describe('natural-log probability, finite and ≤ 0');

/**
 * A top-K slice of one model's next-token distribution, as parallel arrays (token ids and
 * their log-probs at temperature 1). Parallel arrays, not `{token: lp}` objects, so a trace
 * can be streamed through typed arrays. An empty slice means "no scores at this position"
 * (padding, or a position the server did not score).
 */
export const TopKSchema = z
  .object({
    ids: z.array(z.number().int().nonnegative()),
    logprobs: z.array(logprob),
  })
  .refine((t) => t.ids.length === t.logprobs.length, {
    message: 'ids and logprobs must have the same length (one log-prob per token id)',
    path: ['logprobs'],
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
