import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EndpointHttpError,
  EndpointTimeoutError,
  EndpointUnreachableError,
  GenerationAbortedError,
  IncompleteResponseError,
  MalformedResponseError,
  ModelNotServedError,
  TruncatedResponseError,
} from '../../src/http/endpointErrors.js';
import { NEUTRAL_SAMPLING, OpenAICompatibleModel } from '../../src/http/openAiCompatibleModel.js';
import { postJson, retryAfterMs } from '../../src/http/postJson.js';
import { RetryBudget } from '../../src/http/retryBudget.js';
import { json, parking, scriptedServer, silent } from '../helpers/scriptedServer.js';

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/vllm/${name}`, 'utf8'));
const fast = { maxRetries: 3, retryBaseMs: 5, maxRetryDelayMs: 2000, timeoutMs: 2000 };
const sampleArgs = { temperature: 0.6, seed: 1, maxTokens: 3, topK: 3, n: 2 } as const;
let servers: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function serve(...script: Parameters<typeof scriptedServer>[0]) {
  const s = await scriptedServer(script);
  servers.push(s);
  return s;
}
/** Each test gets its own model name: what the client learns about an endpoint is kept per process. */
let modelCounter = 0;
const fresh = (name = 'm') => `${name}-${++modelCounter}`;

describe('OpenAI-compatible client on recorded vLLM bodies', () => {
  it('parses sampled tokens and top-K from token_id strings, canonically ordered, and learns EOS from stop_reason', async () => {
    const s = await serve(json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-1.7B', ...fast });
    const gens = await model.sample([1, 2, 3], sampleArgs);
    expect(gens.map((g) => g.tokens)).toEqual([[220391, 198, 16141], [220381, 151645]]);
    expect(gens[0]!.topK[2]).toEqual({ ids: [785, 16141, 14374], logprobs: [-0.5108, -0.9162, -4.1002] });
    expect(gens[1]!.finishReason).toBe('stop');
    expect(gens[1]!.stopReason).toBeNull();
    expect(model.isStop(151645)).toBe(true);
    expect(model.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 5, requests: 1 });
    const sent = JSON.parse(s.requests[0]!.body);
    expect(sent).toMatchObject({ model: 'Qwen/Qwen3-1.7B', prompt: [1, 2, 3], n: 2, logprobs: 3, seed: 1, return_tokens_as_token_ids: true });
    expect(s.requests[0]!.url).toBe('/v1/completions');
  });

  it('every completion request carries neutral sampling fields, so the server cannot fill in generation_config.json defaults', async () => {
    const s = await serve(json(200, fixture('completion_logprobs.json')), json(200, fixture('completion_prompt_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    await model.sample([1, 2, 3], sampleArgs);
    await model.score([9, 220], [220391, 220381, 16141], 2);
    const neutral = { top_p: 1, top_k: -1, min_p: 0, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 };
    expect(NEUTRAL_SAMPLING).toEqual(neutral);
    // What the server received: each field present with its neutral value.
    for (const body of s.bodies()) expect(body).toMatchObject({ ...neutral, temperature: expect.any(Number) });
    expect(s.bodies()[0].temperature).toBe(0.6);
  });

  it('scores a continuation from prompt_logprobs in one prefill, passing vLLM\'s rank through as 1-based ranks', async () => {
    const s = await serve(json(200, fixture('completion_prompt_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-1.7B-Base', ...fast });
    const scores = await model.score([9, 220], [220391, 220381, 16141], 2);
    expect(scores).toEqual([
      { ids: [220391, 220381], logprobs: [-0.2231, -1.8971], ranks: [1, 2] },
      { ids: [220391, 220381], logprobs: [-0.2231, -1.8971], ranks: [1, 2] },
      // the actual token, outside the top-2, with its true rank
      { ids: [198, 13, 16141], logprobs: [-0.0101, -5.12, -9.441], ranks: [1, 2, 37] },
    ]);
    expect(JSON.parse(s.requests[0]!.body)).toMatchObject({ prompt: [9, 220, 220391, 220381, 16141], max_tokens: 1, prompt_logprobs: 2 });
  });

  it('stop_reason says what ended a choice: null → EOS, an int → that stop id, a string → a stop string (no stop token)', async () => {
    const s = await serve(json(200, fixture('completion_stop_reasons.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    const gens = await model.sample([1], { ...sampleArgs, n: 3 });
    expect(gens.map((g) => g.stopReason)).toEqual([null, 151643, '\n\n']);
    expect(model.isStop(151645)).toBe(true); // EOS, the last token of choice 0
    expect(model.isStop(151643)).toBe(true); // the stop token id of choice 1
    expect(model.isStop(271)).toBe(false); // choice 2 ended on a stop string: its last token is ordinary text
  });

  it('a 400 fails at once with the server message and its status, flat or nested', async () => {
    for (const body of [fixture('error_400.json'), fixture('error_400_nested.json')]) {
      const s = await serve(json(400, body));
      const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
      const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EndpointHttpError);
      expect((err as EndpointHttpError).status).toBe(400);
      expect((err as Error).message).toMatch(/HTTP 400: (This model's maximum context length is 40960 tokens|'max_tokens' or 'max_completion_tokens' is too large: 512)/);
      expect(s.requests).toHaveLength(1);
    }
  });

  it('learns max_logprobs from vLLM\'s 400, lowers top-K to it for every later request, and says so', async () => {
    const s = await serve(json(400, fixture('error_max_logprobs.json')), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.sample([1], { ...sampleArgs, topK: 50 })).toHaveLength(2);
    await model.sample([1], { ...sampleArgs, topK: 50 });
    expect(s.bodies().map((b) => b.logprobs)).toEqual([50, 20, 20]); // one refusal, then 20 from the start
    expect(model.notices()).toEqual([expect.stringMatching(/allows at most 20 log-probs per position \(vLLM's --max-logprobs\): asked for 50, using 20\. Start vLLM with --max-logprobs 50/)]);
    // The cap is per endpoint, per process: another client of the same model starts at 20.
    const again = new OpenAICompatibleModel({ baseUrl: s.url, model: model.name, ...fast });
    await again.sample([1], { ...sampleArgs, topK: 30 });
    expect(s.bodies().at(-1).logprobs).toBe(20);
    expect(again.notices()[0]).toMatch(/asked for 30, using 20/);
  });

  it('prompt_logprobs above max_logprobs: the same, for scoring', async () => {
    const refusal = { error: { message: 'Requested prompt logprobs of 40, which is greater than max allowed: 20', type: 'BadRequestError', param: 'prompt_logprobs', code: 400 } };
    const s = await serve(json(400, refusal), json(200, fixture('completion_prompt_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.score([9, 220], [220391, 220381, 16141], 40)).toHaveLength(3);
    expect(s.bodies().map((b) => b.prompt_logprobs)).toEqual([40, 20]);
  });
});

describe('sampling responses are checked for completeness', () => {
  it('fewer choices than n: asked again within the retry budget, with the retry counted', async () => {
    const partial = structuredClone(fixture('completion_logprobs.json'));
    partial.choices = partial.choices.slice(0, 1);
    const s = await serve(json(200, partial), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    const stats = { requests: 0, retries: 0 };
    expect(await model.sample([1], { ...sampleArgs, stats })).toHaveLength(2);
    expect(s.requests).toHaveLength(2);
    expect(stats).toEqual({ requests: 1, retries: 1 });
  });

  it('missing, duplicate or out-of-range indices fail the call with IncompleteResponseError after the retries', async () => {
    const f = fixture('completion_logprobs.json');
    const missing = { ...f, choices: f.choices.slice(0, 1) };
    const duplicate = { ...f, choices: [f.choices[0], { ...f.choices[1], index: 0 }] };
    const outOfRange = { ...f, choices: [f.choices[0], { ...f.choices[1], index: 5 }] };
    for (const [body, indices] of [[missing, '0'], [duplicate, '0, 0'], [outOfRange, '0, 5']] as const) {
      const s = await serve(json(200, body));
      const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 2 });
      const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IncompleteResponseError);
      expect((err as Error).message).toContain(`(indices ${indices}) for n = 2: expected each index 0…1 once (gave up after 3 attempts)`);
      expect(s.requests).toHaveLength(3);
    }
  });

  it('finish_reason "abort" is an error, not a length cut', async () => {
    const aborted = structuredClone(fixture('completion_logprobs.json'));
    aborted.choices[1].finish_reason = 'abort';
    const s = await serve(json(200, aborted));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 1 });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    expect((err as Error).message).toMatch(/aborted choice 1 \(finish_reason "abort"\).*gave up after 2 attempts/);
  });
});

describe('what the server says about the model', () => {
  it('/v1/models gives root and max_model_len; a model it does not list is named with what it does serve', async () => {
    const s = await serve(json(200, fixture('models.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-1.7B', ...fast });
    expect(await model.servedModel()).toEqual({ listed: true, root: '/models/qwen3-1.7b-grpo-step-1200', maxModelLen: 40960 });
    expect(await model.contextWindow()).toBe(40960);
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/models']);
    const wrong = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-17B', ...fast });
    const err = await wrong.servedModel().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotServedError);
    expect((err as Error).message).toMatch(/does not serve a model named "Qwen\/Qwen3-17B"; it serves "Qwen\/Qwen3-1\.7B": set "model" to one of them/);
  });

  it('a server without /v1/models reports nothing, and the call goes on', async () => {
    const s = await serve(json(404, { detail: 'Not Found' }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.servedModel()).toEqual({ listed: false, root: null, maxModelLen: null });
  });

  it('/tokenize gives max_model_len; an empty tokenization of text (llama.cpp reads "content") is an error naming the cause', async () => {
    const s = await serve(json(200, fixture('tokenize.json')), json(200, { tokens: [] }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.tokenize('Q: 66+42*6=\n')).toEqual(fixture('tokenize.json').tokens);
    expect(await model.contextWindow()).toBe(40960);
    expect(s.requests[0]!.url).toBe('/tokenize');
    const err = await model.tokenize('Q: 1+1=').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect((err as Error).message).toMatch(/\/tokenize returned no tokens for a 7-character text: the server does not read the "prompt" field \(llama\.cpp's \/tokenize reads "content"/);
  });
});

describe('OpenAI-compatible client under faults (local server on 127.0.0.1)', () => {
  it('retries 429, then succeeds', async () => {
    const s = await serve(json(429, { object: 'error', message: 'slow down' }, { 'retry-after': '0' }), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.sample([1], sampleArgs)).toHaveLength(2);
    expect(s.requests).toHaveLength(2);
  });

  it('waits what Retry-After asks before the retry (recorded, not timed)', async () => {
    const s = await serve(json(429, { object: 'error', message: 'slow down' }, { 'retry-after': '3' }), json(200, { ok: true }));
    const waits: number[] = [];
    const policy = { ...fast, maxRetryDelayMs: 10_000 };
    expect(await postJson(`${s.url}/completions`, {}, {}, policy, { sleep: async (ms) => void waits.push(ms) })).toEqual({ ok: true });
    expect(waits).toEqual([3000]);
  });

  it('retries 500s and gives up with a named error after maxRetries', async () => {
    const s = await serve(json(500, { object: 'error', message: 'engine dead' }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointHttpError);
    expect((err as Error).message).toMatch(/HTTP 500: engine dead \(gave up after 4 attempts\)/);
    expect(s.requests).toHaveLength(4);
  });

  it('retries draw on a shared budget: max(floor, fraction × requests); when it is spent the error names it', async () => {
    const s = await serve(json(500, { error: { message: 'engine dead', type: 'InternalServerError', code: 500 } }));
    const budget = new RetryBudget({ floor: 2, fraction: 0 });
    const a = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 5 }, {}, { budget });
    const b = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 5 }, {}, { budget });
    const first = (await a.sample([1], sampleArgs).catch((e: unknown) => e)) as Error;
    expect(first.message).toMatch(/HTTP 500: engine dead \(gave up after 3 attempts: retry budget exhausted: 2 retries spent, the most allowed after 1 requests \(max\(2, 0% of requests\)\); raise retryBudget\.floor/);
    const second = (await b.sample([1], sampleArgs).catch((e: unknown) => e)) as Error;
    expect(second.message).toMatch(/gave up after 1 attempts: retry budget exhausted/);
    expect(s.requests).toHaveLength(4); // 1 + 2 retries, then 1: not 6 + 6
  });

  it('recovers from transient 500 and 503', async () => {
    const s = await serve(json(500, 'oops'), json(503, ''), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.sample([1], sampleArgs)).toHaveLength(2);
    expect(s.requests).toHaveLength(3);
  });

  it('times out a server that never answers with EndpointTimeoutError', async () => {
    const s = await serve(silent);
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, timeoutMs: 200, maxRetries: 1 });
    await expect(model.sample([1], sampleArgs)).rejects.toBeInstanceOf(EndpointTimeoutError);
    expect(s.requests).toHaveLength(2);
  });

  it('retries a truncated body, then names it', async () => {
    const body = JSON.stringify(fixture('completion_logprobs.json'));
    const s = await serve(json(200, body.slice(0, 120)));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 2 });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TruncatedResponseError);
    expect((err as Error).message).toMatch(/not complete JSON/);
    expect(s.requests).toHaveLength(3);
  });

  it('a truncated body followed by a good one succeeds', async () => {
    const body = JSON.stringify(fixture('completion_logprobs.json'));
    const s = await serve(json(200, body.slice(0, 50)), json(200, body));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
    expect(await model.sample([1], sampleArgs)).toHaveLength(2);
  });

  it('malformed bodies are named errors: no logprobs, text tokens, out-of-range log-probs', async () => {
    const f = fixture('completion_logprobs.json');
    const noLogprobs = structuredClone(f);
    noLogprobs.choices[0].logprobs = null;
    const textTokens = structuredClone(f);
    textTokens.choices[0].logprobs.tokens[0] = ' 391';
    const positive = structuredClone(f);
    positive.choices[0].logprobs.top_logprobs[0]['token_id:220391'] = 3.5;
    for (const [body, message] of [
      [noLogprobs, /choice 0 has no logprobs/],
      [textTokens, /not "token_id:N": the server ignored the request's return_tokens_as_token_ids \(a per-request field since vLLM 0\.8\.0; start older vLLM servers with --return-tokens-as-token-ids\)/],
      [positive, /log-prob of token 220391 is 3\.5, expected a finite value ≤ 0 \(a positive value means the server reports logits/],
      [{ hello: 'world' }, /completion response is invalid/],
    ] as const) {
      const s = await serve(json(200, body));
      const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast });
      const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MalformedResponseError);
      expect((err as Error).message).toMatch(message);
      expect(s.requests).toHaveLength(1); // not retried: the server means it
    }
  });

  it('an unreachable endpoint is EndpointUnreachableError', async () => {
    const s = await serve(json(200, {}));
    await s.close();
    servers = [];
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, maxRetries: 1 });
    await expect(model.sample([1], sampleArgs)).rejects.toBeInstanceOf(EndpointUnreachableError);
  });

  it('bounds concurrency to the configured limit (requests are held until released, one at a time)', async () => {
    const gate = parking(json(200, fixture('completion_logprobs.json')));
    const s = await serve(gate.handler);
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), ...fast, concurrency: 3 });
    const calls = Promise.all(Array.from({ length: 12 }, () => model.sample([1], sampleArgs)));
    // Release one only when the limit is reached; a client over the limit would have more parked.
    for (let answered = 0; answered < 12; answered++) {
      await gate.waitForParked(Math.min(3, 12 - answered));
      gate.releaseOne();
    }
    await calls;
    expect(s.requests).toHaveLength(12);
    expect(s.peak()).toBe(3);
  });

  it('sends the API key from the named env var and never prints it', async () => {
    const secret = 'sk-test-SECRET-123';
    const s = await serve(json(401, { object: 'error', message: 'bad key' }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), apiKeyEnv: 'MY_KEY', ...fast }, { MY_KEY: secret });
    const err = (await model.sample([1], sampleArgs).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(EndpointHttpError);
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${secret}`);
    expect(`${err.message}${err.stack}${JSON.stringify(err)}`).not.toContain(secret);
    const withPassword = (() => {
      try {
        return new OpenAICompatibleModel({ baseUrl: s.url.replace('http://', 'http://user:hunter2@'), model: 'm' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(withPassword).toBeInstanceOf(Error);
    expect((withPassword as Error).message).toMatch(/must not carry credentials.*apiKeyEnv/);
    expect((withPassword as Error).message).not.toContain('hunter2');
    await expect(new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', apiKeyEnv: 'MISSING' }, {}).sample([1], sampleArgs)).rejects.toThrow(/MISSING, which is not set/);
  });

  it('an endpoint that echoes the request headers in its error body: no key in any message, JSON, text or Python-quoted', async () => {
    const secret = 'pk-live-7f3a9c2e1b8d4f60a5e2';
    const s = await serve(
      (req, _b, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `invalid credentials; headers: ${JSON.stringify(req.headers)}`, type: 'AuthenticationError', code: 401 } }));
      },
      (req, _b, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`upstream error\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`);
      },
    );
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: fresh(), apiKeyEnv: 'ECHO_KEY', headers: { 'x-api-key': 'hdr-secret-9d8c7b6a' }, ...fast, maxRetries: 0 }, { ECHO_KEY: secret });
    const first = (await model.sample([1], sampleArgs).catch((e: unknown) => e)) as Error;
    const second = (await model.sample([1], sampleArgs).catch((e: unknown) => e)) as Error;
    expect(first.message).toMatch(/HTTP 401: invalid credentials; headers: .*"x-api-key":"\[REDACTED\]","authorization":"Bearer \[REDACTED\]"/);
    expect(second.message).toMatch(/HTTP 500: upstream error\nhost: 127\.0\.0\.1/);
    for (const err of [first, second]) {
      const all = `${err.message}${err.stack}${JSON.stringify(err)}`;
      expect(all).not.toContain(secret);
      expect(all).not.toContain('hdr-secret-9d8c7b6a');
    }
  });

  it('config errors name the field', () => {
    expect(() => new OpenAICompatibleModel({ baseUrl: 'not a url', model: 'm' })).toThrow(/at baseUrl: baseUrl must be a URL/);
    expect(() => new OpenAICompatibleModel({ baseUrl: 'http://127.0.0.1:1/v1', model: '' })).toThrow(/at model/);
  });

  it('Retry-After: seconds, HTTP dates, garbage', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBe(0);
    expect(retryAfterMs(null)).toBe(0);
  });
});
