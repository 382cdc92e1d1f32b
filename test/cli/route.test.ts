import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertDistFresh } from '../helpers/distFresh.js';

const BIN = 'bin/recoverability.js';
const SHARED = '../shared/data/failure_profiles.csv';
const TABLE = existsSync(SHARED) ? SHARED : 'data/failure_profiles.csv';

beforeAll(() => assertDistFresh()); // these tests run bin/ and dist/

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function routeJson(...args: string[]) {
  return JSON.parse(execFileSync(process.execPath, [BIN, 'route', TABLE, '--json', ...args], { encoding: 'utf8' }));
}

describe('recoverability route on the paper table (method.md reference numbers)', () => {
  it('ships the paper table unchanged', () => {
    const sha = createHash('sha256').update(readFileSync('data/failure_profiles.csv')).digest('hex');
    expect(sha).toBe('996afdbc5a7fef30e7c67f387eed78cc261c095c9a6eb7352afed0857ea50363');
  });

  it('pooled: 641 / 535 / 247, routed 27.3% vs retry 16.2%', () => {
    const out = routeJson();
    expect(out.n).toBe(1423);
    expect(out.counts).toEqual({ resample: 641, steerable: 535, beyond_reach: 247 });
    expect(out.routing.n).toBe(535);
    expect(out.routing.routed_rescue).toBeCloseTo(0.273, 3);
    expect(out.routing.retry_rescue).toBeCloseTo(0.162, 3);
  });

  it('flagship cell sft0p6b|gsm8k: 118/67/11, routes 26/20/17/4, 46.3% vs 43.9% vs 24.8%', () => {
    const out = routeJson('--cell', 'sft0p6b|gsm8k');
    expect(out.n).toBe(196);
    expect(out.counts).toEqual({ resample: 118, steerable: 67, beyond_reach: 11 });
    expect(out.routing.counts).toEqual({ dense_steer: 26, sparse_steer: 20, local_temp: 17, sparse_steer_random: 4 });
    expect(out.routing.routed_rescue).toBeCloseTo(0.463, 3);
    const best = Object.entries(out.routing.fixed_rescue as Record<string, number>).sort((a, b) => b[1] - a[1])[0]!;
    expect(best[0]).toBe('dense_steer');
    expect(best[1]).toBeCloseTo(0.439, 3);
    expect(out.routing.retry_rescue).toBeCloseTo(0.248, 3);
  });

  it('every other cell agrees with an independent computation from the raw CSV', () => {
    const lines = readFileSync(TABLE, 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i]!, v])));
    const ops = ['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer'];
    const cells = [...new Set(rows.map((r) => r.cell!))];
    expect(cells.length).toBeGreaterThan(4);
    for (const cell of cells) {
      const mine = rows.filter((r) => r.cell === cell);
      const label = (r: Record<string, string>) => {
        const v = Object.fromEntries(ops.map((o) => [o, Number(r[o])]));
        const best = Math.max(...ops.map((o) => v[o]!));
        if (best - v.retry! >= 0.05 - 1e-9 && 1 - v.retry! >= 0.5 - 1e-9) return 'steerable';
        return ops.slice(1).every((o) => v[o] === 0) ? 'beyond_reach' : 'resample';
      };
      const steer = mine.filter((r) => label(r) === 'steerable');
      // Route by hand: z over the steerable set, population SD, argmax, fallback when max z ≤ 0.
      const feats = { spread: 'dense_steer', concentration: 'sparse_steer', logit_dispersion: 'local_temp' } as const;
      const z: Record<string, number[]> = {};
      for (const f of Object.keys(feats)) {
        const xs = steer.map((r) => Number(r[f]));
        const m = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
        z[f] = xs.map((x) => (sd > 0 ? (x - m) / sd : 0));
      }
      let routed = 0;
      steer.forEach((r, i) => {
        let bestF = 'spread';
        for (const f of Object.keys(feats)) if (z[f]![i]! > z[bestF]![i]!) bestF = f;
        const op = z[bestF]![i]! <= 0 ? 'sparse_steer_random' : feats[bestF as keyof typeof feats];
        routed += Number(r[op]);
      });
      const out = routeJson('--cell', cell);
      expect(out.counts.steerable, cell).toBe(steer.length);
      expect(out.counts.resample + out.counts.beyond_reach, cell).toBe(mine.length - steer.length);
      expect(out.counts.beyond_reach, cell).toBe(mine.filter((r) => label(r) === 'beyond_reach').length);
      if (steer.length > 0) expect(out.routing.routed_rescue, cell).toBeCloseTo(routed / steer.length, 12);
    }
  });

  it('--by-cell z-scores within cells and adds a per-cell breakdown', () => {
    const out = routeJson('--by-cell');
    expect(out.z_scope).toBe('within-cell');
    expect(Object.keys(out.cells)).toContain('sft0p6b|gsm8k');
    expect(out.cells['sft0p6b|gsm8k'].routing.routed_rescue).toBeCloseTo(0.463, 3);
    const total = Object.values(out.cells as Record<string, { n: number }>).reduce((s, c) => s + c.n, 0);
    expect(total).toBe(1423);
  });

  it('prints readable tables without --json', () => {
    const r = run('route', TABLE, '--cell', 'sft0p6b|gsm8k');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/steerable\s+67\s+34\.2%/);
    expect(r.stdout).toMatch(/routed \(the rule\)\s+46\.3%/);
    expect(r.stdout).toMatch(/always dense_steer\s+43\.9%/);
    expect(r.stdout).toMatch(/retry\s+24\.8%/);
  });
});

