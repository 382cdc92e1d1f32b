import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProbeCsv } from '../../src/io/probeTable.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';
import { endpointSuite } from '../helpers/endpointSuite.js';
import { runPromptfooAsync } from '../helpers/promptfoo.js';
import { startServeSim } from '../helpers/simServerProcess.js';

/**
 * `recoverability probe results.json` against a real `recoverability serve --sim` process: an
 * eval written by the real promptfoo CLI with a rollout cache, then the probe as a user runs it.
 */
const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8', timeout: 300_000 });
const dir = mkdtempSync(join(tmpdir(), 'recov-evalprobe-'));
const PROBE = ['--budget', '5', '--attempts', '1', '--eval-attempts', '1', '--max-failed', '1', '--reprobe', '0.4', '--seed', '2'];
let sim: Awaited<ReturnType<typeof startServeSim>>;
let first: { csv: string; summary: any };

async function until(what: string, check: () => boolean, ms = 240_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  sim = await startServeSim(['--seed', '4']);
  const tests = simPrompts(24, 4).map((p): [string, string] => [p.prompt, String(p.expected)]);
  const config = endpointSuite(join(dir, 'suite'), sim.url, tests, { provider: { samples: 6, topK: 20, ancestorTopK: 20, ancestorSamples: 4, cache: join(dir, 'rollouts.jsonl') }, hooks: false });
  const r = await runPromptfooAsync(['eval', '-c', config, '--no-progress-bar', '-j', '4', '-o', join(dir, 'out.json'), '-o', join(dir, 'out.jsonl')]);
  expect([0, 100], r.stderr).toContain(r.code);
}, 300_000);
afterAll(() => sim?.stop());

