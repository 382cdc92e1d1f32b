import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { RepairRecordSchema } from '../../src/promptfoo/repairMetadata.js';
import { runPromptfoo } from '../helpers/promptfoo.js';

/** promptfoo's CSV output as rows of cells (csv-parse, as the package reads CSV). */
const parseCsv = (text: string): string[][] => parse(text, { relaxColumnCount: true }) as string[][];

describe('the root suite repairs its failing tests (embedded lineage, the measured policy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recov-e2e-repair-'));
  let json: any;
  let csv: string[][];
  beforeAll(() => {
    const r = runPromptfoo(['eval', '-c', 'promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'out.json'), '-o', join(dir, 'out.csv')]);
    expect([0, 100], r.stderr).toContain(r.code);
    json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    csv = parseCsv(readFileSync(join(dir, 'out.csv'), 'utf8'));
  }, 180_000);

  it('every row carries its repair; failing rows get rescued (and the repair\'s cost in metadata); no row is an ERROR', () => {
    const rows = json.results.results;
    expect(rows).toHaveLength(40);
    expect(json.results.stats.errors).toBe(0);
    let failing = 0;
    for (const row of rows) {
      const meta = row.response.metadata.recoverability;
      const r = RepairRecordSchema.parse(meta.repair);
      expect(r.error).toBeNull();
      expect(r.attempts).toBeLessThanOrEqual(4);
      // The row's output stays the original rollout (repair.output defaults to original).
      expect(row.response.output).toBe(meta.rollouts[0].text);
      // The route column (the assertion, with the same policy) and the repair agree; the route is the policy's.
      if (r.route !== null) expect(row.gradingResult.componentResults[0].metadata.recoverability_row.route_source).toBe('policy');
      expect(row.metadata.route).toBe(r.route ?? 'none');
      if (r.route === null) {
        expect(row.namedScores).not.toHaveProperty('rescued');
        continue;
      }
      failing++;
      // rescued is a default column; the repair's cost stays in the metadata (a column with `columns: all`).
      expect(row.namedScores.rescued).toBe(r.rescued ? 1 : 0);
      expect(row.namedScores).not.toHaveProperty('repair_attempts');
      expect(row.gradingResult.componentResults[0].reason).toMatch(/ Repair: /);
    }
    expect(failing).toBeGreaterThan(10);
    expect(rows.some((row: any) => row.response.metadata.recoverability.repair.rescued)).toBe(true);
  });

  it('the eval-level average of rescued is the rescue rate over the failing rows', () => {
    const rows = json.results.results.filter((row: any) => row.namedScores.rescued !== undefined);
    const rate = rows.filter((row: any) => row.namedScores.rescued === 1).length / rows.length;
    const metrics = json.results.prompts[0].metrics;
    expect(metrics.namedScores.rescued / metrics.namedScoresCount.rescued).toBeCloseTo(rate, 12);
    expect(metrics.namedScoresCount.rescued).toBe(rows.length);
  });

  it('the CSV has the rescued column, with the same values', () => {
    const head = csv[0]!;
    expect(head).toContain('Metric: rescued');
    const body = csv.slice(1).filter((r) => r.length === head.length);
    expect(body).toHaveLength(40);
    const col = (name: string) => body.map((r) => r[head.indexOf(`Metric: ${name}`)]);
    const rows = json.results.results;
    // CSV rows are in test order, as are JSON rows by testIdx.
    const byTest = [...rows].sort((a: any, b: any) => a.testIdx - b.testIdx);
    // promptfoo writes metrics with two decimals, and nothing where a row has none.
    for (const m of ['rescued']) {
      expect(col(m)).toEqual(byTest.map((row: any) => (row.namedScores[m] === undefined ? '' : row.namedScores[m].toFixed(2))));
    }
  });
});

describe('the shipped lineage policy is regenerated, not hand-edited', () => {
  it('examples/lineage/policy.json is what calibrate makes of the shipped probe.csv (recoverability probe --lineage --problems 160 --seed 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recov-lineage-policy-'));
    mkdirSync(join(dir, 'examples/lineage'), { recursive: true });
    copyFileSync('examples/lineage/probe.csv', join(dir, 'examples/lineage/probe.csv'));
    const r = spawnSync(process.execPath, [resolve('bin/recoverability.js'), 'calibrate', 'examples/lineage/probe.csv', '--out', 'examples/lineage/policy.json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'examples/lineage/policy.json'), 'utf8')).toBe(readFileSync('examples/lineage/policy.json', 'utf8'));
    // Held out from the root suite: the probe's problems (seed 2) are not the suite's (seed 1).
    const suite = new Set(readFileSync('examples/lineage-problems.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]));
    const probed = readFileSync('examples/lineage/probe.csv', 'utf8').trim().split('\n').slice(1).map((l) => /Q: ([^,"]+)=/.exec(l)?.[1]);
    expect(probed.filter(Boolean).length).toBe(96);
    expect(probed.some((e) => suite.has(e!))).toBe(false);
  }, 60_000);
});
