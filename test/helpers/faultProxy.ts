import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimServer } from '../../src/http/simServer.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { decode, word } from '../../src/simulator/vocabulary.js';

export type Fault = 'timeout' | '429' | '500' | 'truncate' | 'nan' | 'empty' | 'long' | 'echo401' | 'echo500' | 'echo500a';

/**
 * How the proxy behaves like a real vLLM server where serve-sim does not (each as vLLM's source
 * does it; see test/fixtures/vllm/README.md).
 */
export interface VllmBehaviour {
  /** `--max-logprobs`: `logprobs` / `prompt_logprobs` above it get vLLM's 400 ("Requested sample logprobs of N, which is greater than max allowed: M"). */
  maxLogprobs?: number;
  /** The model's max_model_len: reported by /tokenize and /v1/models; a prompt + max_tokens beyond it gets vLLM's 400. */
  maxModelLen?: number;
  /** `root` reported for each served model at /v1/models (vLLM: the weights' path or hub id). */
  root?: Record<string, string>;
  /** `processed_logprobs`: sampled log-probs reported after temperature scaling (vLLM --logprobs-mode processed_logprobs; prompt_logprobs stay raw). */
  logprobsMode?: 'raw_logprobs' | 'processed_logprobs';
  /** Models whose server does not do `prompt_logprobs` (SGLang, llama.cpp): such requests get a 400. */
  noPromptLogprobs?: string[];
  /** The first `times` sampling requests get only the first `keep` choices. */
  dropChoices?: { keep: number; times: number };
}

export interface ProxyRequest {
  url: string;
  kind: 'sample' | 'score' | 'other';
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/**
 * A proxy on 127.0.0.1 in front of an in-process serve-sim: forwards every request, records every request (kind, headers, parsed body), behaves like vLLM where
 * `vllm` says, and for prompts containing "FAULT:<name>" injects that fault instead. With
 * `holdSamplesAfter: N` it forwards the first N sampling requests and holds later ones
 * unanswered (a deterministic point to kill a client at: `waitForHeld(k)`), until
 * `stopHolding()`. Every loop is bounded; it stops with close().
 */
export async function startFaultProxy(options: { seed?: number; vllm?: VllmBehaviour; holdSamplesAfter?: number } = {}) {
  const sim = await startSimServer({ simulator: new LineageSimulator({ seed: options.seed ?? 0 }) });
  const upstream = sim.url.replace(/\/v1$/, '');
  const vllm = options.vllm ?? {};
  const counts = { sample: 0, score: 0, other: 0 };
  const requests: ProxyRequest[] = [];
  let holdAfter = options.holdSamplesAfter ?? Infinity;
  const held: ServerResponse[] = [];
  const heldWaiters: { n: number; resolve: () => void }[] = [];
  let dropsLeft = vllm.dropChoices?.times ?? 0;
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> & { prompt?: unknown; prompt_logprobs?: unknown; logprobs?: unknown; n?: number; max_tokens?: number; model?: string; temperature?: number } = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        // forwarded as is
      }
      const isCompletion = req.url === '/v1/completions';
      const scoring = isCompletion && body.prompt_logprobs != null;
      const kind = isCompletion ? (scoring ? 'score' : 'sample') : 'other';
      counts[kind]++;
      requests.push({ url: req.url ?? '', kind, headers: req.headers, body });
      const promptIds = Array.isArray(body.prompt) && typeof body.prompt[0] === 'number' ? (body.prompt as number[]) : null;
      const promptText = typeof body.prompt === 'string' ? body.prompt : promptIds ? decode(promptIds) : '';
      const fault = /FAULT:(\w+)/.exec(promptText)?.[1] as Fault | undefined;
      if (isCompletion && fault && appliesTo(fault, body.model, scoring)) return inject(fault, req, res, body, scoring, send);
      if (isCompletion) {
        const refusal = vllmRefusal(vllm, body, promptIds);
        if (refusal) return send(res, 400, JSON.stringify({ error: { message: refusal.message, type: 'BadRequestError', param: refusal.param, code: 400 } }));
      }
      if (kind === 'sample' && counts.sample > holdAfter) {
        held.push(res);
        for (const w of heldWaiters.filter((w) => held.length >= w.n)) w.resolve();
        return;
      }
      const up = await fetch(upstream + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? text : null });
      let answer = await up.text();
      if (up.ok) answer = adjust(vllm, req.url ?? '', kind, body, answer, () => dropsLeft-- > 0);
      send(res, up.status, answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    counts,
    requests,
    /** Resolves once `n` sampling requests are held unanswered. */
    waitForHeld: (n: number) => new Promise<void>((resolve) => (held.length >= n ? resolve() : heldWaiters.push({ n, resolve }))),
    /** Later sampling requests are forwarded again (held ones stay unanswered). */
    stopHolding: () => {
      holdAfter = Infinity;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sim.close();
    },
  };
}

