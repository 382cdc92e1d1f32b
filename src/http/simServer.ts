import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import { seedOf } from '../core/random/seededRandom.js';
import type { Generation } from '../models/tokenModel.js';
import { LineageSimulator, type Role, sampleSync, scorePrefixes } from '../simulator/lineageSimulator.js';
import { decode, encode, tokenText } from '../simulator/vocabulary.js';
import {
  type ChatRequest,
  ChatRequestSchema,
  type CompletionRequest,
  CompletionRequestSchema,
  DetokenizeRequestSchema,
  type ErrorBody,
  TokenizeRequestSchema,
} from './vllmDialect.js';

export const SPECIALIST_MODEL = 'sim-specialist';
export const ANCESTOR_MODEL = 'sim-ancestor';
const MAX_MODEL_LEN = 8192;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'BadRequestError',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/**
 * An HTTP server that serves a LineageSimulator in vLLM's OpenAI-compatible dialect:
 * GET /v1/models, /health; POST /v1/completions, /v1/chat/completions, /tokenize, /detokenize.
 * Requests are validated (a bad field gets a 400 naming it); requests without a seed get one
 * from a per-server counter, so the server is deterministic in the order it is called.
 */
export function createSimServer(sim: LineageSimulator): Server {
  let unseeded = 0;
  const seedFor = (seed: number | null | undefined) => seed ?? seedOf('server', sim.seed, unseeded++);
  const roleOf = (model: string): Role => {
    if (model === SPECIALIST_MODEL) return 'specialist';
    if (model === ANCESTOR_MODEL) return 'ancestor';
    throw new HttpError(404, `The model \`${model}\` does not exist. Served: ${SPECIALIST_MODEL}, ${ANCESTOR_MODEL}.`, 'NotFoundError', 'model');
  };

  const routes: Record<string, (body: unknown) => unknown> = {
    'POST /v1/completions': (body) => completions(sim, parse(CompletionRequestSchema, body), roleOf, seedFor),
    'POST /v1/chat/completions': (body) => chat(sim, parse(ChatRequestSchema, body), roleOf, seedFor),
    'POST /tokenize': (body) => {
      const req = parse(TokenizeRequestSchema, body);
      roleOf(req.model);
      const tokens = encode(req.prompt);
      return { count: tokens.length, max_model_len: MAX_MODEL_LEN, tokens };
    },
    'POST /detokenize': (body) => {
      const req = parse(DetokenizeRequestSchema, body);
      roleOf(req.model);
      return { prompt: decode(req.tokens) };
    },
    'GET /v1/models': () => ({
      object: 'list',
      data: [SPECIALIST_MODEL, ANCESTOR_MODEL].map((id) => ({ id, object: 'model', created: 0, owned_by: 'promptfoo-recoverability', max_model_len: MAX_MODEL_LEN })),
    }),
    'GET /health': () => ({}),
  };

  return createServer((req, res) => {
    const route = routes[`${req.method} ${req.url?.split('?')[0]}`];
    if (!route) return sendError(res, new HttpError(404, `no route ${req.method} ${req.url}`, 'NotFoundError'));
    readBody(req)
      .then((text) => {
        let body: unknown = {};
        if (req.method === 'POST') {
          try {
            body = JSON.parse(text);
          } catch {
            throw new HttpError(400, 'request body is not valid JSON');
          }
        }
        send(res, 200, route(body));
      })
      .catch((err: unknown) => sendError(res, err));
  });
}

