import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVllmServer, type VllmServerHandle } from '../../src/http/vllmServer.js';
import { type DecodeSession, type Distribution, OutOfVocabularyError, type ServedModel } from '../../src/models/servedModel.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';
import { simServedModels } from '../../src/simulator/simServedModel.js';

/** A served model that counts its decode steps and tokenizer calls (a real model underneath). */
class Counted implements ServedModel {
  steps = 0;
  encodes = 0;
  onStep: (step: number) => void = () => {};
  constructor(private readonly inner: ServedModel) {}
  get id() {
    return this.inner.id;
  }
  get maxModelLen() {
    return this.inner.maxModelLen;
  }
  get eosId() {
    return this.inner.eosId;
  }
  isToken(id: number) {
    return this.inner.isToken(id);
  }
  encode(text: string, special: boolean) {
    this.encodes++;
    return this.inner.encode(text, special);
  }
  decode(ids: readonly number[]) {
    return this.inner.decode(ids);
  }
  tokenText(id: number) {
    return this.inner.tokenText(id);
  }
  scorePrompt(ids: readonly number[]) {
    return this.inner.scorePrompt(ids);
  }
  startDecode(prompt: readonly number[], n: number): DecodeSession {
    const s = this.inner.startDecode(prompt, n);
    return {
      get active() {
        return s.active;
      },
      next: () => {
        this.onStep(++this.steps);
        return s.next();
      },
      push: (t) => s.push(t),
      finish: (i) => s.finish(i),
    };
  }
}

/**
 * A second, character-level backend: digits, space, +, =, and EOS, every next token equally
 * likely. Its tokenizer cannot encode other characters, so it exercises the 400 for them.
 */
class DigitsModel implements ServedModel {
  static readonly CHARS = '0123456789 +=';
  readonly id = 'digits';
  readonly maxModelLen = 64;
  readonly eosId = DigitsModel.CHARS.length;
  isToken(id: number) {
    return Number.isInteger(id) && id >= 0 && id <= this.eosId;
  }
  encode(text: string): number[] {
    return [...text].map((ch, i) => {
      const id = DigitsModel.CHARS.indexOf(ch);
      if (id < 0) throw new OutOfVocabularyError(`character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at index ${i} is not in the digits vocabulary`);
      return id;
    });
  }
  decode(ids: readonly number[]) {
    return ids.map((id) => DigitsModel.CHARS[id] ?? '').join('');
  }
  tokenText(id: number) {
    return DigitsModel.CHARS[id] ?? '';
  }
  private uniform(): Distribution {
    const v = this.eosId + 1;
    return { ids: Array.from({ length: v }, (_, i) => i), logprobs: Array.from({ length: v }, () => -Math.log(v)) };
  }
  scorePrompt(ids: readonly number[]) {
    return ids.slice(1).map(() => this.uniform());
  }
  startDecode(_prompt: readonly number[], n: number): DecodeSession {
    let active = Array.from({ length: n }, (_, i) => i);
    return {
      get active() {
        return active;
      },
      next: () => active.map(() => this.uniform()),
      push: () => {},
      finish: (i) => (active = active.filter((a) => a !== i)),
    };
  }
}

const [specialist, ancestor] = simServedModels(new LineageSimulator({ seed: 4 }));
const counted = new Counted(specialist!);
const PROMPT = simPrompts(1, 8)[0]!.prompt;
let server: VllmServerHandle;
beforeAll(async () => {
  server = await startVllmServer({ models: [counted, ancestor!, new DigitsModel()] });
});
afterAll(() => server.close());

