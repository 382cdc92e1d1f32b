import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimServer } from '../../src/http/simServer.js';
import type { RecordedRequest, VllmServerHandle } from '../../src/http/vllmServer.js';
import { ChatResponseSchema, CompletionResponseSchema, ModelsResponseSchema } from '../../src/http/vllmDialect.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';
import { simServedModels } from '../../src/simulator/simServedModel.js';
import { EOS, word } from '../../src/simulator/vocabulary.js';

const SEED = 21;
const sim = new LineageSimulator({ seed: SEED });
const [specialist, ancestor] = simServedModels(sim);
const PROMPT = simPrompts(1, 5)[0]!.prompt;
let server: VllmServerHandle;
let qwenDefaults: VllmServerHandle;
const recorded: RecordedRequest[] = [];

beforeAll(async () => {
  server = await startSimServer({ simulator: sim });
  // A server started with Qwen3-style generation_config.json defaults, recording what clients send.
  qwenDefaults = await startSimServer({ simulator: sim, generationDefaults: { temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0 }, onRequest: (r) => recorded.push(r) });
});
afterAll(async () => {
  await server.close();
  await qwenDefaults.close();
});

type Json = Record<string, any>;
const post = async (path: string, body: unknown, on = server) => {
  const res = await fetch(on.url.replace(/\/v1$/, '') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
};
const completion = async (body: Json, on = server) => {
  const r = await post('/v1/completions', { model: 'sim-specialist', prompt: PROMPT, ...body }, on);
  if (r.status === 200) expect(CompletionResponseSchema.safeParse(r.body).error).toBeUndefined();
  return r;
};
const tokenIds = (choice: Json) => (choice.logprobs.tokens as string[]).map((t) => Number(t.slice('token_id:'.length)));
const errorOf = (r: { status: number; body: Json }) => ({ status: r.status, ...r.body.error });

describe('max_logprobs (20 by default), as vLLM enforces it', () => {
  it('logprobs: 21 is a 400 with vLLM\'s message in the nested error body', async () => {
    expect(errorOf(await completion({ logprobs: 21 }))).toEqual({
      status: 400,
      message: 'Requested sample logprobs of 21, which is greater than max allowed: 20 (parameter=logprobs, value=21)',
      type: 'BadRequestError',
      param: 'logprobs',
      code: 400,
    });
  });

  it('prompt_logprobs: 21 (and echo with logprobs above the cap) is refused with the prompt wording', async () => {
    expect(errorOf(await completion({ prompt_logprobs: 21, max_tokens: 1 })).message).toBe(
      'Requested prompt logprobs of 21, which is greater than max allowed: 20 (parameter=prompt_logprobs, value=21)',
    );
    expect((await completion({ logprobs: 20, prompt_logprobs: 20, max_tokens: 1 })).status).toBe(200);
  });

  it('chat top_logprobs is capped the same way', async () => {
    const r = await post('/v1/chat/completions', { model: 'sim-specialist', messages: [{ role: 'user', content: PROMPT }], logprobs: true, top_logprobs: 21 });
    expect(errorOf(r)).toMatchObject({ status: 400, message: expect.stringContaining('Requested sample logprobs of 21, which is greater than max allowed: 20') });
  });
});

describe('completions: sampled tokens and raw log-probs', () => {
  it('n: 2, logprobs: 5, return_tokens_as_token_ids → two choices of token_id:N tokens whose dicts hold the sampled token and the top 5', async () => {
    const { status, body } = await completion({ n: 2, logprobs: 5, return_tokens_as_token_ids: true, seed: 3, temperature: 1, max_tokens: 100 });
    expect(status).toBe(200);
    expect(body.choices).toHaveLength(2);
    for (const c of body.choices) {
      expect(c.logprobs.tokens.length).toBeGreaterThan(20);
      expect(c.logprobs.tokens.every((t: string) => /^token_id:\d+$/.test(t))).toBe(true);
      c.logprobs.top_logprobs.forEach((top: Json, i: number) => {
        const token = c.logprobs.tokens[i];
        expect(top[token]).toBe(c.logprobs.token_logprobs[i]);
        expect(Object.keys(top).length).toBeLessThanOrEqual(6);
      });
      expect(c.finish_reason).toBe('stop');
      expect(c.stop_reason).toBeNull();
      expect(c.text).toMatch(/Answer: -?\d+$/);
    }
    expect(body.usage.completion_tokens).toBe(body.choices.reduce((s: number, c: Json) => s + c.logprobs.tokens.length, 0));
  });

  it('log-probs are raw (temperature 1, full distribution) whatever the sampling temperature, and rank below-top-k tokens truly', async () => {
    const ids = specialist!.encode(PROMPT, true);
    let outside = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { body } = await completion({ prompt: ids, n: 1, logprobs: 1, return_tokens_as_token_ids: true, seed, temperature: 2, top_k: 0, max_tokens: 60 });
      const c = body.choices[0];
      const tokens = tokenIds(c);
      const dists = specialist!.scorePrompt([...ids, ...tokens]).slice(ids.length - 1);
      tokens.forEach((t, i) => {
        const d = dists[i]!;
        const at = Array.from(d.ids).indexOf(t);
        expect(c.logprobs.token_logprobs[i]).toBe(d.logprobs[at]);
        const top = c.logprobs.top_logprobs[i] as Record<string, number>;
        expect(top[`token_id:${d.ids[0]}`]).toBe(d.logprobs[0]);
        if (at === 0) expect(Object.keys(top)).toHaveLength(1);
        else {
          outside++;
          expect(Object.keys(top)).toHaveLength(2);
        }
      });
    }
    // At temperature 2 some sampled tokens fall outside the top 1: the k + 1 case is exercised.
    expect(outside).toBeGreaterThan(0);
  });

  it('sample i of n uses seed + i, and the same request gives the same tokens in-process and over HTTP', async () => {
    const ids = specialist!.encode(PROMPT, true);
    const { body } = await completion({ prompt: ids, n: 3, seed: 40, temperature: 0.9, logprobs: 0, return_tokens_as_token_ids: true, max_tokens: 200 });
    for (let i = 0; i < 3; i++) {
      const single = await completion({ prompt: ids, n: 1, seed: 40 + i, temperature: 0.9, logprobs: 0, return_tokens_as_token_ids: true, max_tokens: 200 });
      expect(tokenIds(single.body.choices[0])).toEqual(tokenIds(body.choices[i]));
    }
    const inProcess = await sim.specialist.sample(ids, { temperature: 0.9, seed: 40, maxTokens: 200, topK: 1, n: 3 });
    expect(inProcess.map((g) => g.tokens)).toEqual(body.choices.map(tokenIds));
    expect(new Set(body.choices.map((c: Json) => c.text)).size).toBeGreaterThan(1);
  });

  it('prompt_logprobs: a null first entry, then the actual token at its true rank plus the top-k (k or k + 1 entries)', async () => {
    const ids = ancestor!.encode(PROMPT, true);
    const { body: sampled } = await completion({ prompt: ids, seed: 9, temperature: 2, logprobs: 0, return_tokens_as_token_ids: true, max_tokens: 60 });
    const sequence = [...ids, ...tokenIds(sampled.choices[0])];
    const { body } = await post('/v1/completions', { model: 'sim-ancestor', prompt: sequence, max_tokens: 1, temperature: 0, prompt_logprobs: 1 });
    const pl = body.choices[0].prompt_logprobs as (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[];
    expect(pl).toHaveLength(sequence.length);
    expect(pl[0]).toBeNull();
    const dists = ancestor!.scorePrompt(sequence);
    let belowTop = 0;
    for (let p = 1; p < sequence.length; p++) {
      const d = dists[p - 1]!;
      const entry = pl[p]!;
      const actual = entry[String(sequence[p])]!;
      const at = Array.from(d.ids).indexOf(sequence[p]!);
      expect(entry[String(d.ids[0])]).toEqual({ logprob: d.logprobs[0], rank: 1, decoded_token: ancestor!.tokenText(d.ids[0]!) });
      if (at === 0) expect(Object.keys(entry)).toHaveLength(1);
      else {
        belowTop++;
        expect(Object.keys(entry)).toHaveLength(2);
        // Outside the ancestor's support (probability 0): −9999.0 and the rank one past the support.
        expect(actual.rank).toBe(at >= 0 ? Array.from(d.logprobs).filter((lp) => lp >= d.logprobs[at]!).length : d.ids.length + 1);
        expect(actual.logprob).toBe(at >= 0 ? d.logprobs[at] : -9999);
      }
    }
    expect(belowTop).toBeGreaterThan(0);
  });

  it('echo returns the prompt, its tokens with null log-probs first; echo with max_tokens 0 returns only the prompt', async () => {
    const { body } = await completion({ max_tokens: 4, logprobs: 1, echo: true, seed: 1 });
    const c = body.choices[0];
    expect(c.text.startsWith(PROMPT)).toBe(true);
    expect(c.logprobs.token_logprobs[0]).toBeNull();
    expect(c.logprobs.tokens).toHaveLength(specialist!.encode(PROMPT, true).length + 4);
    const only = await completion({ max_tokens: 0, echo: true, logprobs: 2 });
    expect(only.body.choices[0].text).toBe(PROMPT);
    expect(only.body.choices[0].logprobs.tokens).toHaveLength(specialist!.encode(PROMPT, true).length);
  });

  it('without a seed the server picks one: two identical unseeded requests sample differently', async () => {
    const a = await completion({ n: 4, temperature: 1, max_tokens: 100 });
    const b = await completion({ n: 4, temperature: 1, max_tokens: 100 });
    expect(a.body.choices.map((c: Json) => c.text)).not.toEqual(b.body.choices.map((c: Json) => c.text));
  });

  it('a prompt the model cannot take (numbers beyond the simulator\'s range) is a 400 saying why', async () => {
    const r = await completion({ prompt: 'Compute 99999999 * 99999999.', seed: 1 });
    expect(errorOf(r)).toMatchObject({ status: 400, type: 'BadRequestError', message: expect.stringMatching(/the simulator keeps values below/) });
  });

  it('return_token_ids adds token_ids and prompt_token_ids to each choice', async () => {
    const c = (await completion({ seed: 2, max_tokens: 3, return_token_ids: true })).body.choices[0];
    expect(c.prompt_token_ids).toEqual(specialist!.encode(PROMPT, true));
    expect(c.token_ids).toHaveLength(3);
  });

  it('max_tokens 0 without echo is a 400', async () => {
    expect(errorOf(await completion({ max_tokens: 0 }))).toMatchObject({ status: 400, message: 'max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)', param: 'max_tokens' });
  });

  it('return_tokens_as_token_ids off: tokens are their text', async () => {
    const { body } = await completion({ logprobs: 1, seed: 2, max_tokens: 3 });
    expect(body.choices[0].logprobs.tokens).toEqual(['Step', ' 1', ':']);
  });
});

describe('finish_reason and stop_reason', () => {
  it('length at max_tokens; a stop string cuts the text before it; a stop token id stops with its id and leaves its text out', async () => {
    const len = (await completion({ seed: 5, max_tokens: 5 })).body.choices[0];
    expect([len.finish_reason, len.stop_reason]).toEqual(['length', null]);
    const str = (await completion({ seed: 5, max_tokens: 100, stop: ['Step 2'] })).body.choices[0];
    expect([str.finish_reason, str.stop_reason]).toEqual(['stop', 'Step 2']);
    expect(str.text).toMatch(/^Step 1: [^\n]*\n$/);
    const equals = word(' =');
    const tok = (await completion({ seed: 5, max_tokens: 100, stop_token_ids: [equals], logprobs: 0, return_tokens_as_token_ids: true })).body.choices[0];
    expect([tok.finish_reason, tok.stop_reason]).toEqual(['stop', equals]);
    expect(tokenIds(tok).at(-1)).toBe(equals);
    expect(tok.text).not.toContain('=');
  });

  it('ignore_eos keeps going past EOS to max_tokens; min_tokens holds EOS back', async () => {
    const free = (await completion({ seed: 6, max_tokens: 200, logprobs: 0, return_tokens_as_token_ids: true })).body.choices[0];
    const natural = tokenIds(free).length;
    expect(tokenIds(free).at(-1)).toBe(EOS);
    const ignoring = (await completion({ seed: 6, max_tokens: natural + 10, ignore_eos: true, logprobs: 0, return_tokens_as_token_ids: true })).body.choices[0];
    expect([ignoring.finish_reason, tokenIds(ignoring).length]).toEqual(['length', natural + 10]);
    expect(tokenIds(ignoring).slice(0, natural)).toContain(EOS);
    const atLeast = (await completion({ seed: 6, max_tokens: 200, min_tokens: natural + 5 })).body;
    expect(atLeast.usage.completion_tokens).toBeGreaterThanOrEqual(natural + 5);
    expect(atLeast.choices[0].finish_reason).toBe('stop');
  });
});

describe('max_model_len (400 for the simulator) and the vLLM validation path', () => {
  it('prompt + max_tokens beyond max_model_len is a 400 with vLLM\'s message; max_tokens alone beyond it too', async () => {
    const n = specialist!.encode(PROMPT, true).length;
    expect(errorOf(await completion({ max_tokens: 400 - n + 1 })).message).toBe(
      `You passed ${n} input tokens and requested ${401 - n} output tokens. However, the model's context length is only 400 tokens, resulting in a maximum input length of ${n - 1} tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=${n})`,
    );
    expect((await completion({ max_tokens: 400 - n, seed: 1 })).status).toBe(200);
    expect(errorOf(await completion({ max_tokens: 500 })).message).toBe(
      'max_tokens=500cannot be greater than max_model_len=max_total_tokens=400. Please request fewer output tokens. (parameter=max_tokens, value=500)',
    );
  });

  it('/tokenize returns {count, max_model_len, tokens}; /detokenize inverts it', async () => {
    const { body } = await post('/tokenize', { model: 'sim-ancestor', prompt: PROMPT });
    expect(body).toEqual({ count: body.tokens.length, max_model_len: 400, tokens: ancestor!.encode(PROMPT, true), token_strs: null });
    expect((await post('/detokenize', { model: 'sim-ancestor', tokens: body.tokens })).body).toEqual({ prompt: PROMPT });
  });

  it('GET /v1/models lists ids with root and max_model_len as vLLM does; /health answers 200 with no body', async () => {
    const raw = (await (await fetch(`${server.url}/models`)).json()) as Json;
    const models = ModelsResponseSchema.parse(raw);
    expect(models.data.map((m) => m.id)).toEqual(['sim-specialist', 'sim-ancestor']);
    expect(raw.data[0]).toMatchObject({ object: 'model', owned_by: 'vllm', root: 'sim-specialist', parent: null, max_model_len: 400 });
    const health = await fetch(server.url.replace(/\/v1$/, '/health'));
    expect([health.status, await health.text()]).toEqual([200, '']);
  });

  it('errors come nested: a bad field names it, an unknown model is a 404, an unknown route a 404, a wrong method a 405', async () => {
    const bad = errorOf(await completion({ temperature: 'hot' }));
    expect(bad).toMatchObject({ status: 400, type: 'Bad Request', param: 'body.temperature', code: 400 });
    expect(bad.message).toMatch(/^1 validation error:\n {2}body\.temperature: /);
    expect(errorOf(await completion({ model: 'gpt-9' }))).toEqual({ status: 404, message: 'The model `gpt-9` does not exist.', type: 'NotFoundError', param: 'model', code: 404 });
    expect(errorOf(await post('/v1/embeddings', {}))).toMatchObject({ status: 404, type: 'Not Found' });
    const get = await fetch(`${server.url}/completions`);
    expect(get.status).toBe(405);
    const notJson = await fetch(`${server.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect([notJson.status, ((await notJson.json()) as Json).error.param]).toEqual([400, 'body']);
    const wrongType = await fetch(`${server.url}/completions`, { method: 'POST', body: '{}' });
    expect(((await wrongType.json()) as Json).error.message).toContain("Only 'application/json' is allowed");
    expect(errorOf(await completion({ stream: true }))).toMatchObject({ status: 400, param: 'stream' });
    // A field of a union (prompt or messages) is named inside the branch that got furthest.
    expect(errorOf(await post('/tokenize', { model: 'sim-specialist', prompt: 5 }))).toMatchObject({ status: 400, param: 'body.prompt' });
    expect(errorOf(await post('/tokenize', { model: 'sim-specialist', messages: [{ role: 5 }] }))).toMatchObject({ status: 400, param: 'body.messages.0.role' });
  });
});

describe('chat completions', () => {
  it('logprobs with top_logprobs: per token its log-prob and the first k entries of its dict', async () => {
    const { status, body } = await post('/v1/chat/completions', { model: 'sim-specialist', messages: [{ role: 'user', content: PROMPT }], logprobs: true, top_logprobs: 3, seed: 2, temperature: 0.6 });
    expect(status).toBe(200);
    expect(ChatResponseSchema.safeParse(body).error).toBeUndefined();
    const c = body.choices[0];
    expect(c.message.content).toMatch(/Answer: -?\d+$/);
    expect(c.logprobs.content[0]).toMatchObject({ token: 'Step', logprob: 0 });
    for (const t of c.logprobs.content) {
      expect(t.top_logprobs.length).toBeLessThanOrEqual(3);
      expect(t.top_logprobs[0].token).toBe(t.token);
    }
    expect([c.finish_reason, c.stop_reason]).toEqual(['stop', null]);
  });
});

describe('generation_config defaults (a server started like Qwen3: temperature 0.6, top_k 20, top_p 0.95)', () => {
  const ids = specialist!.encode(PROMPT, true);
  const tokensOf = async (body: Json, on: VllmServerHandle) => tokenIds((await completion({ prompt: ids, logprobs: 0, return_tokens_as_token_ids: true, max_tokens: 100, ...body }, on)).body.choices[0]);

  it('apply to the fields a request leaves out, and only to those', async () => {
    for (const seed of [1, 2, 3]) {
      // Left out ≡ sent with the defaults' values.
      expect(await tokensOf({ seed }, qwenDefaults)).toEqual(await tokensOf({ seed, temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0 }, server));
      // Sent neutral values win: the same tokens as a server without defaults, and as in-process sampling at T = 0.6.
      const neutral = { seed, temperature: 0.6, top_k: -1, top_p: 1, min_p: 0, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 };
      const sentNeutral = await tokensOf(neutral, qwenDefaults);
      expect(sentNeutral).toEqual(await tokensOf(neutral, server));
      const [g] = await sim.specialist.sample(ids, { temperature: 0.6, seed, maxTokens: 100, topK: 1 });
      expect(sentNeutral).toEqual(g!.tokens);
    }
    // And the defaults do change sampling: top_p 0.95 cuts the tail, so over several seeds the token streams differ.
    const differs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (seed) => JSON.stringify(await tokensOf({ seed }, qwenDefaults)) !== JSON.stringify(await tokensOf({ seed, temperature: 0.6 }, server))));
    expect(differs).toContain(true);
  });

  it('the server records what the client sent', async () => {
    recorded.length = 0;
    await completion({ seed: 1, top_k: -1 }, qwenDefaults);
    expect(recorded).toEqual([{ method: 'POST', path: '/v1/completions', body: { model: 'sim-specialist', prompt: PROMPT, seed: 1, top_k: -1 } }]);
  });
});