/** Which requests a fault hits: the echo faults hit one model's requests only. */
function appliesTo(fault: Fault, model: unknown, scoring: boolean): boolean {
  if (fault === 'echo401' || fault === 'echo500') return model === 'sim-specialist' && !scoring;
  if (fault === 'echo500a') return model === 'sim-ancestor' && scoring;
  return true;
}

/** vLLM's 400s for a request it refuses before running it, or null. */
function vllmRefusal(vllm: VllmBehaviour, body: { logprobs?: unknown; prompt_logprobs?: unknown; max_tokens?: number; model?: string }, promptIds: number[] | null): { message: string; param: string } | null {
  if (body.prompt_logprobs != null && vllm.noPromptLogprobs?.includes(String(body.model))) return { message: 'prompt_logprobs is not supported', param: 'prompt_logprobs' };
  // vllm/v1/engine/processor.py, _validate_logprobs (plus the VLLMValidationError suffix newer versions add)
  for (const [field, kind] of [['logprobs', 'sample'], ['prompt_logprobs', 'prompt']] as const) {
    const k = body[field];
    if (vllm.maxLogprobs !== undefined && typeof k === 'number' && k > vllm.maxLogprobs) {
      return { message: `Requested ${kind} logprobs of ${k}, which is greater than max allowed: ${vllm.maxLogprobs} (parameter=${field}, value=${k})`, param: field };
    }
  }
  // vLLM's renderer: prompt + max_tokens must fit max_model_len
  const maxTokens = body.max_tokens ?? 16;
  if (vllm.maxModelLen !== undefined && promptIds && promptIds.length + maxTokens > vllm.maxModelLen) {
    return {
      message: `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${vllm.maxModelLen} tokens and your request has ${promptIds.length} input tokens (${maxTokens} > ${vllm.maxModelLen} - ${promptIds.length}).`,
      param: 'max_tokens',
    };
  }
  return null;
}

/** serve-sim's answer as vLLM with these settings would give it. */
function adjust(vllm: VllmBehaviour, url: string, kind: ProxyRequest['kind'], body: { temperature?: number }, answer: string, drop: () => boolean): string {
  const json = JSON.parse(answer);
  if (url === '/tokenize' && vllm.maxModelLen !== undefined) json.max_model_len = vllm.maxModelLen;
  if (url === '/v1/models') {
    for (const card of json.data) {
      if (vllm.maxModelLen !== undefined) card.max_model_len = vllm.maxModelLen;
      if (vllm.root?.[card.id]) card.root = vllm.root[card.id];
    }
  }
  if (kind === 'sample') {
    if (vllm.logprobsMode === 'processed_logprobs') {
      const t = body.temperature ?? 1;
      for (const c of json.choices) {
        c.logprobs.top_logprobs = c.logprobs.top_logprobs.map((entry: Record<string, number> | null) => (entry ? tempered(entry, t) : entry));
        c.logprobs.token_logprobs = c.logprobs.tokens.map((tok: string, i: number) => c.logprobs.top_logprobs[i]?.[tok] ?? null);
      }
    }
    if (vllm.dropChoices && drop()) json.choices = json.choices.slice(0, vllm.dropChoices.keep);
  }
  return JSON.stringify(json);
}

