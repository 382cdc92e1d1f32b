import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { seedOf } from '../core/random/seededRandom.js';
import type { ServedModel } from '../models/servedModel.js';
import { DecodeAborted, type DecodedSequence, decodeSequences } from './decodeLoop.js';
import type { GenerationDefaults } from './generationConfig.js';
import { chatLogprobs, completionLogprobs, type LogprobEntry, positionEntries, promptLogprobsEntry, type TokenNamer } from './logprobEntries.js';
import {
  BodyTooLargeError,
  checkJsonContentType,
  checkLogprobCaps,
  checkLogprobsSign,
  checkOutputBudget,
  checkTextLength,
  checkTokenIds,
  checkTokenLength,
  DEFAULT_MAX_BODY_BYTES,
  encodeOrReject,
  readBody,
} from './requestLimits.js';
import { resolveSamplingParams, type SamplingParams } from './samplingParams.js';
import { httpError, modelNotFound, schemaError, ServerError, validationError } from './serverErrors.js';
import {
  type ChatRequest,
  ChatRequestSchema,
  type CompletionRequest,
  CompletionRequestSchema,
  DetokenizeRequestSchema,
  TokenizeRequestSchema,
  UNSUPPORTED_FIELDS,
} from './vllmDialect.js';

/** One request as it arrived: for asserting on what a client sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** The parsed JSON body, or the raw text when it is not JSON; null for GET. */
  body: unknown;
}

export interface VllmServerOptions {
  /** The served models; requests name them by `id` (the first one when `model` is left out). */
  models: readonly ServedModel[];
  /** vLLM's --max-logprobs (default 20): `logprobs` / `prompt_logprobs` / `top_logprobs` above it are a 400. */
  maxLogprobs?: number;
  /** vLLM's --max-model-len: at most every model's own; default each model's own. */
  maxModelLen?: number;
  /** Sampling defaults for fields a request leaves out, as from a generation_config.json (default none: vLLM's neutral values). */
  generationDefaults?: GenerationDefaults;
  /** vLLM caps max_tokens by the config's max_new_tokens only when --generation-config names a folder (not `auto` / `vllm`). */
  capMaxTokensByGenerationConfig?: boolean;
  /** Largest request body accepted (default 1 MiB); a larger one is a 413. */
  maxBodyBytes?: number;
  /** Most sequences one request may decode (prompts × n; default 256), vLLM's VLLM_MAX_N_SEQUENCES in spirit. */
  maxSequences?: number;
  /** Seed of the seeds the server picks for requests without one (default 0): deterministic in call order. */
  seed?: number;
  /** Called with every request before it is validated. */
  onRequest?: (request: RecordedRequest) => void;
}

export interface VllmServerHandle {
  server: Server;
  /** The base URL, ending in /v1. */
  url: string;
  close(): Promise<void>;
}

interface Served {
  model: ServedModel;
  maxModelLen: number;
}

type Handler = (body: unknown, signal: AbortSignal) => unknown;

/**
 * An HTTP server that speaks vLLM's OpenAI-compatible dialect as vLLM (V1 engine, newest layout)
 * really behaves, for any ServedModel: GET /health, /v1/models; POST /v1/completions,
 * /v1/chat/completions, /tokenize, /detokenize. Log-probs are raw (temperature 1, full
 * vocabulary, before any processing: V1's default raw_logprobs); sampling is done here, once, for
 * every backend. Requests are validated with the dialect's zod schemas and vLLM's own checks and
 * messages; errors come in vLLM's nested body. Decoding yields between steps, so a long request
 * never keeps others (a /health) waiting; a client that goes away stops its decode.
 */
