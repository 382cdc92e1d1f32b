import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EndpointHttpError,
  EndpointTimeoutError,
  EndpointUnreachableError,
  MalformedResponseError,
  TruncatedResponseError,
} from '../../src/http/endpointErrors.js';
import { OpenAICompatibleModel } from '../../src/http/openAiCompatibleModel.js';
import { retryAfterMs } from '../../src/http/postJson.js';
import { json, scriptedServer } from '../helpers/scriptedServer.js';

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

describe('OpenAI-compatible client on recorded vLLM bodies', () => {
  it('parses sampled tokens and top-K from token_id strings, canonically ordered, and learns EOS', async () => {
    const s = await serve(json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-1.7B', ...fast });
    const gens = await model.sample([1, 2, 3], sampleArgs);
    expect(gens.map((g) => g.tokens)).toEqual([[220391, 198, 16141], [220381, 151645]]);
    expect(gens[0]!.topK[2]).toEqual({ ids: [785, 16141, 14374], logprobs: [-0.5108, -0.9162, -4.1002] });
    expect(gens[1]!.finishReason).toBe('stop');
    expect(model.isStop(151645)).toBe(true);
    expect(model.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 5, requests: 1 });
    const sent = JSON.parse(s.requests[0]!.body);
    expect(sent).toMatchObject({ model: 'Qwen/Qwen3-1.7B', prompt: [1, 2, 3], n: 2, logprobs: 3, seed: 1, return_tokens_as_token_ids: true });
    expect(s.requests[0]!.url).toBe('/v1/completions');
  });

  it('scores a continuation from prompt_logprobs in one prefill', async () => {
    const s = await serve(json(200, fixture('completion_prompt_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'Qwen/Qwen3-1.7B-Base', ...fast });
    const scores = await model.score([9, 220], [220391, 220381, 16141], 2);
    expect(scores).toEqual([
      { ids: [220391, 220381], logprobs: [-0.2231, -1.8971] },
      { ids: [220391, 220381], logprobs: [-0.2231, -1.8971] },
      { ids: [198, 13, 16141], logprobs: [-0.0101, -5.12, -9.441] },
    ]);
    expect(JSON.parse(s.requests[0]!.body)).toMatchObject({ prompt: [9, 220, 220391, 220381, 16141], max_tokens: 1, prompt_logprobs: 2 });
  });

  it('a 400 fails at once with the server message and its status', async () => {
    const s = await serve(json(400, fixture('error_400.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointHttpError);
    expect((err as EndpointHttpError).status).toBe(400);
    expect((err as Error).message).toMatch(/HTTP 400: This model's maximum context length is 40960 tokens/);
    expect(s.requests).toHaveLength(1);
  });
});

describe('OpenAI-compatible client under faults (local server on 127.0.0.1)', () => {
  it('retries 429 honouring Retry-After, then succeeds', async () => {
    const s = await serve(json(429, { object: 'error', message: 'slow down' }, { 'retry-after': '1' }), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
    const t0 = Date.now();
    const gens = await model.sample([1], sampleArgs);
    expect(gens).toHaveLength(2);
    expect(s.requests).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // waited what Retry-After asked
  });

  it('retries 500s and gives up with a named error after maxRetries', async () => {
    const s = await serve(json(500, { object: 'error', message: 'engine dead' }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointHttpError);
    expect((err as Error).message).toMatch(/HTTP 500: engine dead \(gave up after 4 attempts\)/);
    expect(s.requests).toHaveLength(4);
  });

  it('recovers from transient 500 and 503', async () => {
    const s = await serve(json(500, 'oops'), json(503, ''), json(200, fixture('completion_logprobs.json')));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
    expect(await model.sample([1], sampleArgs)).toHaveLength(2);
    expect(s.requests).toHaveLength(3);
  });

  it('times out a slow server with EndpointTimeoutError', async () => {
    const s = await serve((_req, _body, res) => setTimeout(() => json(200, fixture('completion_logprobs.json'))(_req, _body, res), 1500));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast, timeoutMs: 200, maxRetries: 1 });
    await expect(model.sample([1], sampleArgs)).rejects.toBeInstanceOf(EndpointTimeoutError);
    expect(s.requests).toHaveLength(2);
  });

  it('retries a truncated body, then names it', async () => {
    const body = JSON.stringify(fixture('completion_logprobs.json'));
    const s = await serve(json(200, body.slice(0, 120)));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast, maxRetries: 2 });
    const err = await model.sample([1], sampleArgs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TruncatedResponseError);
    expect((err as Error).message).toMatch(/not complete JSON/);
    expect(s.requests).toHaveLength(3);
  });

  it('a truncated body followed by a good one succeeds', async () => {
    const body = JSON.stringify(fixture('completion_logprobs.json'));
    const s = await serve(json(200, body.slice(0, 50)), json(200, body));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
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
      [textTokens, /not "token_id:N".*return_tokens_as_token_ids/],
      [positive, /log-prob of token 220391 is 3\.5/],
      [{ hello: 'world' }, /completion response is invalid/],
    ] as const) {
      const s = await serve(json(200, body));
      const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast });
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
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast, maxRetries: 1 });
    await expect(model.sample([1], sampleArgs)).rejects.toBeInstanceOf(EndpointUnreachableError);
  });

  it('bounds concurrency to the configured limit', async () => {
    const s = await serve((req, body, res) => setTimeout(() => json(200, fixture('completion_logprobs.json'))(req, body, res), 40));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', ...fast, concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, () => model.sample([1], sampleArgs)));
    expect(s.requests).toHaveLength(12);
    expect(s.peak()).toBe(3);
  });

  it('sends the API key from the named env var and never prints it', async () => {
    const secret = 'sk-test-SECRET-123';
    const s = await serve(json(401, { object: 'error', message: 'bad key' }));
    const model = new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', apiKeyEnv: 'MY_KEY', ...fast }, { MY_KEY: secret });
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
    expect(() => new OpenAICompatibleModel({ baseUrl: s.url, model: 'm', apiKeyEnv: 'MISSING' }, {}).sample([1], sampleArgs)).rejects.toThrow(/MISSING, which is not set/);
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
