import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompletionResponseSchema } from '../../src/http/vllmDialect.js';
import { startVllmServer, type VllmServerHandle } from '../../src/http/vllmServer.js';
import { loadArithLineage } from '../../src/lineage/index.js';
import { startServeProcess, type ServeProcess } from '../helpers/simServerProcess.js';

const post = async (url: string, body: unknown, init: RequestInit = {}) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
  return { status: r.status, body: (await r.json()) as any };
};

describe('recoverability serve: the embedded real lineage in vLLM’s dialect (a real process)', () => {
  let serve: ServeProcess;
  beforeAll(async () => {
    serve = await startServeProcess('serve');
  });
  afterAll(() => serve.stop());

  it('lists arith-specialist and arith-ancestor with their 128-token context', async () => {
    const models = (await (await fetch(`${serve.url}/models`)).json()) as any;
    expect(models.data.map((m: any) => m.id).sort()).toEqual(['arith-ancestor', 'arith-specialist']);
    expect(models.data.every((m: any) => m.max_model_len === 128)).toBe(true);
  });

  it('samples two choices of token_id:N tokens with top-5 log-probs, as vLLM answers', async () => {
    const r = await post(`${serve.url}/completions`, { model: 'arith-specialist', prompt: 'Q: 12+34=\n', n: 2, logprobs: 5, max_tokens: 40, seed: 3, return_tokens_as_token_ids: true });
    expect(r.status).toBe(200);
    const res = CompletionResponseSchema.parse(r.body);
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const c of res.choices) {
      expect(c.logprobs!.tokens.length).toBeGreaterThan(0);
      expect(c.logprobs!.tokens.every((t) => /^token_id:\d+$/.test(t))).toBe(true);
      for (const top of c.logprobs!.top_logprobs!) {
        const n = Object.keys(top!).length;
        expect(n === 5 || n === 6).toBe(true); // the top-5, plus the sampled token when it ranks lower
      }
    }
    // The text is the model's own: the card's format, ending in an answer line.
    expect(res.choices[0]!.text).toMatch(/Answer: -?\d+/);
  });

  it('refuses 21 log-probs with vLLM’s message, and a prompt outside the vocabulary naming the character', async () => {
    const r = await post(`${serve.url}/completions`, { model: 'arith-specialist', prompt: 'Q: 12+34=\n', logprobs: 21, max_tokens: 4 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('greater than max allowed: 20');
    const oov = await post(`${serve.url}/completions`, { model: 'arith-specialist', prompt: 'Q: 12/34=\n', max_tokens: 4 });
    expect(oov.status).toBe(400);
    expect(oov.body.error.message).toMatch(/"\/"/);
  });
});

describe('the lineage behind the server frees its KV-cache slots', () => {
  let handle: VllmServerHandle;
  const lineage = loadArithLineage();
  beforeAll(async () => {
    handle = await startVllmServer({ models: [lineage.specialist, lineage.ancestor] });
  });
  afterAll(() => handle.close());

  it('after a finished request and after a client that went away mid-decode', async () => {
    const ok = await post(`${handle.url}/completions`, { model: 'arith-specialist', prompt: 'Q: 55-23*4=\n', n: 8, max_tokens: 60, seed: 1 });
    expect(ok.status).toBe(200);
    expect(lineage.specialist.kvSlotsInUse).toBe(0);

    const controller = new AbortController();
    const pending = post(`${handle.url}/completions`, { model: 'arith-specialist', prompt: 'Q: 55-23*4+9=\n', n: 64, max_tokens: 100, ignore_eos: true, seed: 2 }, { signal: controller.signal }).catch((e: Error) => e.name);
    // Wait until the server holds the request's slots, then go away.
    for (let i = 0; i < 10_000 && lineage.specialist.kvSlotsInUse === 0; i++) await new Promise((r) => setImmediate(r));
    expect(lineage.specialist.kvSlotsInUse).toBeGreaterThan(0);
    controller.abort();
    expect(await pending).toBe('AbortError');
    for (let i = 0; i < 10_000 && lineage.specialist.kvSlotsInUse > 0; i++) await new Promise((r) => setImmediate(r));
    expect(lineage.specialist.kvSlotsInUse).toBe(0);
  });
});
