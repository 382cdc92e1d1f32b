import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { RolloutProvider } from '../../src/promptfoo/rolloutProvider.js';
import { startFaultProxy, type VllmBehaviour } from '../helpers/faultProxy.js';

/** RolloutProvider against serve-sim behind a proxy that behaves like vLLM where `vllm` says. */
let proxies: Awaited<ReturnType<typeof startFaultProxy>>[] = [];
let stderr: MockInstance;
beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  stderr.mockRestore();
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
});
async function proxy(vllm: VllmBehaviour = {}) {
  const p = await startFaultProxy({ vllm });
  proxies.push(p);
  return p;
}
const endpoint = (url: string, model: string) => ({ type: 'endpoint', baseUrl: url, model, timeoutMs: 10_000, maxRetries: 1, retryBaseMs: 1 });
const provider = (url: string, extra: Record<string, unknown> = {}) =>
  new RolloutProvider({ config: { specialist: endpoint(url, 'sim-specialist'), ancestor: endpoint(url, 'sim-ancestor'), samples: 2, topK: 3, ancestorTopK: 3, ancestorSamples: 0, ...extra } });
const said = () => stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('recoverability:'));
const meta = (res: { metadata?: Record<string, any> }) => res.metadata!.recoverability;
const prompts = ['Compute 2 + 3.', 'Compute (17 * 4) + 45.', 'Compute 9 - 4.'];
const dir = () => mkdtempSync(join(tmpdir(), 'recov-provider-'));

