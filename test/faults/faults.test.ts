import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPromptfooAsync } from '../helpers/promptfoo.js';
import { startFaultProxy } from '../helpers/faultProxy.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-faults-'));
const problems = readFileSync('examples/sim-problems.csv', 'utf8').trim().split('\n').slice(1);

/** A suite config (in the repo root, so package: references resolve) against an endpoint. */
function suite(name: string, url: string, tests: string[], extra = '', timeoutMs = 3000): string {
  const csv = join(dir, `${name}.csv`);
  writeFileSync(csv, ['question,answer', ...tests].join('\n') + '\n');
  const cfg = `tmp-${name}-${process.pid}.yaml`;
  writeFileSync(
    cfg,
    `prompts: ['{{question}}']
providers:
  - id: package:promptfoo-recoverability:RolloutProvider
    config:
      specialist: { type: endpoint, baseUrl: '${url}', model: sim-specialist, timeoutMs: ${timeoutMs}, maxRetries: 1, retryBaseMs: 10 }
      ancestor: { type: endpoint, baseUrl: '${url}', model: sim-ancestor, timeoutMs: ${timeoutMs}, maxRetries: 1, retryBaseMs: 10 }
      samples: 2
      topK: 2
      ancestorTopK: 2
      maxTokens: 128
${extra}
defaultTest:
  assert:
    - type: javascript
      value: package:promptfoo-recoverability:gradeRollouts
      config: { grader: { type: numeric, var: answer } }
tests: file://${csv}
extensions:
  - file://hooks.js:afterEach
  - file://hooks.js:afterAll
`,
  );
  return cfg;
}

let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
beforeAll(async () => {
  proxy = await startFaultProxy();
});
afterAll(() => proxy.close());

describe('endpoint faults leave a named error on the affected row and a complete report for the rest', () => {
  it('timeouts, 500s, truncated bodies, NaN log-probs, empty and 100k-token outputs', { timeout: 120_000 }, async () => {
    const faulty = ['timeout', '500', 'truncate', 'nan', 'empty', 'long'].map((f) => `FAULT:${f} Compute 2 + 3.,5`);
    const cfg = suite('faults', proxy.url, [...problems.slice(0, 5), ...faulty]);
    try {
      const out = join(dir, 'faults', 'out.json');
      const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '4', '-o', out]);
      expect(r.code, r.stderr).not.toBe(null);
      const rows = JSON.parse(readFileSync(out, 'utf8')).results.results as any[];
      const byFault = (f: string) => rows.find((x) => String(x.vars.question).includes(`FAULT:${f}`));
      expect(byFault('timeout').error).toMatch(/EndpointTimeoutError: .* did not answer within 3000 ms \(gave up after 2 attempts\)/);
      expect(byFault('500').error).toMatch(/EndpointHttpError: .*HTTP 500: engine crashed/);
      expect(byFault('truncate').error).toMatch(/TruncatedResponseError: .*not complete JSON/);
      expect(byFault('nan').error).toMatch(/MalformedResponseError: .*NaN or Infinity/);
      // Empty outputs are data, not errors: graded as failed rollouts.
      const empty = byFault('empty');
      expect(empty.response.error ?? null).toBeNull();
      expect(empty.namedScores.pass_rate).toBe(0);
      // A 100k-token output is processed: one streaming pass per rollout, finite features.
      const long = byFault('long');
      expect(long.response.error ?? null).toBeNull();
      expect(long.response.metadata.recoverability.rollouts[0].tokens).toBe(100_000);
      expect(Number.isFinite(long.namedScores.spread)).toBe(true);
      // The report covers every row that produced rollouts.
      const report = JSON.parse(readFileSync(join(dir, 'faults', 'recoverability.json'), 'utf8'));
      expect(report.totals.rows).toBe(7);
      expect(rows.filter((x) => x.response?.metadata?.recoverability)).toHaveLength(7);
      expect(rows.filter((x) => x.failureReason === 2)).toHaveLength(4); // the four faults above, and only them
    } finally {
      unlinkSync(cfg);
    }
  });
});