describe('recoverability probe <eval output> against serve --sim', () => {
  it('probes a budgeted, stratified sample of the failing rows with token ids from the rollout cache', { timeout: 300_000 }, () => {
    const out = join(dir, 'a.csv');
    const r = run('probe', join(dir, 'out.json'), '--out', out, ...PROBE);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8'));
    expect(summary.source).toBe('eval');
    expect(summary.eval_id).toMatch(/^eval-/);
    expect(summary.population.rows).toBe(24);
    expect(summary.population.failing).toBeGreaterThan(5);
    expect(summary.population.selected).toBe(5);
    expect(summary.population.tokens).toMatchObject({ stored: 5, resampled: 0, retokenized: 0 });
    const records = parseProbeCsv(readFileSync(out, 'utf8'), out);
    expect(records).toHaveLength(5);
    for (const rec of records) {
      expect(rec.split).toBe('disjoint');
      expect(rec.n_rollouts).toBe(6);
      expect(rec.n_probed).toBe(1);
      expect(rec.settings).toBe(summary.settings);
      expect(rec.ancestor_samples).toBe(4);
      expect(Object.keys(rec.eval_rescue)).toEqual(['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer']);
    }
    expect(records.filter((rec) => rec.reprobe_label !== null)).toHaveLength(2);
    expect(summary.ceiling.n).toBe(2);
    // The cost table: every operator ran label + eval (+ re-probe) attempts; dense steer asks two models per position.
    const cost = Object.fromEntries(summary.cost.map((c: any) => [c.operator, c]));
    expect(cost.retry.attempts).toBeGreaterThanOrEqual(10);
    expect(cost.dense_steer.requests).toBe(cost.dense_steer.generatedTokens);
    expect(cost.dense_steer.requests).toBeGreaterThan(10 * cost.retry.requests);
    expect(r.stdout).toMatch(/dense steer asks both models for their top-K at every position/);
    // Per row, what each operator cost is stored: tokens in the records, requests in the summary.
    for (const rec of records) expect(rec.tokens.dense_steer).toBeGreaterThan(0);
    expect(summary.row_cost.map((x: any) => x.problem_id).sort()).toEqual(records.map((x) => x.problem_id).sort());
    first = { csv: readFileSync(out, 'utf8'), summary };
  });

  it('re-samples, with the row\'s seed, the token ids no file has — to the same table', { timeout: 300_000 }, () => {
    const data = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    for (const row of data.results.results) if (row.response?.metadata?.recoverability) row.response.metadata.recoverability.cache = null;
    writeFileSync(join(dir, 'nocache.json'), JSON.stringify(data));
    const out = join(dir, 'b.csv');
    const r = run('probe', join(dir, 'nocache.json'), '--out', out, ...PROBE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 from the rollout cache or sidecar, 5 re-sampled with the row's seed/);
    expect(readFileSync(out, 'utf8')).toBe(first.csv);
  });

  it('reads -o out.jsonl to the same measurement (JSONL carries no eval id, so the fingerprint differs)', { timeout: 300_000 }, () => {
    const out = join(dir, 'c.csv');
    const r = run('probe', join(dir, 'out.jsonl'), '--out', out, ...PROBE);
    expect(r.status, r.stderr).toBe(0);
    const strip = (csv: string) => parseProbeCsv(csv).map(({ settings: _s, ...rest }) => rest);
    expect(strip(readFileSync(out, 'utf8'))).toEqual(strip(first.csv));
  });

  it('killed with SIGKILL at a journal append, then rerun: resumes to the same table and never exceeds the budget', { timeout: 300_000 }, async () => {
    const out = join(dir, 'k.csv');
    const marker = join(dir, 'k.stopped');
    const args = ['bin/recoverability.js', 'probe', join(dir, 'out.json'), '--out', out, ...PROBE];
    // The 31st append (header + 29 attempts) never happens; the child waits to be killed.
    const child = spawn(process.execPath, ['-r', './test/helpers/stopAtAppend.cjs', ...args], {
      stdio: 'ignore',
      env: { ...process.env, STOP_AT_APPEND: '31', STOP_PATH_SUFFIX: '.journal.jsonl', STOP_MARKER: marker },
    });
    await until('the probe to reach its 31st journal append', () => existsSync(marker));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killed = readFileSync(`${out}.journal.jsonl`, 'utf8');
    expect(killed.trim().split('\n')).toHaveLength(30);
    expect(existsSync(out)).toBe(false);
    const resumed = run(...args.slice(1));
    expect(resumed.status, resumed.stderr).toBe(0);
    const journal = readFileSync(`${out}.journal.jsonl`, 'utf8');
    expect(journal.startsWith(killed)).toBe(true);
    const entries = journal.trim().split('\n').slice(1).map((l) => JSON.parse(l));
    const keys = entries.map((e) => `${e.phase ?? 'label'}/${e.problem_id}/${e.rollout}/${e.operator}/${e.attempt}`);
    expect(new Set(keys).size).toBe(keys.length); // nothing was redone
    expect(new Set(entries.map((e) => e.problem_id)).size).toBeLessThanOrEqual(5); // the budget held across the resume
    expect(readFileSync(out, 'utf8')).toBe(first.csv);
    // Another budget with the same journal: refused, so a resume can never probe more rows.
    const more = run('probe', join(dir, 'out.json'), '--out', out, ...PROBE.slice(2), '--budget', '9');
    expect(more.status).toBe(2);
    expect(more.stderr).toMatch(/written by a probe with other settings/);
  });

  it('--rows picks tests by index or description; overrides and bad input are named errors (exit 2)', { timeout: 300_000 }, () => {
    const rows = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).results.results;
    const failing = rows.filter((x: any) => x.gradingResult.componentResults[0].metadata.recoverability_row.passed.some((p: boolean) => !p));
    const idx = failing[0].testIdx;
    const out = join(dir, 'rows.csv');
    // An overriding endpoint whose key comes from the environment: the key is sent, never written.
    const KEY = 'sk-probe-test-0123456789abcdef';
    const args = ['probe', join(dir, 'out.json'), '--out', out, '--rows', String(idx), '--specialist', `${sim.url}#sim-specialist`, '--api-key-env', 'RECOV_PROBE_KEY', ...PROBE];
    const r = spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, RECOV_PROBE_KEY: KEY } });
    expect(r.status, r.stderr).toBe(0);
    expect(parseProbeCsv(readFileSync(out, 'utf8'))).toHaveLength(1);
    for (const text of [r.stdout, r.stderr, readFileSync(out, 'utf8'), readFileSync(`${out}.summary.json`, 'utf8'), readFileSync(`${out}.journal.jsonl`, 'utf8')]) expect(text).not.toContain(KEY);
    expect(readFileSync(`${out}.journal.jsonl`, 'utf8').split('\n')[0]).toContain('"apiKeyEnv":"RECOV_PROBE_KEY"');
    const unset = spawnSync(process.execPath, ['bin/recoverability.js', ...args.slice(0, 2), '--out', join(dir, 'unset.csv'), ...args.slice(4)], { encoding: 'utf8', env: { ...process.env, RECOV_PROBE_KEY: '' } });
    expect(unset.status).toBe(2);
    expect(unset.stderr).toMatch(/takes its API key from the environment variable RECOV_PROBE_KEY, which is not set/);
    const bad = (args: string[], message: RegExp) => {
      const x = run('probe', ...args);
      expect(x.status, x.stderr).toBe(2);
      expect(x.stderr).toMatch(message);
    };
    bad([join(dir, 'out.json'), '--out', out, '--rows', 'no such test'], /--rows "no such test": no failing row has that test description/);
    bad([join(dir, 'out.json'), '--out', out, '--specialist', 'sim-specialist'], /--specialist takes URL#model/);
    bad([join(dir, 'out.json'), '--out', out, '--reprobe', '2'], /--reprobe takes a share from 0 to 1, got "2"/);
    bad([join(dir, 'out.json'), '--out', out, '--budget', '0'], /--budget takes a whole number from 1/);
    bad([join(dir, 'out.json'), '--lineage', '--out', out], /probe takes one source/);
    bad([join(dir, 'missing.json'), '--out', out], /cannot read .*missing\.json: ENOENT/);
    rmSync(join(dir, 'rows.csv.journal.jsonl'));
  });
});
