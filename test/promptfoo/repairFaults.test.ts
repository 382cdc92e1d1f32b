import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { startSimServer } from '../../src/http/simServer.js';
import { gradeRollouts } from '../../src/promptfoo/gradeRollouts.js';
import type { RepairRecord } from '../../src/promptfoo/repairMetadata.js';
import { RolloutProvider } from '../../src/promptfoo/rolloutProvider.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';

/**
 * A loopback proxy in front of serve-sim that, while `failing`, answers the steers' next-token
 * queries (completions of one token with `logprobs` and no `prompt_logprobs`) with a 500 once
 * `pass` of them went through. Sampling and scoring — the rollouts — always go through.
 */
async function steerFaultProxy() {
  const sim = await startSimServer({ simulator: new LineageSimulator({ seed: 0 }) });
  const upstream = sim.url.replace(/\/v1$/, '');
  const state = { failing: false, pass: 0, steers: 0, samples: 0, refused: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : {};
      const steer = req.url === '/v1/completions' && body.max_tokens === 1 && body.logprobs != null && body.prompt_logprobs == null;
      if (req.url === '/v1/completions' && !steer && body.prompt_logprobs == null) state.samples++;
      if (steer && state.failing && state.steers++ >= state.pass) {
        state.refused++;
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ object: 'error', message: 'engine crashed', type: 'InternalServerError', code: 500 }));
      }
      const up = await fetch(upstream + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? text : null });
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(await up.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    state,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sim.close();
    },
  };
}

let proxy: Awaited<ReturnType<typeof steerFaultProxy>>;
let stderr: MockInstance;
beforeAll(async () => {
  proxy = await steerFaultProxy();
});
afterAll(() => proxy.close());
beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  Object.assign(proxy.state, { failing: false, pass: 0, steers: 0, samples: 0, refused: 0 });
});
afterEach(() => stderr.mockRestore());

const endpoint = (model: string) => ({ type: 'endpoint', baseUrl: proxy.url, model, timeoutMs: 10_000, maxRetries: 0 });
const provider = (extra: Record<string, unknown> = {}) =>
  new RolloutProvider({ config: { specialist: endpoint('sim-specialist'), ancestor: endpoint('sim-ancestor'), samples: 6, topK: 5, ancestorTopK: 5, ancestorSamples: 2, seed: 3, ...extra } });
const repairOf = (res: { metadata?: Record<string, any> }): RepairRecord => res.metadata!.recoverability.repair;
const problems = simPrompts(8, 5);
const ctxOf = (p: (typeof problems)[number]) => ({ vars: { answer: String(p.expected) } }) as any;

describe('an endpoint that fails during repair', () => {
  it('the fault is recorded on the row; the row keeps its rollouts and is no ERROR', async () => {
    const plain = provider();
    const baseline = [];
    for (const p of problems) baseline.push(await plain.callApi(p.prompt, ctxOf(p)));

    proxy.state.failing = true;
    proxy.state.pass = 25; // the first attempt gets going, then every next-token query fails
    const repairing = provider({ repair: { route: 'dense_steer', budget: 4, grader: { type: 'numeric' } } });
    let faulted = 0;
    let firstFaulted: RepairRecord | null = null;
    for (const [i, p] of problems.entries()) {
      const res = await repairing.callApi(p.prompt, ctxOf(p));
      expect(res.error).toBeUndefined();
      expect(res.output).toBe(baseline[i]!.output);
      expect(res.metadata!.recoverability.rollouts).toEqual(baseline[i]!.metadata!.recoverability.rollouts);
      const r = repairOf(res);
      if (r.route === null || r.attempts === 0) continue;
      faulted++;
      firstFaulted ??= r;
      expect(r.error).toMatch(/^EndpointHttpError: .*500.*engine crashed/);
      expect(r.rescued).toBeNull();
      // What the attempts spent before the fault is still counted, on the row and in its token usage.
      expect(res.tokenUsage!.numRequests).toBe(baseline[i]!.tokenUsage!.numRequests! + r.requests);
      const g = await gradeRollouts(res.output as string, { providerResponse: res, vars: { answer: String(p.expected) }, config: { grader: { type: 'numeric' }, columns: 'all' } } as any);
      expect(g.namedScores).not.toHaveProperty('rescued');
      expect(g.namedScores).toMatchObject({ repair_attempts: r.attempts, repair_tokens: r.tokens });
      expect(g.reason).toMatch(/Repair \(dense_steer\) ended after \d of 4 attempts by an error: EndpointHttpError: .*; the original rollouts are kept/);
    }
    expect(faulted).toBeGreaterThan(0);
    expect(proxy.state.refused).toBeGreaterThan(0);
    // The first faulted row's first attempt got its 25 next-token queries through before the fault
    // (24 when the query paired with the failing one had not answered yet): counted, though nothing came of them.
    expect(firstFaulted!.attempts).toBe(1);
    expect(firstFaulted!.requests).toBeGreaterThanOrEqual(24);
    expect(firstFaulted!.requests).toBeLessThanOrEqual(25);
    const said = stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('a repair ended in an error'));
    expect(said).toHaveLength(1);
  }, 120_000);

  it('a faulted repair is not cached: the rerun takes the rollouts from the cache and repairs again', async () => {
    const cache = join(mkdtempSync(join(tmpdir(), 'recov-repair-fault-')), 'rollouts.jsonl');
    const config = { cache, repair: { route: 'dense_steer', budget: 3, grader: { type: 'numeric' } } };
    proxy.state.failing = true;
    const first = [];
    for (const p of problems) first.push(await provider(config).callApi(p.prompt, ctxOf(p)));
    const faulted = first.map((r, i) => ({ r: repairOf(r), i })).filter(({ r }) => r.error !== null);
    expect(faulted.length).toBeGreaterThan(0);

    Object.assign(proxy.state, { failing: false, samples: 0 });
    const rerun = provider(config);
    for (const { i } of faulted.slice(0, 1)) {
      const res = await rerun.callApi(problems[i]!.prompt, ctxOf(problems[i]!));
      const r = repairOf(res);
      expect(r.error).toBeNull();
      expect(r.attempts).toBeGreaterThan(0);
      expect(typeof r.rescued).toBe('boolean');
      expect(res.metadata!.recoverability.rollouts).toEqual(first[i]!.metadata!.recoverability.rollouts);
    }
    // No rollout was sampled again.
    expect(proxy.state.samples).toBe(0);
  }, 120_000);
});
