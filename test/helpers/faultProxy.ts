import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimServer } from '../../src/http/simServer.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { decode, word } from '../../src/simulator/vocabulary.js';

export type Fault = 'timeout' | '429' | '500' | 'truncate' | 'nan' | 'empty' | 'long';

/**
 * A proxy on 127.0.0.1 in front of an in-process serve-sim: forwards every request, adds
 * `latencyMs`, counts /v1/completions requests by kind, and for prompts containing
 * "FAULT:<name>" injects that fault instead. Every loop is bounded; it stops with close().
 */
export async function startFaultProxy(options: { latencyMs?: number; seed?: number } = {}) {
  const sim = await startSimServer({ simulator: new LineageSimulator({ seed: options.seed ?? 0 }) });
  const upstream = sim.url.replace(/\/v1$/, '');
  const counts = { sample: 0, score: 0, other: 0 };
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: { prompt?: unknown; prompt_logprobs?: unknown; n?: number; max_tokens?: number } = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        // forwarded as is
      }
      const isCompletion = req.url === '/v1/completions';
      const scoring = isCompletion && body.prompt_logprobs != null;
      if (isCompletion) counts[scoring ? 'score' : 'sample']++;
      else counts.other++;
      const promptText = typeof body.prompt === 'string' ? body.prompt : Array.isArray(body.prompt) && typeof body.prompt[0] === 'number' ? decode(body.prompt as number[]) : '';
      const fault = /FAULT:(\w+)/.exec(promptText)?.[1] as Fault | undefined;
      await new Promise((r) => setTimeout(r, options.latencyMs ?? 0));
      if (isCompletion && fault) return inject(fault, res, body, scoring, send);
      const up = await fetch(upstream + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? text : null });
      send(res, up.status, await up.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    counts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sim.close();
    },
  };
}

function inject(fault: Fault, res: ServerResponse, body: { n?: number; prompt?: unknown }, scoring: boolean, send: (res: ServerResponse, s: number, b: string, h?: Record<string, string>) => void): void {
  const completion = (choices: unknown[]) => JSON.stringify({ id: 'cmpl-fault', object: 'text_completion', created: 0, model: 'sim-specialist', choices, usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } });
  switch (fault) {
    case 'timeout':
      setTimeout(() => send(res, 200, completion([])), 10_000).unref();
      return;
    case '429':
      return send(res, 429, JSON.stringify({ object: 'error', message: 'rate limited', type: 'RateLimitError', code: 429 }), { 'retry-after': '0' });
    case '500':
      return send(res, 500, JSON.stringify({ object: 'error', message: 'engine crashed', type: 'InternalServerError', code: 500 }));
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
