import { z } from 'zod';

/**
 * vLLM's OpenAI-compatible wire format: the parts this package speaks, as zod schemas shared
 * by the simulator's server (requests in, responses out) and the HTTP client (responses in).
 */

const tokenIdsPrompt = z.array(z.number().int().nonnegative());
export const PromptSchema = z.union([z.string(), tokenIdsPrompt, z.array(z.union([z.string(), tokenIdsPrompt])).min(1)]);

/**
 * The sampling fields vLLM's completion and chat requests share (vllm/entrypoints/openai/
 * completion/protocol.py, CompletionRequest). Only types are checked here; ranges are checked
 * after generation-config defaults are merged, with vLLM's own messages (http/samplingParams.ts).
 * A field left out (or null) takes the server's generation-config default, as in vLLM.
 */
const samplingFields = {
  /** The served model name; vLLM serves its first model when it is left out. */
  model: z.string().nullable().optional(),
  n: z.number().int().default(1),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  /** −1 or 0 turn top-k off. */
  top_k: z.number().int().nullable().optional(),
  min_p: z.number().nullable().optional(),
  repetition_penalty: z.number().nullable().optional(),
  presence_penalty: z.number().nullable().optional(),
  frequency_penalty: z.number().nullable().optional(),
  /** Sample i of n uses seed + i; −1 or null: the server picks one. */
  seed: z.number().int().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  stop_token_ids: z.array(z.number().int()).nullable().optional(),
  ignore_eos: z.boolean().default(false),
  min_tokens: z.number().int().default(0),
  include_stop_str_in_output: z.boolean().default(false),
  return_tokens_as_token_ids: z.boolean().nullable().optional(),
};

export const CompletionRequestSchema = z.object({
  ...samplingFields,
  prompt: PromptSchema,
  /** vLLM: null means the default, 16. */
  max_tokens: z
    .number()
    .int()
    .nullable()
    .optional()
    .transform((v) => v ?? 16),
  logprobs: z.number().int().nullable().optional(),
  echo: z.boolean().nullable().optional(),
  prompt_logprobs: z.number().int().nullable().optional(),
  add_special_tokens: z.boolean().default(true),
  /** vLLM: also return `token_ids` (generated) and `prompt_token_ids` per choice. */
  return_token_ids: z.boolean().nullable().optional(),
});
export type CompletionRequest = z.output<typeof CompletionRequestSchema>;

const contentPart = z.object({ type: z.string(), text: z.string().optional() });
export const ChatMessageSchema = z.object({ role: z.string(), content: z.union([z.string(), z.array(contentPart)]).nullable().optional() });
export const ChatRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1),
  max_tokens: z.number().int().nullable().optional(),
  max_completion_tokens: z.number().int().nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().nullable().optional(),
  add_special_tokens: z.boolean().default(false),
});
export type ChatRequest = z.output<typeof ChatRequestSchema>;

/** vLLM's TokenizeCompletionRequest or TokenizeChatRequest (serve/tokenize/protocol.py). */
export const TokenizeRequestSchema = z.union([
  z.object({ model: z.string().nullable().optional(), prompt: z.string(), add_special_tokens: z.boolean().default(true), return_token_strs: z.boolean().nullable().optional() }),
  z.object({ model: z.string().nullable().optional(), messages: z.array(ChatMessageSchema).min(1), add_special_tokens: z.boolean().default(false), return_token_strs: z.boolean().nullable().optional() }),
]);
export type TokenizeRequest = z.output<typeof TokenizeRequestSchema>;
export const DetokenizeRequestSchema = z.object({ model: z.string().nullable().optional(), tokens: z.array(z.number().int()) });

/**
 * Request fields vLLM honours that this server does not implement: a request that sets one gets
 * a 400 naming it, never a silently different answer. (Values that mean "off" are accepted.)
 */
export const UNSUPPORTED_FIELDS: Record<string, (v: unknown) => boolean> = {
  stream: (v) => v === true,
  use_beam_search: (v) => v === true,
  best_of: (v) => v != null && v !== 1,
  suffix: (v) => v != null && v !== '',
  logit_bias: (v) => v != null && Object.keys(v as object).length > 0,
  allowed_token_ids: (v) => v != null,
  bad_words: (v) => Array.isArray(v) && v.length > 0,
  truncate_prompt_tokens: (v) => v != null,
  response_format: (v) => v != null && (v as { type?: unknown }).type !== 'text',
  structured_outputs: (v) => v != null,
  guided_json: (v) => v != null,
  guided_regex: (v) => v != null,
  guided_choice: (v) => v != null,
  guided_grammar: (v) => v != null,
  prompt_embeds: (v) => v != null,
  logprob_token_ids: (v) => v != null,
  tools: (v) => Array.isArray(v) && v.length > 0,
};