/** Starts a simulator server; resolves with its URL (…/v1) and a close function. */
export async function startSimServer(options: { port?: number; host?: string; simulator?: LineageSimulator } = {}) {
  const sim = options.simulator ?? new LineageSimulator();
  const server = createSimServer(sim);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function completions(sim: LineageSimulator, req: CompletionRequest, roleOf: (m: string) => Role, seedFor: (s: number | null | undefined) => number) {
  const role = roleOf(req.model);
  const prompts = Array.isArray(req.prompt) && req.prompt.length > 0 && typeof req.prompt[0] !== 'number' ? (req.prompt as (string | number[])[]) : [req.prompt as string | number[]];
  const choices: unknown[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  prompts.forEach((p, pi) => {
    const ids = typeof p === 'string' ? encode(p) : p;
    promptTokens += ids.length;
    const topK = req.logprobs ?? 0;
    const gens: Generation[] =
      req.max_tokens === 0
        ? Array.from({ length: req.n }, () => ({ tokens: [], topK: [], text: '', finishReason: 'length' as const }))
        : sampleSync(sim, role, ids, { temperature: req.temperature, seed: seedFor(req.seed) + pi, maxTokens: req.max_tokens, topK: Math.max(topK, 1), n: req.n });
    const promptLogprobs = req.prompt_logprobs != null || req.echo ? promptEntries(sim, role, ids, req.prompt_logprobs ?? topK) : null;
    for (const g of gens) {
      completionTokens += g.tokens.length;
      const tokens = req.echo ? [...ids, ...g.tokens] : g.tokens;
      const tops: (TopKSlice | null)[] = req.echo ? [null, ...promptLogprobs!.slice(1).map((e) => e!.slice), ...g.topK] : g.topK;
      choices.push({
        index: choices.length,
        text: (req.echo ? decode(ids) : '') + g.text,
        logprobs: req.logprobs == null ? null : completionLogprobs(tokens, tops, req.logprobs, req.return_tokens_as_token_ids),
        finish_reason: g.finishReason,
        stop_reason: null,
        prompt_logprobs: req.prompt_logprobs == null ? null : promptLogprobs!.map((e) => e?.entry ?? null),
      });
    }
  });
  return {
    id: `cmpl-sim-${seedOf(JSON.stringify(req)) >>> 0}`,
    object: 'text_completion',
    created: 0,
    model: req.model,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** vLLM's prompt_logprobs: null for the first position, then {id: {logprob, rank, decoded_token}}. */
function promptEntries(sim: LineageSimulator, role: Role, ids: readonly number[], k: number) {
  return [
    null,
    ...scorePrefixes(sim, role, ids, 1, k).map(({ slice, rank }, i) => {
      // The slice is the distribution's top-K in order, plus the prompt token itself if it ranked lower.
      const entry: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
      Array.from(slice.ids).forEach((id, j) => (entry[String(id)] = { logprob: slice.logprobs[j]!, rank: id === ids[i + 1] ? rank : j + 1, decoded_token: tokenText(id) }));
      return { slice, entry };
    }),
  ];
}

function completionLogprobs(tokens: readonly number[], tops: readonly (TopKSlice | null)[], k: number, asIds: boolean) {
  const name = (id: number) => (asIds ? `token_id:${id}` : tokenText(id));
  let offset = 0;
  const textOffset: number[] = [];
  for (const t of tokens) {
    textOffset.push(offset);
    offset += tokenText(t).length;
  }
  return {
    text_offset: textOffset,
    tokens: tokens.map(name),
    token_logprobs: tokens.map((t, i) => {
      const top = tops[i];
      if (!top) return null;
      const j = Array.from(top.ids).indexOf(t);
      return j >= 0 ? top.logprobs[j]! : null;
    }),
    top_logprobs: tops.map((top, i) => {
      if (!top) return null;
      const out: Record<string, number> = {};
      Array.from(top.ids).forEach((id, j) => {
        if (j < k || id === tokens[i]) out[name(id)] = top.logprobs[j]!;
      });
      return out;
    }),
  };
}

function chat(sim: LineageSimulator, req: ChatRequest, roleOf: (m: string) => Role, seedFor: (s: number | null | undefined) => number) {
  const role = roleOf(req.model);
  const user = [...req.messages].reverse().find((m) => m.role === 'user') ?? req.messages.at(-1)!;
  const text = typeof user.content === 'string' ? user.content : (user.content ?? []).map((p) => p.text ?? '').join('');
  const ids = encode(text);
  const k = req.top_logprobs ?? 0;
  const gens = sampleSync(sim, role, ids, {
    temperature: req.temperature,
    seed: seedFor(req.seed),
    maxTokens: req.max_completion_tokens ?? req.max_tokens ?? 512,
    topK: Math.max(k, 1),
    n: req.n,
  });
  const name = (id: number) => (req.return_tokens_as_token_ids ? `token_id:${id}` : tokenText(id));
  const entry = (id: number, lp: number) => ({ token: name(id), logprob: lp, bytes: [...new TextEncoder().encode(tokenText(id))] });
  return {
    id: `chatcmpl-sim-${seedOf(JSON.stringify(req)) >>> 0}`,
    object: 'chat.completion',
    created: 0,
    model: req.model,
    choices: gens.map((g, index) => ({
      index,
      message: { role: 'assistant', content: g.text },
      logprobs: req.logprobs
        ? {
            content: g.tokens.map((t, i) => {
              const top = g.topK[i]!;
              const j = Array.from(top.ids).indexOf(t);
              return {
                ...entry(t, top.logprobs[j]!),
                top_logprobs: Array.from(top.ids)
                  .slice(0, k)
                  .map((id, m) => entry(id, top.logprobs[m]!)),
              };
            }),
          }
        : null,
      finish_reason: g.finishReason,
    })),
    usage: { prompt_tokens: ids.length, completion_tokens: gens.reduce((s, g) => s + g.tokens.length, 0), total_tokens: ids.length + gens.reduce((s, g) => s + g.tokens.length, 0) },
  };
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.join('.') || null;
  throw new HttpError(400, `${param ?? 'body'}: ${issue.message}`, 'BadRequestError', param);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof HttpError
      ? err
      : err instanceof RangeError // the simulator cannot pose this prompt (e.g. numbers out of range)
        ? new HttpError(400, err.message)
        : new HttpError(500, `internal error: ${(err as Error).message}`, 'InternalServerError');
  const body: ErrorBody = { object: 'error', message: e.message, type: e.type, param: e.param, code: e.status };
  send(res, e.status, body);
}
