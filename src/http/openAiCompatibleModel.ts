import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import { parseWith } from '../core/contracts/validate.js';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import { canonicalTopK } from '../models/canonicalTopK.js';
import type { Generation, SampleParams, TokenModel } from '../models/tokenModel.js';
import { MalformedResponseError, redactUrl } from './endpointErrors.js';
import { postJson, RETRY_DEFAULTS, type RetryPolicy } from './postJson.js';
import { type CompletionResponse, CompletionResponseSchema, tokenIdOf, type Usage } from './vllmDialect.js';

/** Configuration of an OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp server). */
export const EndpointConfigSchema = z.object({
  /** Base URL including /v1, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: z
    .string()
    .url('baseUrl must be a URL such as http://127.0.0.1:8000/v1')
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: 'baseUrl must not carry credentials (user:password@); put the key in an environment variable and name it in apiKeyEnv',
    }),
  /** The served model name. */
  model: z.string().min(1, 'model is the served model name, e.g. Qwen/Qwen3-1.7B'),
  /** Name of the environment variable holding the API key (the key itself never goes in config). */
  apiKeyEnv: z.string().optional(),
  /** Extra request headers. */
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(RETRY_DEFAULTS.timeoutMs),
  maxRetries: z.number().int().min(0).max(20).default(RETRY_DEFAULTS.maxRetries),
  retryBaseMs: z.number().int().min(0).default(RETRY_DEFAULTS.retryBaseMs),
  maxRetryDelayMs: z.number().int().min(0).default(RETRY_DEFAULTS.maxRetryDelayMs),
  /** Requests in flight at once against this endpoint. */
  concurrency: z.number().int().min(1).max(256).default(8),
  /** Token ids that end a generation (learned from finished samples when not given). */
  stopTokenIds: z.array(z.number().int().nonnegative()).default([]),
});
export type EndpointConfig = z.output<typeof EndpointConfigSchema>;
export type EndpointConfigInput = z.input<typeof EndpointConfigSchema>;

/**
 * TokenModel over an OpenAI-compatible completions endpoint in vLLM's dialect: exact token ids
 * via `return_tokens_as_token_ids`, top-K via `logprobs`, one-prefill scoring via
 * `prompt_logprobs`, tokenization via the server's /tokenize. Token usage is summed in `usage`.
 */
