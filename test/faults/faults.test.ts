import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointSuite } from '../helpers/endpointSuite.js';
import { startFaultProxy } from '../helpers/faultProxy.js';
import { runPromptfooAsync } from '../helpers/promptfoo.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-faults-'));
const problems = readFileSync('examples/sim-problems.csv', 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const cut = line.lastIndexOf(',');
    return [line.slice(0, cut), line.slice(cut + 1)] as [string, string];
  });
const fault = (name: string): [string, string] => [`FAULT:${name} Compute 2 + 3.`, '5'];

/** Waits for a condition that an event elsewhere makes true (a child's file), with a deadline. */
async function until(what: string, condition: () => boolean, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
beforeAll(async () => {
  proxy = await startFaultProxy();
});
afterAll(() => proxy.close());

describe('endpoint faults leave a named error on the affected row and a complete report for the rest', () => {
  it('timeouts, 500s, truncated bodies, NaN log-probs, empty and 100k-token outputs', { timeout: 120_000 }, async () => {
    const faulty = ['timeout', '500', 'truncate', 'nan', 'empty', 'long'].map(fault);
    const cfg = endpointSuite(join(dir, 'faults'), proxy.url, [...problems.slice(0, 5), ...faulty]);
    const out = join(dir, 'faults', 'out.json');
    const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '4', '-o', out]);
    expect(r.code, r.stderr).toBe(100); // promptfoo's "tests failed" (the ERROR rows), not a crash
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
  });
});

describe('a 429 storm', () => {
  it("our client retries with Retry-After, then promptfoo's scheduler names the row RateLimitExhaustedError (no stacked retries)", async () => {
    const cfg = endpointSuite(join(dir, 'storm'), proxy.url, [...problems.slice(0, 2), fault('429')]);
    const out = join(dir, 'storm', 'out.json');
    const before = proxy.counts.sample;
    const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '1', '-o', out]);
    expect(r.code, r.stderr).toBe(100); // the storm row is an ERROR row, the run itself ends normally
    const rows = JSON.parse(readFileSync(out, 'utf8')).results.results as any[];
    const storm = rows.find((x) => String(x.vars.question).includes('FAULT:429'));
    expect(storm.error).toMatch(/RateLimitExhaustedError: Rate limit exceeded .* after 1 attempts/);
    expect(rows.filter((x) => x.failureReason !== 2)).toHaveLength(2); // 2 = ERROR
    // 2 healthy rows + the storm row's 2 client attempts: promptfoo did not retry on top (maxRetries: 0).
    expect(proxy.counts.sample - before).toBe(4);
  });
});

describe('kill -9 mid-run loses no finished rollout; a rerun resumes without resampling', () => {
  it('promptfoo eval with the rollout cache, killed at a known point', { timeout: 120_000 }, async () => {
    // The proxy answers 6 sampling requests and holds every later one: with -j 2, once two are
    // held both workers are blocked and exactly the first 6 rows have returned (and so are cached).
    const held = await startFaultProxy({ holdSamplesAfter: 6 });
    const cache = join(dir, 'kill', 'rollouts.jsonl');
    const sidecar = join(dir, 'kill', 'traces.jsonl');
    const cfg = endpointSuite(join(dir, 'kill'), held.url, problems.slice(0, 24), { provider: { cache, sidecar }, endpoint: { timeoutMs: 60_000 } });
    try {
      const env = { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'recov-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1' };
      const child = spawn(process.execPath, ['node_modules/promptfoo/dist/src/entrypoint.js', 'eval', '-c', cfg, '--no-progress-bar', '-j', '2', '-o', join(dir, 'kill', 'kill1.json')], { env, stdio: 'ignore' });
      await held.waitForHeld(2);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).length;
      expect(lines(cache)).toBe(6);
      expect(lines(sidecar)).toBe(12); // 2 rollouts per cached row, nothing more
      held.stopHolding();
      const before = held.counts.sample;
      const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '4', '-o', join(dir, 'kill', 'kill2.json')]);
      expect([0, 100], r.stderr).toContain(r.code);
      const rows = JSON.parse(readFileSync(join(dir, 'kill', 'kill2.json'), 'utf8')).results.results as any[];
      expect(rows).toHaveLength(24);
      expect(rows.every((x) => !x.response?.error)).toBe(true);
      // Only the 18 unfinished rows were sampled again (one sampling request per row).
      expect(held.counts.sample - before).toBe(18);
      expect(lines(cache)).toBe(24);
      const traced = readFileSync(sidecar, 'utf8').trim().split('\n').map((l) => JSON.parse(l).row_key as string);
      expect(traced).toHaveLength(48); // each row traced once
      expect(new Set(traced).size).toBe(24);
    } finally {
      await held.close();
    }
  });

  it('recoverability probe with its journal, killed at a known append', { timeout: 120_000 }, async () => {
    const out = join(dir, 'probe.csv');
    const journal = `${out}.journal.jsonl`;
    const marker = join(dir, 'probe.stopped');
    const args = ['bin/recoverability.js', 'probe', '--sim', '--problems', '300', '--seed', '9', '--out', out];
    // Append 401 (after the header and 399 attempts) never happens; the child waits to be killed.
    const child = spawn(process.execPath, ['-r', './test/helpers/stopAtAppend.cjs', ...args], {
      stdio: 'ignore',
      env: { ...process.env, STOP_AT_APPEND: '401', STOP_PATH_SUFFIX: '.journal.jsonl', STOP_MARKER: marker },
    });
    await until('the probe to reach its 401st journal append', () => existsSync(marker));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const firstRun = readFileSync(journal, 'utf8');
    expect(firstRun.split('\n').filter((l) => l.trim())).toHaveLength(400); // header + 399 attempts, whole lines
    expect(existsSync(out)).toBe(false); // killed before writing the table
    const resumed = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const journalled = readFileSync(journal, 'utf8');
    expect(journalled.startsWith(firstRun)).toBe(true); // nothing finished was lost or rewritten
    const keys = journalled.trim().split('\n').slice(1).map((l) => {
      const e = JSON.parse(l);
      return `${e.phase ?? 'label'}/${e.problem_id}/${e.rollout}/${e.operator}/${e.attempt}`;
    });
    expect(new Set(keys).size).toBe(keys.length); // nothing was redone
    // And the result equals an uninterrupted run's.
    const clean = join(dir, 'probe-clean.csv');
    expect(spawnSync(process.execPath, ['bin/recoverability.js', 'probe', '--sim', '--problems', '300', '--seed', '9', '--out', clean]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(clean, 'utf8'));
  });
});
