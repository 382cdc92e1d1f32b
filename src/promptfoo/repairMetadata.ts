import { z } from 'zod';

/** One repair attempt, as recorded on the row. */
export const RepairAttemptSchema = z.object({
  /** 0-based attempt number within the row. */
  attempt: z.number().int().nonnegative(),
  /** The failed rollout it acted on (its index). */
  rollout: z.number().int().nonnegative(),
  passed: z.boolean(),
  /** Where in the generated tokens the operator acted; null when it started from the prompt. */
  position: z.number().int().nullable(),
  requests: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
});

/**
 * What the provider's repair did on a row (`metadata.recoverability.repair`): the route and
 * why, what it spent (meteredModel's counts: requests, tokens read, tokens generated), whether
 * it rescued the row, and the repaired text. The original rollouts are never changed.
 */
export const RepairRecordSchema = z.object({
  /** Hash of everything that decides this repair (config, policy file, grader, the test's vars, the row's seed): a cached row with another identity is repaired again. */
  identity: z.string(),
  /** The operator, `stop` (nothing spent), or null (no rollout failed). */
  route: z.string().nullable(),
  source: z.enum(['policy', 'route']),
  /** The policy's regime estimate (null with a fixed route). */
  regime: z.string().nullable(),
  route_reason: z.string(),
  /** The policy file (absolute), or null with a fixed route. */
  policy: z.string().nullable(),
  budget: z.number().int().positive(),
  attempts: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  /** Tokens the models read (prompts, kept prefixes; each steered position re-reads its prefix). */
  prompt_tokens: z.number().int().nonnegative(),
  /** Tokens the models generated (sampled tokens, one per next-token query). */
  tokens: z.number().int().nonnegative(),
  /**
   * True: an attempt passed the repair grader. False: the route ran (or was `stop`) and none did.
   * Null: nothing was tried — no rollout failed, or the route could not run here (see `note`), or
   * an error ended the repair (see `error`).
   */
  rescued: z.boolean().nullable(),
  /** The failed rollout the rescuing attempt acted on. */
  rescued_rollout: z.number().int().nonnegative().nullable(),
  /** The rescuing attempt's text, else the last attempt's; null when no attempt finished. */
  text: z.string().nullable(),
  answer: z.string().nullable(),
  /** The repair grader's verdict on each of the K rollouts (what it repaired). */
  passed: z.array(z.boolean()),
  attempt_log: z.array(RepairAttemptSchema),
  /** What the row's promptfoo output shows. */
  output: z.enum(['original', 'repaired']),
  /** Why the route could not run on this row, in plain words (with the fix). */
  note: z.string().nullable(),
  /** An error (e.g. an endpoint fault) that ended the repair; the original rollouts are kept. */
  error: z.string().nullable(),
});
export type RepairRecord = z.infer<typeof RepairRecordSchema>;
