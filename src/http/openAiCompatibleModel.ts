import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import { parseWith } from '../core/contracts/validate.js';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import { canonicalTopK } from '../models/canonicalTopK.js';
import type { Generation, RankedTopKSlice, RequestStats, SampleParams, TokenModel } from '../models/tokenModel.js';
import {
  EndpointHttpError,
  GenerationAbortedError,
  IncompleteResponseError,
  MalformedResponseError,
  ModelNotServedError,
  redactUrl,
} from './endpointErrors.js';
import { postJson, type RequestOptions, RETRY_DEFAULTS, type RetryPolicy } from './postJson.js';
import { registerSecret, SECRET_HEADER } from './redact.js';
import { RetryBudget } from './retryBudget.js';
import {
  type CompletionResponse,
  CompletionResponseSchema,
  DetokenizeResponseSchema,
  ModelsResponseSchema,
  parseMaxLogprobsError,
  TokenizeResponseSchema,
  tokenIdOf,
  type Usage,
} from './vllmDialect.js';

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
  /** Token ids that end a generation (learned from `stop_reason` of finished samples when not given). */
  stopTokenIds: z.array(z.number().int().nonnegative()).default([]),
});
export type EndpointConfig = z.output<typeof EndpointConfigSchema>;
export type EndpointConfigInput = z.input<typeof EndpointConfigSchema>;

/**
 * Sent with every completion request. vLLM fills every sampling field a request leaves out from
 * the model's generation_config.json (Qwen3 ships top_k 20, top_p 0.95), so without these the
 * rollouts are not samples from the model's distribution at temperature T. top_k −1 is
 * "disabled" on every vLLM version (newer ones prefer 0 and still accept −1).
 */
export const NEUTRAL_SAMPLING = { top_p: 1, top_k: -1, min_p: 0, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 } as const;

/** What the server says about the served model (GET /v1/models); nulls where it does not say. */
export interface ServedModelInfo {
  /** Whether the server lists models at all. */
  listed: boolean;
  /** The weights behind the name (vLLM's `root`: a path or hub id). */
  root: string | null;
  maxModelLen: number | null;
}

/** Per process, per endpoint (base URL + model): the model card, and the log-prob cap learned from a 400. */
const servedInfos = new Map<string, Promise<ServedModelInfo>>();
const logprobCaps = new Map<string, number>();

/**
 * TokenModel over an OpenAI-compatible completions endpoint in vLLM's dialect: exact token ids
 * via `return_tokens_as_token_ids`, top-K via `logprobs`, one-prefill scoring via
 * `prompt_logprobs` (with each token's rank), tokenization via the server's /tokenize.
 * Sampling fields are sent neutral (NEUTRAL_SAMPLING); a top-K above the server's
 * `--max-logprobs` is lowered once it is learned (from the 400) and said in `notices()`;
 * responses are checked for every choice 0…n−1. Retries draw on a RetryBudget (shared when one
 * is given). Token usage is summed in `usage`.
 */