export function createVllmServer(options: VllmServerOptions): Server {
  if (options.models.length === 0) throw new Error('createVllmServer needs at least one model');
  const maxLogprobs = options.maxLogprobs ?? 20;
  const defaults = options.generationDefaults ?? {};
  const overrideMaxTokens = options.capMaxTokensByGenerationConfig ? defaults.max_tokens : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxSequences = options.maxSequences ?? 256;
  const served = new Map<string, Served>();
  for (const model of options.models) {
    if (options.maxModelLen !== undefined && options.maxModelLen > model.maxModelLen) {
      throw new RangeError(`max_model_len ${options.maxModelLen} is greater than ${model.id}'s maximum context length ${model.maxModelLen}`);
    }
    served.set(model.id, { model, maxModelLen: options.maxModelLen ?? model.maxModelLen });
  }
  const first = served.get(options.models[0]!.id)!;
  const lookup = (name: string | null | undefined): Served => {
    if (name == null) return first;
    const s = served.get(name);
    if (!s) throw modelNotFound(name);
    return s;
  };
  let unseeded = 0;
  const seedFor = (p: SamplingParams) => p.seed ?? seedOf('server', options.seed ?? 0, unseeded++);
  const created = () => Math.floor(Date.now() / 1000);

  async function completions(raw: unknown, signal: AbortSignal) {
    const body = jsonObject(raw);
    rejectUnsupported(body);
    checkLogprobsSign('logprobs', body.logprobs);
    checkLogprobsSign('prompt_logprobs', body.prompt_logprobs);
    if (body.prompt == null || body.prompt === '') throw validationError('Either prompt or prompt_embeds must be provided and non-empty.', 'prompt');
    const req = parse(CompletionRequestSchema, body);
    const { model, maxModelLen } = lookup(req.model);
    const prompts = splitPrompts(req.prompt);
    if (prompts.length * req.n > maxSequences) {
      throw validationError(`this request asks for ${prompts.length} prompts × n=${req.n} = ${prompts.length * req.n} sequences; this server decodes at most ${maxSequences} per request.`, 'n', req.n);
    }
    const echoOnly = req.echo === true && req.max_tokens === 0;
    // Rendering (renderers/params.py): the output budget, then each prompt's length.
    checkOutputBudget(req.max_tokens, maxModelLen);
    const inputs = prompts.map((p) => {
      if (typeof p === 'string') checkTextLength(p, req.max_tokens, maxModelLen);
      const ids = typeof p === 'string' ? encodeOrReject(model, p, req.add_special_tokens) : p;
      checkTokenLength(ids.length, req.max_tokens, maxModelLen);
      return { ids, text: typeof p === 'string' ? p : null };
    });
    const promptLogprobs = req.prompt_logprobs ?? (req.echo ? (req.logprobs ?? null) : null);
    const jobs = inputs.map(({ ids, text }) => {
      const maxTokens = echoOnly ? 1 : maxTokensFor(maxModelLen, req.max_tokens, ids.length, defaults, overrideMaxTokens);
      const params = resolveSamplingParams(req, defaults, maxTokens, maxSequences);
      return { ids, text, params };
    });
    // The engine's checks (v1 input processor, SamplingParams.verify).
    checkLogprobCaps(req.logprobs ?? null, promptLogprobs, maxLogprobs);
    checkStopTokenIds(model, req.stop_token_ids ?? []);
    for (const { ids } of jobs) {
      if (ids.length === 0) throw validationError('The decoder prompt cannot be empty');
      checkTokenIds(model, ids);
    }
    const name = tokenNamer(model, req.return_tokens_as_token_ids === true);
    const choices: unknown[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    for (const { ids, text, params } of jobs) {
      const promptEntries = promptLogprobs === null ? null : scorePromptEntries(model, ids, promptLogprobs);
      const seqs = await decodeSequences({ model, prompt: ids, params, seed: seedFor(params), logprobs: req.logprobs ?? null, signal });
      // vLLM leaves the prompt's text out of an echo when token ids are returned.
      const promptText = req.return_token_ids ? '' : (text ?? model.decode(ids));
      promptTokens += ids.length;
      for (const seq of seqs) {
        completionTokens += seq.tokens.length;
        choices.push(completionChoice(choices.length, req, ids, promptText, promptEntries, seq, echoOnly, name, model));
      }
    }
    return {
      id: `cmpl-${randomUUID().replaceAll('-', '')}`,
      object: 'text_completion',
      created: created(),
      model: model.id,
      choices,
      service_tier: null,
      system_fingerprint: null,
      usage: usage(promptTokens, completionTokens),
    };
  }

  async function chat(raw: unknown, signal: AbortSignal) {
    const body = jsonObject(raw);
    rejectUnsupported(body);
    const top = body.top_logprobs;
    if (typeof top === 'number' && top < 0 && top !== -1) throw validationError('`top_logprobs` must be a positive value.', 'top_logprobs', top);
    if (typeof top === 'number' && top > 0 && !body.logprobs) throw validationError('when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
    const req = parse(ChatRequestSchema, body);
    const { model, maxModelLen } = lookup(req.model);
    const requested = req.max_completion_tokens ?? req.max_tokens ?? null;
    checkOutputBudget(requested ?? 0, maxModelLen);
    const text = chatPromptText(req);
    checkTextLength(text, requested ?? 0, maxModelLen);
    const ids = encodeOrReject(model, text, req.add_special_tokens, 'messages');
    checkTokenLength(ids.length, requested ?? 0, maxModelLen);
    const params = resolveSamplingParams(req, defaults, maxTokensFor(maxModelLen, requested, ids.length, defaults, overrideMaxTokens), maxSequences);
    const k = req.logprobs ? (req.top_logprobs ?? 0) : null;
    checkLogprobCaps(k, null, maxLogprobs);
    checkStopTokenIds(model, req.stop_token_ids ?? []);
    if (ids.length === 0) throw validationError('The decoder prompt cannot be empty');
    const seqs = await decodeSequences({ model, prompt: ids, params, seed: seedFor(params), logprobs: k, signal });
    const name = tokenNamer(model, req.return_tokens_as_token_ids === true);
    const completionTokens = seqs.reduce((s, q) => s + q.tokens.length, 0);
    return {
      id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      object: 'chat.completion',
      created: created(),
      model: model.id,
      choices: seqs.map((seq, index) => ({
        index,
        message: { role: 'assistant', content: seq.text, tool_calls: [] },
        logprobs: k === null ? null : chatLogprobs(seq.tokens, seq.logprobs!, k, name),
        finish_reason: seq.finishReason,
        stop_reason: seq.stopReason,
      })),
      service_tier: null,
      system_fingerprint: null,
      usage: usage(ids.length, completionTokens),
      prompt_logprobs: null,
    };
  }

  function tokenize(raw: unknown) {
    const req = parse(TokenizeRequestSchema, raw);
    const { model, maxModelLen } = lookup(req.model);
    const text = 'prompt' in req ? req.prompt : chatPromptText(req);
    checkTextLength(text, 0, maxModelLen);
    const tokens = encodeOrReject(model, text, req.add_special_tokens, 'prompt' in req ? 'prompt' : 'messages');
    checkTokenLength(tokens.length, 0, maxModelLen);
    return { count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: req.return_token_strs ? tokens.map((t) => model.tokenText(t)) : null };
  }

  function detokenize(raw: unknown) {
    const req = parse(DetokenizeRequestSchema, raw);
    const { model, maxModelLen } = lookup(req.model);
    checkTokenLength(req.tokens.length, 0, maxModelLen);
    checkTokenIds(model, req.tokens, 'tokens');
    return { prompt: model.decode(req.tokens) };
  }

  /** vLLM's ModelList / ModelCard (serve/engine/protocol.py). */
  function models() {
    const now = created();
    return {
      object: 'list',
      data: [...served.values()].map(({ model, maxModelLen }) => ({
        id: model.id,
        object: 'model',
        created: now,
        owned_by: 'vllm',
        root: model.id,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: `modelperm-${randomUUID().replaceAll('-', '')}`,
            object: 'model_permission',
            created: now,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      })),
    };
  }

  const routes: Record<string, { method: 'GET' | 'POST'; handle: Handler }> = {
    '/health': { method: 'GET', handle: () => undefined },
    '/v1/models': { method: 'GET', handle: models },
    '/v1/completions': { method: 'POST', handle: completions },
    '/v1/chat/completions': { method: 'POST', handle: chat },
    '/tokenize': { method: 'POST', handle: tokenize },
    '/detokenize': { method: 'POST', handle: detokenize },
  };

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) throw httpError(404, 'Not Found');
    if (req.method !== route.method) throw httpError(405, 'Method Not Allowed');
    if (route.method === 'GET') {
      options.onRequest?.({ method: req.method, path, body: null });
      return send(res, 200, await route.handle(undefined, signal));
    }
    checkJsonContentType(req);
    const text = (await readBody(req, maxBodyBytes)).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      options.onRequest?.({ method: 'POST', path, body: text });
      throw new ServerError(400, `1 validation error:\n  body: JSON decode error: ${(err as Error).message}`, 'Bad Request', 'body');
    }
    options.onRequest?.({ method: 'POST', path, body });
    send(res, 200, await route.handle(body, signal));
  }

  return createServer((req, res) => {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    handle(req, res, controller.signal).catch((err: unknown) => {
      if (err instanceof DecodeAborted) return void res.destroy();
      if (err instanceof BodyTooLargeError) res.setHeader('connection', 'close');
      sendError(res, err);
    });
  });
}

