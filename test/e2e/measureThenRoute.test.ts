import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProbeCsv } from '../../src/io/probeTable.js';
import { arithProblems } from '../../src/lineage/arithProblems.js';
import { PolicySchema } from '../../src/core/policy/policySchema.js';
import { startServeProcess, type ServeProcess } from '../helpers/simServerProcess.js';

/**
 * Measure, then route, end to end through the real promptfoo CLI on the embedded lineage served by
 * a real `recoverability serve` process: eval (examples/lineage, with a rollout cache) → probe →
 * calibrate → the same eval with the learned policy on the assertion → report. As small as still
 * honest: calibrate refuses under 40 probed rows, so the probe takes 40 failing rows, one failed
 * rollout each, one label and one eval attempt per operator, and re-probes a tenth of them.
 */
const PROMPTFOO = join('node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js');
const dir = mkdtempSync(join(tmpdir(), 'recov-mtr-'));
const timings: Record<string, number> = {};

/** The real promptfoo CLI, with its own config dir, telemetry and update checks off, and a generous timeout for loaded machines. */
function promptfoo(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [PROMPTFOO, ...args], {
    env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'recov-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stderr }))));
}

/** `recoverability …` as a child process, without blocking the test process (the server is a process of its own anyway). */
function recoverability(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/recoverability.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[step] = (Date.now() - started) / 1000;
  }
}

let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServeProcess('serve');
});
afterAll(async () => {
  await serve?.stop();
  // The measured time of each step (noisy: this machine's CPU is shared), for the CI budget.
  console.log(`measure-then-route e2e, seconds per step: ${JSON.stringify(timings)}`);
});

describe('measure, then route: eval → probe → calibrate → eval with the policy → report, on the served lineage', () => {
  it('examples/lineage/problems.csv is arithProblems({seed: 11, operations: [2, 3, 4, 5], count: 24})', () => {
    const want = ['question,answer', ...arithProblems({ seed: 11, operations: [2, 3, 4, 5], count: 24 }).map((p) => `${p.prompt.trimEnd()},${p.answer}`)].join('\n') + '\n';
    expect(readFileSync('examples/lineage/problems.csv', 'utf8')).toBe(want);
  });

  it('the second eval routes by the learned policy, measured on this model', { timeout: 1_800_000 }, async () => {
    const env = { LINEAGE_BASE_URL: serve.url, LINEAGE_CACHE: join(dir, 'rollouts.jsonl') };
    const first = await timed('eval', () => promptfoo(['eval', '-c', 'examples/lineage/promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'eval.json')], env));
    expect([0, 100], first.stderr).toContain(first.code);

    const probeCsv = join(dir, 'probe.csv');
    const probe = await timed('probe', () =>
      recoverability(['probe', join(dir, 'eval.json'), '--out', probeCsv, '--budget', '40', '--attempts', '1', '--eval-attempts', '1', '--max-failed', '1', '--reprobe', '0.1', '--concurrency', '16']),
    );
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(/probed 40 \(budget 40/);
    expect(probe.stdout).toMatch(/40 from the rollout cache or sidecar, 0 re-sampled/);
    const records = parseProbeCsv(readFileSync(probeCsv, 'utf8'), probeCsv);
    expect(records).toHaveLength(40);
    expect(records.every((r) => r.split === 'disjoint' && r.label_attempts === 1 && r.eval_attempts === 1)).toBe(true);
    // Label and eval rates come from different attempts: somewhere they differ.
    expect(records.some((r) => Object.keys(r.label_rescue).some((op) => r.label_rescue[op] !== r.eval_rescue[op]))).toBe(true);
    expect(records.filter((r) => r.reprobe_label !== null)).toHaveLength(4);
    expect(records.every((r) => r.ancestor_pass_rate !== null && r.ancestor_samples === 4)).toBe(true);
    const journal = readFileSync(`${probeCsv}.journal.jsonl`, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
    for (const phase of ['eval', 'reprobe']) expect(journal.some((e) => e.phase === phase)).toBe(true);

    const policyPath = join(dir, 'policy.json');
    const calibrate = await timed('calibrate', () => recoverability(['calibrate', probeCsv, '--out', policyPath]));
    expect(calibrate.code, calibrate.stderr).toBe(0);
    const policy = PolicySchema.parse(JSON.parse(readFileSync(policyPath, 'utf8')));
    expect(policy.probe.rows).toBe(40);
    expect(policy.probe.split).toBe('disjoint');
    expect(policy.regime_estimate.ceiling?.n).toBe(4);

    const second = await timed('eval with policy', () => promptfoo(['eval', '-c', 'examples/lineage/promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'eval-policy.json')], { ...env, LINEAGE_POLICY: policyPath }));
    expect([0, 100], second.stderr).toContain(second.code);
    const rows = JSON.parse(readFileSync(join(dir, 'eval-policy.json'), 'utf8')).results.results as any[];
    expect(rows).toHaveLength(96);
    const verdict = (r: any) => r.gradingResult.componentResults.find((c: any) => c.metadata?.recoverability_row).metadata.recoverability_row;
    const failing = rows.filter((r) => verdict(r).passed.some((p: boolean) => !p));
    expect(failing.length).toBeGreaterThanOrEqual(40);
    for (const r of failing) {
      const v = verdict(r);
      expect(v.route_source).toBe('policy');
      expect(v.policy).toBe(policyPath);
      expect(r.metadata.regime).toBe(v.regime);
      expect(r.metadata.route).toBe(v.route ?? 'none');
    }
    // Every row came from the rollout cache: the second eval sampled nothing.
    expect(rows.every((r) => r.response.cached === true)).toBe(true);

    const report = await timed('report', () => recoverability(['report', join(dir, 'eval-policy.json'), '--out', join(dir, 'report'), '--format', 'json,md']));
    expect(report.code, report.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'report', 'recoverability.json'), 'utf8'));
    expect(json.totals.rows).toBe(96);
    expect(readFileSync(join(dir, 'report', 'recoverability.md'), 'utf8')).toMatch(/# Recoverability report/);
  });
});
