import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAICompatibleModel } from '../../src/http/openAiCompatibleModel.js';
import { ChatResponseSchema, CompletionResponseSchema, ModelsResponseSchema } from '../../src/http/vllmDialect.js';
import { startSimServer } from '../../src/http/simServer.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';
import { captureRollouts } from '../../src/capture/captureRollouts.js';

let server: Awaited<ReturnType<typeof startSimServer>>;
const SEED = 13;
beforeAll(async () => {
  server = await startSimServer({ simulator: new LineageSimulator({ seed: SEED }) });
});
afterAll(() => server.close());

const post = async (path: string, body: unknown) => {
  const res = await fetch(server.url.replace(/\/v1$/, '') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('serve --sim speaks vLLM\'s dialect', () => {
  it('lists the specialist and the ancestor', async () => {
    const body = ModelsResponseSchema.parse(await (await fetch(`${server.url}/models`)).json());
    expect(body.data.map((m) => m.id)).toEqual(['sim-specialist', 'sim-ancestor']);
  });

  it('completions: string prompt, n, seed, logprobs, token ids', async () => {
    const { status, body } = await post('/v1/completions', {
      model: 'sim-specialist', prompt: 'Compute 12 + 7 - 3.', n: 3, seed: 4, temperature: 0.6, max_tokens: 64, logprobs: 5, return_tokens_as_token_ids: true,
    });
    expect(status).toBe(200);
    expect(CompletionResponseSchema.safeParse(body).success).toBe(true);
    expect(body.object).toBe('text_completion');
    expect(body.choices).toHaveLength(3);
    const c = body.choices[0];
    expect(c.text).toMatch(/Answer: -?\d+$/);
    expect(c.logprobs.tokens.every((t: string) => /^token_id:\d+$/.test(t))).toBe(true);
    expect(c.logprobs.top_logprobs[5]).toHaveProperty(c.logprobs.tokens[5]);
    expect(c.logprobs.token_logprobs[5]).toBe(c.logprobs.top_logprobs[5][c.logprobs.tokens[5]]);
    expect(body.usage.completion_tokens).toBe(body.choices.reduce((s: number, x: any) => s + x.logprobs.tokens.length, 0));
  });

  it('completions: token-id prompt with prompt_logprobs (first entry null, rank and decoded_token)', async () => {
    const ids = (await post('/tokenize', { model: 'sim-ancestor', prompt: 'Compute 12 + 7.' })).body.tokens as number[];
    const { body } = await post('/v1/completions', { model: 'sim-ancestor', prompt: ids, max_tokens: 1, prompt_logprobs: 2 });
    const pl = body.choices[0].prompt_logprobs;
    expect(pl).toHaveLength(ids.length);
    expect(pl[0]).toBeNull();
    const entry = Object.values(pl[1])[0] as { logprob: number; rank: number; decoded_token: string };
    expect(entry).toEqual({ logprob: expect.any(Number), rank: expect.any(Number), decoded_token: expect.any(String) });
    expect(Object.keys(pl[1])).toContain(String(ids[1]));
  });

  it('echo returns the prompt tokens too', async () => {
    const { body } = await post('/v1/completions', { model: 'sim-specialist', prompt: 'Compute 2 + 2.', max_tokens: 4, logprobs: 1, echo: true, seed: 1 });
    expect(body.choices[0].text.startsWith('Compute 2 + 2.')).toBe(true);
    expect(body.choices[0].logprobs.token_logprobs[0]).toBeNull();
  });

  it('chat completions with logprobs and top_logprobs', async () => {
    const { status, body } = await post('/v1/chat/completions', {
      model: 'sim-specialist', messages: [{ role: 'user', content: 'Compute 3 * 4 + 1.' }], logprobs: true, top_logprobs: 3, seed: 2, temperature: 0.6,
    });
    expect(status).toBe(200);
    expect(ChatResponseSchema.safeParse(body).success).toBe(true);
    expect(body.choices[0].message.content).toMatch(/Answer: -?\d+$/);
    const first = body.choices[0].logprobs.content[0];
    expect(first).toMatchObject({ token: 'Step', logprob: expect.any(Number) });
    expect(first.top_logprobs.length).toBeLessThanOrEqual(3);
  });

  it('bad requests get vLLM\'s nested error bodies naming the field', async () => {
    const r1 = await post('/v1/completions', { model: 'sim-specialist', prompt: 'x', temperature: 'hot' });
    expect(r1.status).toBe(400);
    expect(r1.body.error).toMatchObject({ type: 'Bad Request', param: 'body.temperature', code: 400, message: expect.stringContaining('body.temperature') });
    const r2 = await post('/v1/completions', { model: 'gpt-9', prompt: 'x' });
    expect(r2.status).toBe(404);
    expect(r2.body.error.message).toMatch(/The model `gpt-9` does not exist/);
    const raw = await fetch(`${server.url}/completions`, { method: 'POST', body: '{not json' });
    expect(raw.status).toBe(400);
  });
});

describe('same seed ⇒ byte-identical rollouts in-process and over HTTP', () => {
  it('capture (sample K + ancestor scores + summaries) is identical', async () => {
    const local = new LineageSimulator({ seed: SEED });
    const S = new OpenAICompatibleModel({ baseUrl: server.url, model: 'sim-specialist' });
    const A = new OpenAICompatibleModel({ baseUrl: server.url, model: 'sim-ancestor' });
    const opts = { samples: 6, temperature: 0.6, topK: 20, ancestorTopK: 20, maxTokens: 128, seed: 99, keepSteps: true };
    for (const p of simPrompts(5, 3)) {
      const inProcess = await captureRollouts(local.specialist, local.ancestor, await local.specialist.tokenize(p.prompt), opts);
      const overHttp = await captureRollouts(S, A, await S.tokenize(p.prompt), opts);
      expect(JSON.stringify(overHttp)).toBe(JSON.stringify(inProcess));
    }
  });
});

describe('recoverability serve-sim (the CLI process; an alias of serve --sim)', () => {
  it('prints its URL, serves, and shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/recoverability.js', 'serve-sim', '--port', '0', '--seed', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const models = (await (await fetch(`${url}/models`)).json()) as { data: unknown[] };
    expect(models.data).toHaveLength(2);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toMatch(/SIGTERM, shutting down/);
  });

  it('bad flags exit 2', async () => {
    const child = spawn(process.execPath, ['bin/recoverability.js', 'serve-sim', '--port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/--port takes a whole number from 0 to 65535, got "abc"/);
  });
});
