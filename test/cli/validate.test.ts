import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });

describe('recoverability validate --sim', () => {
  it('reports the study with the documented JSON keys, reproducibly for a seed', () => {
    const a = run('validate', '--sim', '--problems', '60', '--seed', '2', '--budget-max', '12', '--json');
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toBe(''); // stderr is a pipe here: no progress unless asked
    const r = JSON.parse(a.stdout);
    for (const k of ['accuracy', 'majority', 'routed_rescue', 'fixed_rescue', 'retry_rescue', 'retry_at_budget', 'routed_at_budget']) expect(r).toHaveProperty(k);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.accuracy).toBeLessThanOrEqual(1);
    expect(r.retry_at_budget).toHaveLength(12);
    expect(r.routed_at_budget).toHaveLength(10);
    // Rescue at budget never decreases with budget.
    for (const curve of [r.retry_at_budget, r.routed_at_budget]) curve.forEach((v: number, i: number) => i > 0 && expect(v).toBeGreaterThanOrEqual(curve[i - 1]));
    const total = Object.values(r.confusion as Record<string, Record<string, number>>).flatMap((row) => Object.values(row)).reduce((s, n) => s + n, 0);
    expect(total).toBe(r.failed_problems);
    expect(r.routed_at_10_reaches_retry_at_50).toBeNull(); // the budget was 12 < 50
    expect(run('validate', '--sim', '--problems', '60', '--seed', '2', '--budget-max', '12', '--json').stdout).toBe(a.stdout);
  });

  it('prints readable tables (with --progress: progress lines and a summary on stderr) and refuses a missing --sim', () => {
    const t = run('validate', '--sim', '--problems', '40', '--seed', '3', '--budget-max', '10', '--progress');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/^validate \((?:sampling|probing|budget: [a-z_]+)\) \[[=-]+\] \d+% \| \d+\/\d+/m);
    expect(t.stderr).toMatch(/\nvalidate: 40 problems sampled, probed and studied in [\d.]+ s\n$/);
    expect(t.stdout).toMatch(/\(a\) features → Eq\. 2 label: [\d.]+% cross-validated accuracy vs [\d.]+% majority/);
    expect(t.stdout).toMatch(/\(c\) rescue at budget/);
    const bad = run('validate');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/validate needs --lineage \(the embedded real lineage\) or --sim/);
    expect(run('validate', '--sim', '--lineage').stderr).toMatch(/one of them/);
    expect(run('validate', '--sim', '--journal', 'j.jsonl').stderr).toMatch(/--journal applies to --lineage only/);
    expect(run('validate', '--lineage', '--mix', 'easy=1').stderr).toMatch(/--mix configures the simulator/);
    const typo = run('validate', '--sim', '--budget', '10');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^recoverability validate: unknown option --budget; did you mean --budget-max\?\n\nUsage: recoverability validate/);
  });
});

describe('recoverability validate --lineage', () => {
  it('the study on the embedded lineage, with the documented JSON keys; it reuses the journal of probe --lineage --budget all', { timeout: 600_000 }, () => {
    const d = mkdtempSync(join(tmpdir(), 'recov-validate-'));
    const out = join(d, 'p.csv');
    const probe = run('probe', '--lineage', '--problems', '12', '--operations', '2,5', '--seed', '5', '--budget', 'all', '--out', out);
    expect(probe.status, probe.stderr).toBe(0);
    const journal = readFileSync(`${out}.journal.jsonl`, 'utf8');
    const v = run('validate', '--lineage', '--problems', '12', '--operations', '2,5', '--seed', '5', '--budget-max', '10', '--journal', `${out}.journal.jsonl`, '--json');
    expect(v.status, v.stderr).toBe(0);
    // Every probe attempt came from probe --lineage's journal: nothing was added to it.
    expect(readFileSync(`${out}.journal.jsonl`, 'utf8')).toBe(journal);
    const r = JSON.parse(v.stdout);
    for (const k of ['problems', 'failing_rows', 'probed', 'labels', 'features_to_labels', 'steerable', 'routed_rescue', 'fixed_rescue', 'retry_rescue', 'routes', 'retry_at_budget', 'routed_at_budget', 'routed_at_10_reaches_retry_at_50', 'calibration', 'paper_rule', 'findings']) {
      expect(r).toHaveProperty(k);
    }
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8'));
    expect(r.probed).toBe(summary.probed);
    expect(r.labels).toEqual(summary.labels);
    expect(r.calibration).toBeNull(); // fewer than 40 probed rows: calibrate would refuse
    if (r.steerable > 0) {
      expect(r.retry_at_budget).toHaveLength(10);
      expect(r.routed_at_budget).toHaveLength(10);
      for (const curve of [r.retry_at_budget, r.routed_at_budget]) curve.forEach((x: number, i: number) => i > 0 && expect(x).toBeGreaterThanOrEqual(curve[i - 1]));
      expect(Object.values(r.routes as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(r.steerable);
      expect(r.findings.some((f: string) => f.startsWith(`routing on the ${r.steerable} steerable rows`))).toBe(true);
    }
    expect(r.routed_at_10_reaches_retry_at_50).toBeNull(); // budget-max 10 < 50
    // Reproducible: the same command gives the same study.
    expect(run('validate', '--lineage', '--problems', '12', '--operations', '2,5', '--seed', '5', '--budget-max', '10', '--journal', `${out}.journal.jsonl`, '--json').stdout).toBe(v.stdout);
  });
});