/** Starts a server on `host` (default 127.0.0.1, loopback) and `port` (default 0: a free one). */
export async function startVllmServer(options: VllmServerOptions & { port?: number; host?: string }): Promise<VllmServerHandle> {
  const host = options.host ?? '127.0.0.1';
  if (host.trim() === '') throw new RangeError('the host is empty, which would listen on every interface; name an address such as 127.0.0.1 (or 0.0.0.0 on purpose)');
  const server = createVllmServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** vLLM's get_max_tokens (serve/utils/api_utils.py): the least of the room left, the request's (or config's) max_tokens and the config cap. */
function maxTokensFor(maxModelLen: number, requested: number | null, inputLength: number, defaults: GenerationDefaults, override: number | undefined): number {
  if (inputLength > maxModelLen) throw validationError(`Input length (${inputLength}) exceeds model's maximum context length (${maxModelLen}).`);
  const candidates = [maxModelLen - inputLength, requested ?? defaults.max_tokens, override].filter((v): v is number => v !== undefined && v !== null);
  return Math.min(...candidates);
}

function completionChoice(
  index: number,
  req: CompletionRequest,
  ids: readonly number[],
  promptText: string,
  promptEntries: (LogprobEntry[] | null)[] | null,
  seq: DecodedSequence,
  echoOnly: boolean,
  name: TokenNamer,
  model: ServedModel,
) {
  let tokens: readonly number[] = seq.tokens;
  let positions: readonly (LogprobEntry[] | null)[] | null = seq.logprobs;
  let text = seq.text;
  if (req.echo) {
    tokens = echoOnly ? ids : [...ids, ...seq.tokens];
    positions = echoOnly ? promptEntries : req.logprobs == null ? null : [...promptEntries!, ...seq.logprobs!];
    text = echoOnly ? promptText : promptText + seq.text;
  }
  return {
    index,
    text,
    logprobs: req.logprobs == null ? null : completionLogprobs(tokens, positions!, req.logprobs, name),
    finish_reason: seq.finishReason,
    stop_reason: seq.stopReason,
    token_ids: req.return_token_ids ? seq.tokens : null,
    prompt_logprobs: promptEntries ? promptEntries.map((e) => (e ? promptLogprobsEntry(e, (id) => model.tokenText(id)) : null)) : null,
    prompt_token_ids: req.return_token_ids ? ids : null,
  };
}

/** vLLM's prompt_logprobs for every prompt position: null first, then the actual token and the top-k. */
function scorePromptEntries(model: ServedModel, ids: readonly number[], k: number): (LogprobEntry[] | null)[] {
  const dists = model.scorePrompt(ids);
  return [null, ...dists.map((d, p) => positionEntries(d, ids[p + 1]!, k))];
}

function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: null };
}