export class OpenAICompatibleModel implements TokenModel {
  readonly name: string;
  readonly usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, requests: 0 };
  private readonly config: EndpointConfig;
  private readonly limit: LimitFunction;
  private readonly stops: Set<number>;

  constructor(config: EndpointConfigInput, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.config = parseWith(EndpointConfigSchema, config, 'endpoint config');
    this.name = this.config.model;
    this.limit = pLimit(this.config.concurrency);
    this.stops = new Set(this.config.stopTokenIds);
  }

  private get policy(): RetryPolicy {
    const { timeoutMs, maxRetries, retryBaseMs, maxRetryDelayMs } = this.config;
    return { timeoutMs, maxRetries, retryBaseMs, maxRetryDelayMs };
  }

  private headers(): Record<string, string> {
    const headers = { ...this.config.headers };
    if (this.config.apiKeyEnv) {
      const key = this.env[this.config.apiKeyEnv];
      if (!key) throw new Error(`endpoint config: apiKeyEnv names ${this.config.apiKeyEnv}, which is not set in the environment`);
      headers.authorization = `Bearer ${key}`;
    }
    return headers;
  }

  /** POST to a path under the base URL ("completions") or, with a leading slash, under the server root ("/tokenize"). */
  private post(path: string, body: unknown): Promise<unknown> {
    const base = this.config.baseUrl.replace(/\/+$/, '');
    const url = path.startsWith('/') ? base.replace(/\/v1$/, '') + path : `${base}/${path}`;
    return this.limit(() => postJson(url, body, this.headers(), this.policy));
  }

  private async complete(body: Record<string, unknown>): Promise<CompletionResponse> {
    const raw = await this.post('completions', { model: this.config.model, return_tokens_as_token_ids: true, ...body });
    const res = this.validate(CompletionResponseSchema, raw, 'completion response');
    if (res.usage) this.addUsage(res.usage);
    return res;
  }

  private addUsage(u: Usage): void {
    this.usage.prompt_tokens += u.prompt_tokens;
    this.usage.completion_tokens += u.completion_tokens;
    this.usage.total_tokens += u.total_tokens;
    this.usage.requests++;
  }

  private validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
    try {
      return parseWith(schema, raw, `${redactUrl(this.config.baseUrl)} ${what}`);
    } catch (err) {
      throw new MalformedResponseError((err as Error).message, redactUrl(this.config.baseUrl), 1);
    }
  }

  private malformed(message: string): MalformedResponseError {
    return new MalformedResponseError(`${redactUrl(this.config.baseUrl)} ${message}`, redactUrl(this.config.baseUrl), 1);
  }

  async tokenize(text: string): Promise<number[]> {
    const raw = await this.post('/tokenize', { model: this.config.model, prompt: text, add_special_tokens: true });
    return this.validate(z.object({ tokens: z.array(z.number().int().nonnegative()) }), raw, '/tokenize response').tokens;
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    const raw = await this.post('/detokenize', { model: this.config.model, tokens: ids });
    return this.validate(z.object({ prompt: z.string() }), raw, '/detokenize response').prompt;
  }

  async sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]> {
    const res = await this.complete({
      prompt,
      n: params.n ?? 1,
      temperature: params.temperature,
      seed: params.seed,
      max_tokens: params.maxTokens,
      logprobs: params.topK,
    });
    return res.choices
      .sort((a, b) => a.index - b.index)
      .map((c, i) => {
        if (!c.logprobs) throw this.malformed(`choice ${i} has no logprobs; the server must support "logprobs" on /v1/completions`);
        const tokens = c.logprobs.tokens.map((t, pos) => this.tokenId(t, `choice ${i} token ${pos}`));
        const tops = c.logprobs.top_logprobs;
        if (!tops || tops.length !== tokens.length) throw this.malformed(`choice ${i} top_logprobs has ${tops?.length ?? 0} entries for ${tokens.length} tokens`);
        const topK = tops.map((entry, pos) => this.slice(entry ?? {}, `choice ${i} position ${pos}`));
        const finishReason = c.finish_reason === 'stop' ? 'stop' : 'length';
        if (finishReason === 'stop' && tokens.length > 0) this.stops.add(tokens.at(-1)!);
        return { tokens, topK, text: c.text, finishReason };
      });
  }

  async score(prompt: readonly number[], continuation: readonly number[], topK: number): Promise<TopKSlice[]> {
    if (continuation.length === 0) return [];
    const res = await this.complete({ prompt: [...prompt, ...continuation], max_tokens: 1, temperature: 0, prompt_logprobs: topK });
    const entries = res.choices[0]!.prompt_logprobs;
    const total = prompt.length + continuation.length;
    if (!entries || entries.length < total) {
      throw this.malformed(`returned ${entries?.length ?? 0} prompt_logprobs for ${total} prompt tokens; the server must support vLLM's "prompt_logprobs"`);
    }
    return continuation.map((_, i) => {
      const entry = entries[prompt.length + i];
      if (!entry) throw this.malformed(`prompt_logprobs[${prompt.length + i}] is null`);
      const ids = Object.keys(entry).map(Number);
      const lps = Object.values(entry).map((e) => e.logprob);
      return this.checked(canonicalTopK(ids, lps), `prompt_logprobs[${prompt.length + i}]`);
    });
  }

  async nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice> {
    const res = await this.complete({ prompt: prefix, max_tokens: 1, temperature: 0, logprobs: topK });
    const top = res.choices[0]!.logprobs?.top_logprobs?.[0];
    if (!top) throw this.malformed('returned no top_logprobs for the next token');
    return this.slice(top, 'next token');
  }

  isStop(token: number): boolean {
    return this.stops.has(token);
  }

  private tokenId(token: string, where: string): number {
    const id = tokenIdOf(token);
    if (id === null) throw this.malformed(`${where} is ${JSON.stringify(token)}, not "token_id:N"; the server must honour return_tokens_as_token_ids (vLLM ≥ 0.6)`);
    return id;
  }

  private slice(entry: Record<string, number>, where: string): TopKSlice {
    const ids = Object.keys(entry).map((t) => this.tokenId(t, where));
    return this.checked(canonicalTopK(ids, Object.values(entry)), where);
  }

  private checked(slice: TopKSlice, where: string): TopKSlice {
    Array.from(slice.logprobs).forEach((lp, i) => {
      if (!Number.isFinite(lp) || lp > 1e-6) throw this.malformed(`${where}: log-prob of token ${slice.ids[i]} is ${lp}, expected a finite value ≤ 0`);
    });
    return slice;
  }
}