/** One prompt position's entry: token id (as a JSON key) → its log-prob, rank and text. */
export const PromptLogprobEntrySchema = z.record(
  z.string().regex(/^\d+$/, 'prompt_logprobs keys are token ids'),
  z.object({ logprob: z.number(), rank: z.number().int().nullable().optional(), decoded_token: z.string().nullable().optional() }),
);

export const CompletionLogprobsSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable(),
  text_offset: z.array(z.number().int()).optional(),
});

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative().default(0),
  total_tokens: z.number().int().nonnegative(),
});
export type Usage = z.output<typeof UsageSchema>;

export const CompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        text: z.string(),
        logprobs: CompletionLogprobsSchema.nullable().optional(),
        finish_reason: z.string().nullable(),
        stop_reason: z.union([z.string(), z.number()]).nullable().optional(),
        prompt_logprobs: z.array(PromptLogprobEntrySchema.nullable()).nullable().optional(),
      }),
    )
    .min(1, 'a completion response has at least one choice'),
  usage: UsageSchema.optional(),
});
export type CompletionResponse = z.output<typeof CompletionResponseSchema>;

const chatTop = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number()).nullable().optional() });
export const ChatResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        message: z.object({ role: z.string(), content: z.string().nullable() }),
        logprobs: z.object({ content: z.array(chatTop.extend({ top_logprobs: z.array(chatTop) })).nullable() }).nullable().optional(),
        finish_reason: z.string().nullable(),
      }),
    )
    .min(1),
  usage: UsageSchema.optional(),
});
export type ChatResponse = z.output<typeof ChatResponseSchema>;

/**
 * GET /v1/models. vLLM's ModelCard (vllm/entrypoints/openai/engine/protocol.py) also reports
 * `root` (the weights it loaded: a path or hub id) and `max_model_len`; other servers may omit them.
 */
export const ModelsResponseSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      id: z.string(),
      object: z.literal('model'),
      root: z.string().nullable().optional(),
      parent: z.string().nullable().optional(),
      max_model_len: z.number().int().positive().nullable().optional(),
    }),
  ),
});
export type ModelsResponse = z.output<typeof ModelsResponseSchema>;

/** vLLM's error body. */
export interface ErrorBody {
  object: 'error';
  message: string;
  type: string;
  param: string | null;
  code: number;
}

/** `token_id:123` → 123 (vLLM's return_tokens_as_token_ids), or null for any other token text. */
export function tokenIdOf(token: string): number | null {
  const m = /^token_id:(\d+)$/.exec(token);
  return m ? Number(m[1]) : null;
}

/**
 * POST /tokenize (vLLM's TokenizeResponse: `count`, `max_model_len`, `tokens`, optional
 * `token_strs`). llama.cpp's server answers `{"tokens": []}` to a field it does not read, so an
 * empty tokenization of non-empty text is checked by the client.
 */
export const TokenizeResponseSchema = z.object({
  tokens: z.array(z.number().int().nonnegative()),
  count: z.number().int().nonnegative().optional(),
  max_model_len: z.number().int().positive().nullable().optional(),
});

/** POST /detokenize. */
export const DetokenizeResponseSchema = z.object({ prompt: z.string() });

/**
 * vLLM's 400 for more log-probs than `--max-logprobs` allows (vllm/v1/engine/processor.py,
 * `_validate_logprobs`): "Requested sample logprobs of 50, which is greater than max allowed: 20"
 * (or "prompt logprobs"). Returns the kind, what was asked and the cap, or null for other text.
 */
export function parseMaxLogprobsError(message: string): { kind: 'sample' | 'prompt'; requested: number; max: number } | null {
  const m = /Requested (sample|prompt) logprobs of (\d+), which is greater than max allowed: (-?\d+)/i.exec(message);
  return m ? { kind: m[1]!.toLowerCase() as 'sample' | 'prompt', requested: Number(m[2]), max: Number(m[3]) } : null;
}