export class OpenAICompatibleModel implements TokenModel {
  readonly name: string;
  readonly usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, requests: 0 };
  readonly budget: RetryBudget;
  private readonly config: EndpointConfig;
  private readonly limit: LimitFunction;
  private readonly stops: Set<number>;
  private readonly endpointKey: string;
  private readonly notes = new Set<string>();
  private tokenizerMaxModelLen: number | null = null;

  constructor(
    config: EndpointConfigInput,
    private readonly env: NodeJS.ProcessEnv = process.env,
    options: { budget?: RetryBudget } = {},
  ) {
    this.config = parseWith(EndpointConfigSchema, config, 'endpoint config');
    this.name = this.config.model;
    this.limit = pLimit(this.config.concurrency);
    this.stops = new Set(this.config.stopTokenIds);
    this.budget = options.budget ?? new RetryBudget();
    this.endpointKey = `${this.config.baseUrl.replace(/\/+$/, '')}\n${this.config.model}`;
    for (const [name, value] of Object.entries(this.config.headers)) if (SECRET_HEADER.test(name)) registerSecret(value);
    if (this.config.apiKeyEnv) registerSecret(this.env[this.config.apiKeyEnv]);
  }

  private get where(): string {
    return redactUrl(this.config.baseUrl);
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
      registerSecret(key);
      headers.authorization = `Bearer ${key}`;
    }
    return headers;
  }

  /**
   * POST (GET when body is undefined) to a path under the base URL ("completions") or, with a
   * leading slash, under the server root ("/tokenize").
   */
  private request(path: string, body: unknown, stats?: RequestStats, countAsRequest = true): Promise<unknown> {
    const base = this.config.baseUrl.replace(/\/+$/, '');
    const url = path.startsWith('/') ? base.replace(/\/v1$/, '') + path : `${base}/${path}`;
    const options: RequestOptions = { budget: this.budget, countAsRequest, ...(stats ? { stats } : {}) };
    return this.limit(() => postJson(url, body, this.headers(), this.policy, options));
  }

  private async complete(body: Record<string, unknown>, stats?: RequestStats, countAsRequest = true): Promise<CompletionResponse> {
    const raw = await this.request('completions', { model: this.config.model, return_tokens_as_token_ids: true, ...NEUTRAL_SAMPLING, ...body }, stats, countAsRequest);
    const res = this.validate(CompletionResponseSchema, raw, 'completion response');
    if (res.usage) this.addUsage(res.usage);
    return res;
  }

  /**
   * A completion asking for `requested` log-probs in `field`, lowered to the server's
   * max_logprobs once known. The first 400 that names the cap teaches it (per process, per
   * endpoint) and the request is sent again at the cap; the change is recorded in `notices()`.
   */
  private async completeWithinCap(body: Record<string, unknown>, field: 'logprobs' | 'prompt_logprobs', requested: number, stats?: RequestStats, countAsRequest = true): Promise<CompletionResponse> {
    for (let learned = false; ; learned = true) {
      const k = this.withinCap(requested);
      try {
        return await this.complete({ ...body, [field]: k }, stats, countAsRequest);
      } catch (err) {
        const cap = err instanceof EndpointHttpError && err.status === 400 ? parseMaxLogprobsError(err.message) : null;
        if (!cap || learned || cap.max < 1 || cap.max >= k) throw err;
        logprobCaps.set(this.endpointKey, cap.max);
      }
    }
  }

  private withinCap(requested: number): number {
    const cap = logprobCaps.get(this.endpointKey);
    if (cap === undefined || requested <= cap) return requested;
    this.notes.add(
      `${this.where} (model ${this.config.model}) allows at most ${cap} log-probs per position (vLLM's --max-logprobs): asked for ${requested}, using ${cap}. Start vLLM with --max-logprobs ${requested} to get all ${requested}.`,
    );
    return cap;
  }

  notices(): readonly string[] {
    return [...this.notes];
  }

  private addUsage(u: Usage): void {
    this.usage.prompt_tokens += u.prompt_tokens;
    this.usage.completion_tokens += u.completion_tokens;
    this.usage.total_tokens += u.total_tokens;
    this.usage.requests++;
  }

  private validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
    try {
      return parseWith(schema, raw, `${this.where} ${what}`);
    } catch (err) {
      throw new MalformedResponseError((err as Error).message, this.where, 1);
    }
  }

  private malformed(message: string): MalformedResponseError {
    return new MalformedResponseError(`${this.where} ${message}`, this.where, 1);
  }

  /**
   * What the server reports about the model at GET /v1/models (once per process per endpoint).
   * A server without the route gives nulls; a list that lacks the model is a ModelNotServedError
   * naming what it does serve.
   */
  servedModel(): Promise<ServedModelInfo> {
    let info = servedInfos.get(this.endpointKey);
    if (!info) {
      info = this.fetchServedModel();
      servedInfos.set(this.endpointKey, info);
      info.catch(() => servedInfos.delete(this.endpointKey));
    }
    return info;
  }

  private async fetchServedModel(): Promise<ServedModelInfo> {
    let raw: unknown;
    try {
      raw = await this.request('models', undefined);
    } catch (err) {
      if (err instanceof EndpointHttpError && (err.status === 404 || err.status === 405)) return { listed: false, root: null, maxModelLen: null };
      throw err;
    }
    const list = this.validate(ModelsResponseSchema, raw, '/v1/models response');
    if (list.data.length === 0) return { listed: false, root: null, maxModelLen: null };
    const card = list.data.find((d) => d.id === this.config.model);
    if (!card) {
      const served = list.data.map((d) => JSON.stringify(d.id)).join(', ');
      throw new ModelNotServedError(`${this.where} does not serve a model named ${JSON.stringify(this.config.model)}; it serves ${served}: set "model" to one of them`, this.where, 1);
    }
    return { listed: true, root: card.root ?? null, maxModelLen: card.max_model_len ?? null };
  }

  async contextWindow(): Promise<number | null> {
    return this.tokenizerMaxModelLen ?? (await this.servedModel()).maxModelLen;
  }

  async tokenize(text: string): Promise<number[]> {
    const raw = await this.request('/tokenize', { model: this.config.model, prompt: text, add_special_tokens: true });
    const res = this.validate(TokenizeResponseSchema, raw, '/tokenize response');
    if (res.tokens.length === 0 && text.length > 0) {
      throw this.malformed(
        `/tokenize returned no tokens for a ${text.length}-character text: the server does not read the "prompt" field (llama.cpp's /tokenize reads "content" and answers {"tokens": []}); this client needs vLLM's /tokenize`,
      );
    }
    if (res.max_model_len) this.tokenizerMaxModelLen = res.max_model_len;
    return res.tokens;
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    const raw = await this.request('/detokenize', { model: this.config.model, tokens: ids });
    return this.validate(DetokenizeResponseSchema, raw, '/detokenize response').prompt;
  }

  /**
   * `n` continuations in one request. A response without exactly the choices 0…n−1, or with a
   * choice the server aborted, is requested again (within maxRetries and the retry budget),
   * then fails as IncompleteResponseError / GenerationAbortedError.
   */
  async sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]> {
    const n = params.n ?? 1;
    const body = { prompt, n, temperature: params.temperature, seed: params.seed, max_tokens: params.maxTokens };
    for (let attempt = 1; ; attempt++) {
      const res = await this.completeWithinCap(body, 'logprobs', params.topK, params.stats, attempt === 1);
      try {
        return this.generations(res, n);
      } catch (err) {
        if (!(err instanceof IncompleteResponseError || err instanceof GenerationAbortedError)) throw err;
        if (attempt > this.config.maxRetries) throw err.addDetail(`(gave up after ${attempt} attempts)`);
        if (!this.budget.tryRetry()) throw err.addDetail(`(gave up after ${attempt} attempts: ${this.budget.describe()})`);
        if (params.stats) params.stats.retries++;
      }
    }
  }

  private generations(res: CompletionResponse, n: number): Generation[] {
    const indices = res.choices.map((c) => c.index);
    const complete = indices.length === n && new Set(indices).size === n && indices.every((i) => i < n);
    if (!complete) {
      throw new IncompleteResponseError(
        `${this.where} returned ${indices.length} choice${indices.length === 1 ? '' : 's'} (indices ${indices.join(', ')}) for n = ${n}: expected each index 0…${n - 1} once`,
        this.where,
        1,
      );
    }
    return [...res.choices]
      .sort((a, b) => a.index - b.index)
      .map((c, i) => {
        if (c.finish_reason === 'abort') throw new GenerationAbortedError(`${this.where} aborted choice ${i} (finish_reason "abort"): the server stopped the request before it finished`, this.where, 1);
        if (c.finish_reason !== 'stop' && c.finish_reason !== 'length') {
          throw this.malformed(`choice ${i} has finish_reason ${JSON.stringify(c.finish_reason)}; this client understands "stop" and "length"`);
        }
        if (!c.logprobs) throw this.malformed(`choice ${i} has no logprobs; the server must support "logprobs" on /v1/completions`);
        const tokens = c.logprobs.tokens.map((t, pos) => this.tokenId(t, `choice ${i} token ${pos}`));
        const tops = c.logprobs.top_logprobs;
        if (!tops || tops.length !== tokens.length) throw this.malformed(`choice ${i} top_logprobs has ${tops?.length ?? 0} entries for ${tokens.length} tokens`);
        const topK = tops.map((entry, pos) => this.slice(entry ?? {}, `choice ${i} position ${pos}`));
        const finishReason = c.finish_reason;
        if (finishReason === 'stop') this.learnStop(c.stop_reason, tokens);
        return { tokens, topK, text: c.text, finishReason, ...(c.stop_reason !== undefined ? { stopReason: c.stop_reason } : {}) };
      });
  }

  /**
   * vLLM's `stop_reason` says what ended a choice: null → the model's EOS (the last token),
   * an int → that stop token id, a string → a stop string (no stop token). Servers without
   * the field: the last token of a stopped choice is taken as a stop token.
   */
  private learnStop(stopReason: string | number | null | undefined, tokens: readonly number[]): void {
    if (typeof stopReason === 'number') this.stops.add(stopReason);
    else if ((stopReason === null || stopReason === undefined) && tokens.length > 0) this.stops.add(tokens.at(-1)!);
  }

  /** The continuation's positions from one prefill with `prompt_logprobs`, each with vLLM's `rank` per token when given. */
  async score(prompt: readonly number[], continuation: readonly number[], topK: number, stats?: RequestStats): Promise<RankedTopKSlice[]> {
    if (continuation.length === 0) return [];
    const res = await this.completeWithinCap({ prompt: [...prompt, ...continuation], max_tokens: 1, temperature: 0 }, 'prompt_logprobs', topK, stats);
    const entries = res.choices[0]!.prompt_logprobs;
    const total = prompt.length + continuation.length;
    if (!entries || entries.length < total) {
      throw this.malformed(`returned ${entries?.length ?? 0} prompt_logprobs for ${total} prompt tokens; the server must support vLLM's "prompt_logprobs"`);
    }
    return continuation.map((_, i) => {
      const at = prompt.length + i;
      const entry = entries[at];
      if (!entry) throw this.malformed(`prompt_logprobs[${at}] is null`);
      const ids = Object.keys(entry).map(Number);
      const lps = Object.values(entry).map((e) => e.logprob);
      const slice = this.checked(canonicalTopK(ids, lps), `prompt_logprobs[${at}]`);
      const ranks = Object.values(entry).map((e) => e.rank);
      if (ranks.some((r) => typeof r !== 'number')) return slice;
      const rankOf = new Map(ids.map((id, j) => [id, ranks[j] as number]));
      return { ...slice, ranks: Array.from(slice.ids, (id) => rankOf.get(id)!) };
    });
  }

  async nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice> {
    const res = await this.completeWithinCap({ prompt: prefix, max_tokens: 1, temperature: 0 }, 'logprobs', topK);
    const top = res.choices[0]!.logprobs?.top_logprobs?.[0];
    if (!top) throw this.malformed('returned no top_logprobs for the next token');
    return this.slice(top, 'next token');
  }

  isStop(token: number): boolean {
    return this.stops.has(token);
  }

  private tokenId(token: string, where: string): number {
    const id = tokenIdOf(token);
    if (id === null) {
      throw this.malformed(
        `${where} is ${JSON.stringify(token)}, not "token_id:N": the server ignored the request's return_tokens_as_token_ids (a per-request field since vLLM 0.8.0; start older vLLM servers with --return-tokens-as-token-ids)`,
      );
    }
    return id;
  }

  private slice(entry: Record<string, number>, where: string): TopKSlice {
    const ids = Object.keys(entry).map((t) => this.tokenId(t, where));
    return this.checked(canonicalTopK(ids, Object.values(entry)), where);
  }

  private checked<T extends TopKSlice>(slice: T, where: string): T {
    Array.from(slice.logprobs).forEach((lp, i) => {
      if (!Number.isFinite(lp) || lp > 1e-6) {
        const hint = lp > 1e-6 ? ' (a positive value means the server reports logits, e.g. vLLM --logprobs-mode raw_logits: use raw_logprobs)' : '';
        throw this.malformed(`${where}: log-prob of token ${slice.ids[i]} is ${lp}, expected a finite value ≤ 0${hint}`);
      }
    });
    return slice;
  }
}