describe('a 429 storm', () => {
  it('our client retries with Retry-After, then promptfoo\'s scheduler names the row RateLimitExhaustedError (no stacked retries)', async () => {
    const cfg = suite('storm', proxy.url, [...problems.slice(0, 2), 'FAULT:429 Compute 2 + 3.,5']);
    try {
      const out = join(dir, 'storm', 'out.json');
      const before = proxy.counts.sample;
      const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '1', '-o', out]);
      expect(r.code).not.toBe(null);
      const rows = JSON.parse(readFileSync(out, 'utf8')).results.results as any[];
      const storm = rows.find((x) => String(x.vars.question).includes('FAULT:429'));
      expect(storm.error).toMatch(/RateLimitExhaustedError: Rate limit exceeded .* after 1 attempts/);
      expect(rows.filter((x) => x.failureReason !== 2)).toHaveLength(2); // 2 = ERROR
      // 2 healthy rows + the storm row's 2 client attempts: promptfoo did not retry on top (maxRetries: 0).
      expect(proxy.counts.sample - before).toBe(4);
    } finally {
      unlinkSync(cfg);
    }
  });
});

describe('kill -9 mid-run loses no finished rollout; a rerun resumes without resampling', () => {
  it('promptfoo eval with the rollout cache', async () => {
    const slow = await startFaultProxy({ latencyMs: 150 });
    const cache = join(dir, 'rollouts.jsonl');
    const cfg = suite('kill', slow.url, problems.slice(0, 24), `      cache: ${cache}`, 10_000);
    try {
      const env = { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'recov-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1' };
      const child = spawn(process.execPath, ['node_modules/promptfoo/dist/src/entrypoint.js', 'eval', '-c', cfg, '--no-progress-bar', '-j', '2', '-o', join(dir, 'kill1.json')], { env, stdio: 'ignore' });
      const lines = () => (existsSync(cache) ? readFileSync(cache, 'utf8').split('\n').filter((l) => l.trim()).length : 0);
      for (let i = 0; i < 600 && lines() < 6; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const finished = lines();
      expect(finished).toBeGreaterThanOrEqual(6);
      expect(finished).toBeLessThan(24);
      const before = { ...slow.counts };
      const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '4', '-o', join(dir, 'kill2.json')]);
      expect([0, 100], r.stderr).toContain(r.code);
      const rows = JSON.parse(readFileSync(join(dir, 'kill2.json'), 'utf8')).results.results as any[];
      expect(rows).toHaveLength(24);
      expect(rows.every((x) => !x.response?.error)).toBe(true);
      // Only the unfinished rows were sampled again (one sampling request per row).
      expect(slow.counts.sample - before.sample).toBe(24 - finished);
      expect(lines()).toBe(24);
    } finally {
      unlinkSync(cfg);
      await slow.close();
    }
  });

  it('recoverability probe with its journal', async () => {
    const out = join(dir, 'probe.csv');
    const journal = `${out}.journal.jsonl`;
    const args = ['bin/recoverability.js', 'probe', '--sim', '--problems', '300', '--seed', '9', '--out', out];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const lines = () => (existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length - 1 : 0);
    for (let i = 0; i < 600 && lines() < 400; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const firstRun = readFileSync(journal, 'utf8');
    const complete = firstRun.slice(0, firstRun.lastIndexOf('\n') + 1);
    expect(existsSync(out)).toBe(false); // killed before writing the table
    const resumed = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const journalled = readFileSync(journal, 'utf8');
    expect(journalled.startsWith(complete)).toBe(true); // nothing finished was lost or rewritten
    const keys = journalled.trim().split('\n').slice(1).map((l) => { const e = JSON.parse(l); return `${e.problem_id}/${e.rollout}/${e.operator}/${e.attempt}`; });
    expect(new Set(keys).size).toBe(keys.length); // nothing was redone
    // And the result equals an uninterrupted run's.
    const clean = join(dir, 'probe-clean.csv');
    expect(spawnSync(process.execPath, ['bin/recoverability.js', 'probe', '--sim', '--problems', '300', '--seed', '9', '--out', clean]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(clean, 'utf8'));
  });
});