/** lp/T − logsumexp(lp/T) over the entry: the gap structure of log-probs processed at temperature T. */
function tempered(entry: Record<string, number>, t: number): Record<string, number> {
  const scaled = Object.values(entry).map((lp) => lp / t);
  const max = Math.max(...scaled);
  const lse = max + Math.log(scaled.reduce((s, x) => s + Math.exp(x - max), 0));
  return Object.fromEntries(Object.entries(entry).map(([k, lp]) => [k, lp / t - lse]));
}

function inject(fault: Fault, req: IncomingMessage, res: ServerResponse, body: { n?: number; prompt?: unknown }, scoring: boolean, send: (res: ServerResponse, s: number, b: string, h?: Record<string, string>) => void): void {
  const completion = (choices: unknown[]) => JSON.stringify({ id: 'cmpl-fault', object: 'text_completion', created: 0, model: 'sim-specialist', choices, usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } });
  switch (fault) {
    case 'timeout':
      return; // never answered (until the proxy closes)
    case '429':
      return send(res, 429, JSON.stringify({ object: 'error', message: 'rate limited', type: 'RateLimitError', code: 429 }), { 'retry-after': '0' });
    case '500':
      return send(res, 500, JSON.stringify({ object: 'error', message: 'engine crashed', type: 'InternalServerError', code: 500 }));
    // Proxies that echo the request's headers in their error bodies, in three shapes.
    case 'echo401':
      return send(res, 401, JSON.stringify({ error: { message: `invalid credentials; request headers: ${JSON.stringify(req.headers)}`, type: 'AuthenticationError', code: 401 } }));
    case 'echo500':
      res.writeHead(500, { 'content-type': 'text/plain' });
      return void res.end(`upstream error\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`);
    case 'echo500a': {
      const pythonRepr = `{${Object.entries(req.headers).map(([k, v]) => `'${k}': '${v}'`).join(', ')}}`;
      return send(res, 500, JSON.stringify({ error: { message: `engine failed for request with headers ${pythonRepr}`, type: 'InternalServerError', code: 500 } }));
    }
    case 'truncate':
      return send(res, 200, completion([{ index: 0, text: 'Step 1:', finish_reason: 'length' }]).slice(0, 60));
    case 'nan':
      return send(res, 200, `{"id":"x","object":"text_completion","created":0,"model":"m","choices":[{"index":0,"text":"a","logprobs":{"tokens":["token_id:300"],"token_logprobs":[NaN],"top_logprobs":[{"token_id:300":NaN}]},"finish_reason":"length"}]}`);
    case 'empty': {
      if (scoring) return send(res, 200, completion([{ index: 0, text: '', finish_reason: 'length', prompt_logprobs: [] }]));
      const choices = Array.from({ length: body.n ?? 1 }, (_, index) => ({ index, text: '', logprobs: { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] }, finish_reason: 'stop' }));
      return send(res, 200, completion(choices));
    }
    case 'long': {
      const N = 100_000;
      const w = word(' um');
      if (scoring) {
        const prompt = Array.isArray(body.prompt) ? (body.prompt as number[]) : [];
        const entry = `{"${w}":{"logprob":-0.2,"rank":1,"decoded_token":" um"},"${w + 1}":{"logprob":-1.8,"rank":2,"decoded_token":" hmm"}}`;
        return send(res, 200, `{"id":"x","object":"text_completion","created":0,"model":"m","choices":[{"index":0,"text":"","finish_reason":"length","prompt_logprobs":[null${`,${entry}`.repeat(prompt.length - 1)}]}]}`);
      }
      const top = `{"token_id:${w}":-0.1,"token_id:${w + 1}":-2.4}`;
      const choices = Array.from({ length: body.n ?? 1 }, (_, index) =>
        `{"index":${index},"text":"${' um'.repeat(N)}","logprobs":{"tokens":[${`"token_id:${w}",`.repeat(N - 1)}"token_id:${w}"],"token_logprobs":[${'-0.1,'.repeat(N - 1)}-0.1],"top_logprobs":[${`${top},`.repeat(N - 1)}${top}]},"finish_reason":"length"}`,
      );
      return send(res, 200, `{"id":"x","object":"text_completion","created":0,"model":"m","choices":[${choices.join(',')}],"usage":{"prompt_tokens":1,"completion_tokens":${N},"total_tokens":${N + 1}}}`);
    }
  }
}