function tokenNamer(model: ServedModel, asIds: boolean): TokenNamer {
  return asIds ? (id) => `token_id:${id}` : (id) => model.tokenText(id);
}

/**
 * The prompt of a chat request. These models have no chat template, so it is the text of the
 * last user message (the last message when none is from the user).
 */
function chatPromptText(req: Pick<ChatRequest, 'messages'>): string {
  const message = [...req.messages].reverse().find((m) => m.role === 'user') ?? req.messages.at(-1)!;
  const content = message.content;
  return typeof content === 'string' ? content : (content ?? []).map((p) => p.text ?? '').join('');
}

/** A prompt field as a list of prompts: one string, one id list, or a list of either. */
function splitPrompts(prompt: CompletionRequest['prompt']): (string | number[])[] {
  if (typeof prompt === 'string') return [prompt];
  if (prompt.length === 0 || typeof prompt[0] === 'number') return [prompt as number[]];
  return prompt as (string | number[])[];
}

function checkStopTokenIds(model: ServedModel, ids: readonly number[]): void {
  const bad = ids.filter((id) => !model.isToken(id));
  if (bad.length > 0) throw validationError(`token_id(s) [${bad.join(', ')}] in stop_token_ids contain out-of-vocab token ids.`, 'stop_token_ids', bad);
}

function rejectUnsupported(body: Record<string, unknown>): void {
  for (const [field, isSet] of Object.entries(UNSUPPORTED_FIELDS)) {
    if (field in body && isSet(body[field])) {
      throw new ServerError(400, `\`${field}\` is not supported by this server (recoverability serve); leave it out`, 'BadRequestError', field);
    }
  }
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServerError(400, '1 validation error:\n  body: the request body must be a JSON object', 'Bad Request', 'body');
  return body as Record<string, unknown>;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw schemaError(r.error.issues);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, { 'content-length': 0 });
    return void res.end();
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof ServerError
      ? err
      : err instanceof RangeError // the model cannot take this input (e.g. the simulator's number range), vLLM's ValueError → 400
        ? new ServerError(400, err.message, 'BadRequestError')
        : new ServerError(500, `internal error: ${(err as Error).message}`, 'InternalServerError');
  send(res, e.status, e.body());
}