describe('recoverability route: bad input exits 2 with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recov-cli-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const header = 'cell,model,task,problem_id,n_failed_rollouts,spread,concentration,logit_dispersion,retry,sparse_steer,sparse_steer_random,local_temp';

  it.each([
    ['missing column', () => [file('a.csv', `${header}\nc,m,t,p,1,0.1,1,1,0,0,0,0\n`)], /missing column\(s\) "dense_steer"/],
    ['non-numeric cell', () => [file('b.csv', `${header},dense_steer\nc,m,t,p,1,x,1,1,0,0,0,0,0\n`)], /line 2: column "spread": expected a finite number/],
    ['empty file', () => [file('c.csv', '')], /is empty/],
    ['missing file', () => [join(dir, 'none.csv')], /cannot read/],
    ['unknown cell', () => [TABLE, '--cell', 'nope'], /no failures in cell "nope"; cells in this file: grpo1p7b\|cruxeval/],
    ['unknown flag', () => [TABLE, '--bogus'], /unknown option --bogus[\s\S]*Usage: recoverability route/],
    ['no file', () => [], /route takes one file, got 0/],
    ['records with neither rescue rates nor a label', () => [file('nolabel.json', JSON.stringify([{ problem_id: 'p1', n_failed_rollouts: 2, features: { spread: 0.1, concentration: 1, logit_dispersion: -1 } }]))], /nolabel\.json: record #0 \(p1\) has neither rescue rates nor a label: run the rescue probe, or add a "label"/],
    ['a steerable record without features', () => [file('nofeat.json', JSON.stringify([{ problem_id: 'p1', n_failed_rollouts: 2, features: { spread: null, concentration: 1, logit_dispersion: -1 }, rescue: { retry: 0, sparse_steer: 0.5, sparse_steer_random: 0, local_temp: 0, dense_steer: 0 } }]))], /nofeat\.json: item #0: feature "spread" is null; routing needs all of/],
    ['a hex number', () => [file('hex.csv', `${header},dense_steer\nc,m,t,p,1,0x10,1,1,0,0,0,0,0\n`)], /line 2: column "spread": expected a finite number, written in decimal/],
    ['a duplicated column', () => [file('dup.csv', `${header},dense_steer,retry\nc,m,t,p,1,0.1,1,1,0,0,0,0,0,0.9\n`)], /names the column "retry" twice/],
  ])('%s', (_name, args, message) => {
    const r = run('route', ...args());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect(r.stdout).toBe('');
  });

  it('cell names with terminal escape sequences are printed inert, in tables and in errors', () => {
    const evil = 'sft\u001b[2J\u001b]0;owned\u0007|gsm8k';
    const table = file('ansi.csv', `${header},dense_steer\n"${evil}",m,t,p,1,0.1,1,1,0,0.5,0,0,0\n`);
    for (const r of [run('route', table, '--by-cell'), run('route', table, '--cell', 'nope')]) {
      expect(r.stdout + r.stderr).not.toContain('\u001b');
      expect(r.stdout + r.stderr).not.toContain('\u0007');
      expect(r.stdout + r.stderr).toContain('sft\\x1b[2J\\x1b]0;owned\\x07|gsm8k');
    }
  });

  it('unknown command exits 2; --help exits 0', () => {
    expect(run('nope').code).toBe(2);
    expect(run('route', '--help').code).toBe(0);
    expect(run('--help').stdout).toMatch(/route <profiles\.csv\|records\.json>/);
  });
});