const root = () => server.url.replace(/\/v1$/, '');
const post = async (path: string, body: unknown, init: RequestInit = {}) => {
  const res = await fetch(root() + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const long = { model: 'sim-specialist', prompt: PROMPT, n: 256, ignore_eos: true, max_tokens: 300, logprobs: 20, seed: 1, return_tokens_as_token_ids: true };

describe('a long request cannot wedge the server', () => {
  it('a /health sent while a long decode runs is answered before that decode finishes (the loop yields between steps)', async () => {
    counted.steps = 0;
    let reached!: () => void;
    const atStep5 = new Promise<void>((resolve) => (reached = resolve));
    counted.onStep = (step) => step === 5 && reached();
    let longDone = false;
    const longRequest = post('/v1/completions', long).finally(() => (longDone = true));
    await atStep5;
    const health = await fetch(`${root()}/health`);
    const stepsAtHealth = counted.steps;
    expect(health.status).toBe(200);
    expect(longDone).toBe(false);
    expect(stepsAtHealth).toBeLessThan(300);
    const done = await longRequest;
    expect(done.status).toBe(200);
    expect(done.body.choices).toHaveLength(256);
    expect(done.body.choices.every((c: any) => c.logprobs.tokens.length === 300)).toBe(true);
    expect(counted.steps).toBe(300);
  });

  it('a client that goes away stops its decode', async () => {
    counted.steps = 0;
    let reached!: () => void;
    const atStep5 = new Promise<void>((resolve) => (reached = resolve));
    counted.onStep = (step) => step === 5 && reached();
    const controller = new AbortController();
    const pending = post('/v1/completions', long, { signal: controller.signal }).catch((e: Error) => e.name);
    await atStep5;
    controller.abort();
    expect(await pending).toBe('AbortError');
    // Round trips until the step count stands still (each one lets a running decode take a step):
    // a decode that kept going would only stand still after all 300 steps.
    let before = -1;
    for (let i = 0; i < 1000 && counted.steps !== before; i++) {
      before = counted.steps;
      await fetch(`${root()}/health`);
    }
    expect(counted.steps).toBeLessThan(300);
  });
});

describe('request size limits', () => {
  it('a 10 MB body is a 413 with a clear message, and the server keeps serving', async () => {
    const r = await post('/v1/completions', { model: 'sim-specialist', prompt: 'x'.repeat(10 * 1024 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ type: 'Content Too Large', code: 413, message: expect.stringMatching(/^request body is \d+ bytes, over this server's limit of 1048576 bytes; send a shorter prompt/) });
    expect((await fetch(`${root()}/health`)).status).toBe(200);
  });

  it('a chunked body (no Content-Length) is counted as it arrives and refused past the limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${root()}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).error.message).toMatch(/over this server's limit of 1048576 bytes/);
  });

  it('a text prompt too long to fit is refused before it is tokenized (vLLM\'s characters-per-token guard)', async () => {
    counted.encodes = 0;
    const r = await post('/v1/completions', { model: 'sim-specialist', prompt: 'y'.repeat(500_000), max_tokens: 16 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^You passed 500000 input characters and requested 16 output tokens\. However, the model's context length is only 400 tokens, resulting in a maximum input length of 384 tokens \(at most \d+ characters\)/);
    const t = await post('/tokenize', { model: 'sim-specialist', prompt: 'y'.repeat(500_000) });
    expect(t.status).toBe(400);
    expect(counted.encodes).toBe(0);
  });

  it('max_model_len holds for token-id prompts, /tokenize and /detokenize', async () => {
    const ids = Array.from({ length: 401 }, () => 65);
    expect((await post('/v1/completions', { model: 'sim-specialist', prompt: ids, max_tokens: 1 })).body.error.message).toMatch(/^You passed 401 input tokens and requested 1 output tokens/);
    expect((await post('/tokenize', { model: 'sim-specialist', prompt: 'A'.repeat(401) })).body.error.message).toMatch(/^You passed 401 input tokens and requested 0 output tokens/);
    expect((await post('/detokenize', { model: 'sim-specialist', tokens: ids })).status).toBe(400);
    expect((await post('/tokenize', { model: 'sim-specialist', prompt: 'A'.repeat(400) })).body.count).toBe(400);
  });
});

describe('out-of-vocabulary input', () => {
  it('a token id outside the vocabulary is a 400 naming it, in a prompt, a stop list or /detokenize', async () => {
    expect((await post('/v1/completions', { model: 'sim-specialist', prompt: [65, 300, 66] })).body.error).toMatchObject({ message: 'Token id 300 is out of vocabulary', param: 'prompt', code: 400 });
    expect((await post('/v1/completions', { model: 'sim-specialist', prompt: PROMPT, stop_token_ids: [5000, 1000] })).body.error.message).toBe(
      'token_id(s) [1000] in stop_token_ids contain out-of-vocab token ids. (parameter=stop_token_ids, value=[1000])',
    );
    expect((await post('/detokenize', { model: 'sim-specialist', tokens: [300] })).body.error).toMatchObject({ message: 'Token id 300 is out of vocabulary', param: 'tokens' });
    expect((await post('/v1/completions', { model: 'sim-specialist', prompt: [] })).body.error.message).toBe('The decoder prompt cannot be empty');
  });

  it('a prompt character the tokenizer cannot encode is a 400 naming the character; the server serves any ServedModel', async () => {
    const bad = await post('/v1/completions', { model: 'digits', prompt: '12 é' });
    expect(bad.body.error).toMatchObject({ code: 400, param: 'prompt', message: 'prompt: character "é" (U+00E9) at index 3 is not in the digits vocabulary' });
    const ok = await post('/v1/completions', { model: 'digits', prompt: '12 + 3 =', max_tokens: 5, logprobs: 20, seed: 1 });
    expect(ok.status).toBe(200);
    // Every token equally likely: a position lists the sampled token and the top 13 of 14 (ties by id), at ln(1/14).
    const top = ok.body.choices[0].logprobs.top_logprobs[0] as Record<string, number>;
    expect(Object.keys(top).length).toBeGreaterThanOrEqual(14);
    expect(Object.values(top).every((lp) => Math.abs(lp + Math.log(14)) < 1e-12)).toBe(true);
  });
});