describe('the provider samples what it thinks it samples', () => {
  it('maxTokens is lowered to the room max_model_len leaves (prompt + output + 1), said once on stderr and in each row', async () => {
    const p = await proxy({ maxModelLen: 64 });
    const rp = provider(p.url, { samples: 2 }); // maxTokens: 512 by default
    const results = await Promise.all(prompts.map((q) => rp.callApi(q)));
    for (const res of results) expect(res.error).toBeUndefined();
    const sampled = p.requests.filter((r) => r.kind === 'sample');
    expect(sampled).toHaveLength(3);
    for (const r of sampled) expect(r.body.max_tokens).toBe(64 - (r.body.prompt as number[]).length - 1);
    for (const res of results) {
      expect(meta(res).notes).toEqual([expect.stringMatching(/^maxTokens 512 lowered to \d+: the prompt has \d+ tokens and max_model_len is 64 \(prompt \+ output \+ 1 ≤ max_model_len/)]);
    }
    expect(said().filter((l) => l.includes('maxTokens 512 does not fit max_model_len 64'))).toHaveLength(1);
  });

  it('a prompt that leaves no room is a named row error, before anything is sampled', async () => {
    const p = await proxy({ maxModelLen: 8 });
    const res = await provider(p.url).callApi('Compute ((((10 - 86) - 68) + 79) + 61) * 4.');
    expect(res.error).toMatch(/^RolloutProvider: PromptTooLongError: .*the prompt has \d+ tokens and max_model_len is 8: no room for output/);
    expect(p.counts.sample).toBe(0);
  });

  it('topK and ancestorTopK above the server\'s max_logprobs are lowered to it, said once and in every row', async () => {
    const p = await proxy({ maxLogprobs: 20 });
    const rp = provider(p.url, { topK: 50, ancestorTopK: 40 });
    const results = [await rp.callApi(prompts[0]!), ...(await Promise.all(prompts.slice(1).map((q) => rp.callApi(q))))];
    for (const res of results) {
      expect(res.error).toBeUndefined();
      expect(meta(res).notes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\(model sim-specialist\) allows at most 20 log-probs per position \(vLLM's --max-logprobs\): asked for 50, using 20/),
          expect.stringMatching(/\(model sim-ancestor\) allows at most 20 log-probs per position \(vLLM's --max-logprobs\): asked for 40, using 20/),
        ]),
      );
    }
    // Refused once per model (the first row's concurrent scoring requests may each be refused
    // before the cap is learned); every later request asks for 20.
    const asked = p.requests.filter((r) => r.kind !== 'other').map((r) => r.body.logprobs ?? r.body.prompt_logprobs);
    const refused = asked.filter((k) => k !== 20);
    expect(refused[0]).toBe(50);
    expect(refused.slice(1)).toEqual(refused.slice(1).map(() => 40));
    expect(refused.length).toBeLessThanOrEqual(3);
    expect(asked.slice(asked.length / 2).every((k) => k === 20)).toBe(true);
    expect(said().filter((l) => l.includes('allows at most 20'))).toHaveLength(2);
  });

  it('a response with fewer choices than samples is asked again; the row has every rollout and counts the retry', async () => {
    const p = await proxy({ dropChoices: { keep: 1, times: 1 } });
    const res = await provider(p.url, { samples: 4 }).callApi(prompts[0]!);
    expect(res.error).toBeUndefined();
    expect(meta(res).rollouts.map((r: { index: number }) => r.index)).toEqual([0, 1, 2, 3]);
    expect(meta(res).retries).toBe(1);
    expect(p.counts.sample).toBe(2);
  });

  it('retries of all rows draw on one budget; the error that exhausts it names it', async () => {
    const p = await proxy();
    const rp = provider(p.url, { retryBudget: { floor: 1, fraction: 0 } });
    const first = await rp.callApi('FAULT:500 Compute 2 + 3.');
    const second = await rp.callApi('FAULT:500 Compute 2 + 4.');
    expect(first.error).toMatch(/EndpointHttpError: .*HTTP 500: engine crashed \(gave up after 2 attempts\)/);
    expect(second.error).toMatch(/HTTP 500: engine crashed \(gave up after 1 attempts: retry budget exhausted: 1 retries spent, the most allowed after \d+ requests \(max\(1, 0% of requests\)\)/);
  });
});

describe('the log-prob check: one sampled rollout scored by the specialist itself', () => {
  it('raw log-probs (vLLM V1\'s default) pass: one extra prefill, once per provider', async () => {
    const p = await proxy();
    const rp = provider(p.url);
    const results = await Promise.all(prompts.map((q) => rp.callApi(q)));
    for (const res of results) expect(res.error).toBeUndefined();
    const selfScores = p.requests.filter((r) => r.kind === 'score' && r.body.model === 'sim-specialist');
    expect(selfScores).toHaveLength(1);
  });

  it('processed log-probs fail every row with LogprobModeError, and only the first row was sampled', async () => {
    const p = await proxy({ logprobsMode: 'processed_logprobs' });
    const rp = provider(p.url, { temperature: 0.6, topK: 5 });
    const results = await Promise.all(prompts.map((q) => rp.callApi(q)));
    for (const res of results) {
      expect(res.error).toMatch(/^RolloutProvider: LogprobModeError: .*\(model sim-specialist\): the log-probs it returned while sampling do not match the same model's prompt_logprobs/);
      expect(res.error).toMatch(/slope 1\.\d\d \(raw: 1; processed at T = 0\.6: 1\.67\).*after temperature scaling.*--logprobs-mode raw_logprobs/);
    }
    expect(p.counts.sample).toBe(1);
    expect(p.requests.filter((r) => r.kind === 'score' && r.body.model === 'sim-ancestor')).toHaveLength(0); // nothing spent on scoring either
    expect(said().filter((l) => l.includes('LogprobModeError') || l.includes('do not match'))).toHaveLength(1);
  });

  it('a specialist without prompt_logprobs: three rows try, then the check is given up, said once; the rows keep their rollouts', async () => {
    const p = await proxy({ noPromptLogprobs: ['sim-specialist'] });
    const rp = new RolloutProvider({ config: { specialist: endpoint(p.url, 'sim-specialist'), samples: 2, topK: 3, ancestorSamples: 0 } });
    const results = await Promise.all([...prompts, 'Compute 8 + 1.', 'Compute 7 * 3.'].map((q) => rp.callApi(q)));
    for (const res of results) {
      expect(meta(res).rollouts).toHaveLength(2);
      // No ancestor configured for an endpoint specialist: the row says which features are missing.
      expect(meta(res).capabilities.ancestor).toBe(false);
      expect(meta(res).unavailable.join(' ')).toMatch(/trajectory features \(spread, concentration, logit dispersion\): no ancestor configured/);
      expect(meta(res).ancestor_rollouts).toBeNull();
    }
    expect(p.requests.filter((r) => r.kind === 'score')).toHaveLength(3);
    expect(said().filter((l) => /could not check that the specialist's sampled log-probs are raw \(scoring a rollout with the specialist failed: EndpointHttpError: .*HTTP 400: prompt_logprobs is not supported\)/.test(l))).toHaveLength(1);
  });
});

describe('prompts are sent exactly', () => {
  it('promptVar sends the test var as written (promptfoo drops its trailing newline when rendering); promptSuffix is appended', async () => {
    const p = await proxy();
    const ctx = { test: { vars: { question: 'Compute 2 + 3.\n' } }, vars: { question: 'Compute 2 + 3.' }, prompt: { raw: '{{question}}', label: '' } } as any;
    await provider(p.url, { promptVar: 'question' }).callApi('Compute 2 + 3.', ctx);
    await provider(p.url, { promptSuffix: '\nAnswer:' }).callApi('Compute 2 + 3.');
    const tokenized = p.requests.filter((r) => r.url === '/tokenize').map((r) => r.body.prompt);
    expect(tokenized).toEqual(['Compute 2 + 3.\n', 'Compute 2 + 3.\nAnswer:']);
    const missing = await provider(p.url, { promptVar: 'nope' }).callApi('x', ctx);
    expect(missing.error).toMatch(/promptVar is "nope", but this test has no string var of that name \(its vars: question\)/);
  });
});

describe('the rollout cache never costs paid rollouts, and never lies', () => {
  it('a cache in a directory that does not exist yet is created before sampling; an unwritable one fails at config time, named', async () => {
    const p = await proxy();
    const path = join(dir(), 'not', 'yet', 'rollouts.jsonl');
    const res = await provider(p.url, { cache: path }).callApi(prompts[0]!);
    expect(res.error).toBeUndefined();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
    // A directory that cannot be made (a file stands where it would go): refused when the
    // provider is made, with the field named — not an ENOENT per row after paying for sampling.
    const blocker = join(dir(), 'a-file');
    writeFileSync(blocker, '');
    expect(() => provider(p.url, { cache: join(blocker, 'sub', 'rollouts.jsonl') })).toThrow(/RolloutProvider config: cache: cannot write .*a-file\/sub\/rollouts\.jsonl \(ENOTDIR\); choose a path in a writable directory/);
    expect(() => provider(p.url, { sidecar: join(blocker, 'traces.jsonl') })).toThrow(/RolloutProvider config: sidecar: cannot write .*a-file\/traces\.jsonl \(EEXIST\)/);
  });

  it('a corrupt line is skipped and counted, said once; the other rows still come from the cache', async () => {
    const p = await proxy();
    const path = join(dir(), 'rollouts.jsonl');
    const first = provider(p.url, { cache: path });
    for (const q of prompts) await first.callApi(q);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    writeFileSync(path, [lines[0], '{"key": "abc", "respo', lines[1], lines[2]].join('\n') + '\n');
    const before = p.counts.sample;
    const again = provider(p.url, { cache: path });
    const results = await Promise.all(prompts.map((q) => again.callApi(q)));
    expect(results.map((r) => r.cached ?? false)).toEqual([true, true, true]);
    expect(p.counts.sample).toBe(before);
    expect(said().filter((l) => l.includes('skipped 1 unreadable line (the first is line 2); those rows are sampled again'))).toHaveLength(1);
  });

  it('the key holds your cacheKey: a new one resamples', async () => {
    const p = await proxy();
    const path = join(dir(), 'rollouts.jsonl');
    await provider(p.url, { cache: path, cacheKey: 'ckpt-1' }).callApi(prompts[0]!);
    expect((await provider(p.url, { cache: path, cacheKey: 'ckpt-1' }).callApi(prompts[0]!)).cached).toBe(true);
    expect((await provider(p.url, { cache: path, cacheKey: 'ckpt-2' }).callApi(prompts[0]!)).cached).toBeUndefined();
    expect(p.counts.sample).toBe(2);
  });

  it('the sidecar gets each row once: cached rows are not appended again, and lines of a row killed before it was cached are replaced', async () => {
    const p = await proxy();
    const d = dir();
    const cache = join(d, 'rollouts.jsonl');
    const sidecar = join(d, 'traces.jsonl');
    const first = provider(p.url, { cache, sidecar });
    for (const q of prompts) await first.callApi(q);
    // A kill between the sidecar append and the cache append of the last row: its cache line is
    // missing, its trace lines are there, and the kill tore a line being written.
    const cached = readFileSync(cache, 'utf8').trim().split('\n');
    writeFileSync(cache, cached.slice(0, 2).join('\n') + '\n');
    appendFileSync(sidecar, '{"row_key":"torn');
    const again = provider(p.url, { cache, sidecar });
    const results = await Promise.all(prompts.map((q) => again.callApi(q)));
    expect(results.map((r) => r.cached ?? false)).toEqual([true, true, false]);
    const traced = readFileSync(sidecar, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row_key: string; index: number });
    const perRow = new Map<string, number[]>();
    for (const t of traced) perRow.set(t.row_key, [...(perRow.get(t.row_key) ?? []), t.index]);
    expect([...perRow.values()]).toEqual([[0, 1], [0, 1], [0, 1]]);
    const keys = new Set(readFileSync(cache, 'utf8').trim().split('\n').map((l) => JSON.parse(l).key));
    expect(new Set(perRow.keys())).toEqual(keys);
    expect(said().filter((l) => l.includes('removed 3 lines of rows an interrupted run traced but never cached'))).toHaveLength(1);
    expect(existsSync(`${sidecar}.${process.pid}.tmp`)).toBe(false);
  });
});
