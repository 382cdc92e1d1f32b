import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPolicyFile } from '../../src/io/policyFile.js';
import { formatProbeCsv } from '../../src/io/probeTable.js';
import { population, uniformRates, type Op } from './population.js';

// The CLI runs dist/: build first (npx tsc -p tsconfig.build.json).
const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'recov-calibrate-'));
const rates = (base: number, over: Partial<Record<Op, number>>) => ({ ...uniformRates(base), ...over });
const probe = (rows: number, file: string) => {
  const records = population({
    rows,
    seed: 4,
    reprobe: 0.3,
    rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? rates(0.1, { dense_steer: 0.6 }) : rates(0.05, { retry: 0.4 }) }),
  });
  const path = join(dir, file);
  writeFileSync(path, formatProbeCsv(records));
  return path;
};

describe('recoverability calibrate', () => {
  it('on the paper table (data/failure_profiles.csv): runs and reports what it finds', async () => {
    const out = join(dir, 'paper-policy.json');
    const r = run('calibrate', 'data/failure_profiles.csv', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Calibrated on 1423 probed failing rows of data\/failure_profiles\.csv: 641 resample, 535 steerable, 247 beyond reach/);
    expect(r.stdout).toMatch(/warning: label and eval rescue rates coincide/);
    expect(r.stdout).toMatch(/Routing: 5-fold cross-validated rescue on held-out problems/);
    expect(r.stdout).toMatch(/\nchoice: /);
    expect(r.stdout).toMatch(/ceiling: no row has a reprobe_label/);
    const policy = await readPolicyFile(out);
    expect(policy.probe).toMatchObject({ path: 'data/failure_profiles.csv', rows: 1423, split: 'same', sha256: '996afdbc5a7fef30e7c67f387eed78cc261c095c9a6eb7352afed0857ea50363' });
    expect(policy.signals.usable).toEqual(['spread', 'concentration', 'logit_dispersion']);
    expect(policy.candidates.map((c) => c.name)).toEqual(["learned policy", "paper's rule", 'always retry', 'always sparse_steer', 'always sparse_steer_random', 'always local_temp', 'always dense_steer']);
    for (const c of policy.candidates) expect(c.rescue_all.n).toBe(1423);
    expect(policy.regime_estimate.candidates.find((c) => c.name === 'paper_rule')).toMatchObject({ available: false, note: expect.stringMatching(/needs n_rollouts and n_passed/) });
    // Whatever it chose, the choice follows the rule: a non-fixed policy only with a paired interval above 0.
    const chosen = policy.candidates.find((c) => c.name === policy.choice.name)!;
    if (chosen.kind !== 'fixed') expect(chosen.vs_best_fixed!.lo!).toBeGreaterThan(0);
    else expect(chosen.operator).toBe(policy.choice.best_fixed);
  });

  it('on a probe where the best operator depends on the ancestor: chooses the learned policy; --json prints policy.json', () => {
    const out = join(dir, 'policy.json');
    const r = run('calibrate', probe(160, 'probe.csv'), '--out', out, '--seed', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/choice: learned policy — learned policy \d+\.\d% \[.*\] \(\+\d+\.\d points vs always dense_steer, 95% \[\+/);
    expect(r.stdout).toMatch(/if ancestor_pass_rate ≥ 0\.\d+ → dense_steer/);
    expect(r.stdout).toMatch(/ceiling, probe vs independent re-probe on \d+ rows: agreement \d+\.\d%, Cohen's κ \d\.\d{3}, balanced accuracy \d\.\d{3}/);
    const j = run('calibrate', join(dir, 'probe.csv'), '--out', join(dir, 'again.json'), '--seed', '3', '--json');
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse(readFileSync(out, 'utf8')));
    expect(readFileSync(join(dir, 'again.json'), 'utf8')).toBe(readFileSync(out, 'utf8')); // same seed, same policy
  });

  it.each([
    ['no file', [], /calibrate takes one probe file, got 0/],
    ['no --out', ['data/failure_profiles.csv'], /calibrate needs --out FILE/],
    ['a missing file', ['nope.csv', '--out', 'x.json'], /cannot read nope\.csv: ENOENT/],
    ['one fold', ['data/failure_profiles.csv', '--out', 'x.json', '--folds', '1'], /--folds takes a whole number from 2 to 20, got "1"/],
    ['a bad --stop-below', ['data/failure_profiles.csv', '--out', 'x.json', '--stop-below', '2'], /--stop-below takes a share from 0 to 1, got "2"/],
    ['an unknown flag', ['data/failure_profiles.csv', '--out', 'x.json', '--fold', '3'], /unknown option --fold; did you mean --folds\?/],
  ])('%s: exit 2 with a named message', (_name, args, message) => {
    const r = run('calibrate', ...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('too few rows: exit 2, saying how many it needs', () => {
    const r = run('calibrate', probe(30, 'small.csv'), '--out', join(dir, 'small.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/small\.csv: calibrate needs at least 40 probed failing rows to cross-validate a policy, got 30: probe more failing rows/);
  });

  it('a bad cell: exit 2 naming file, line and column', () => {
    const file = probe(50, 'bad.csv');
    const lines = readFileSync(file, 'utf8').split('\n');
    const cols = lines[0]!.split(',');
    const cells = lines[3]!.split(',');
    cells[cols.indexOf('eval_dense_steer')] = 'high';
    lines[3] = cells.join(',');
    writeFileSync(file, lines.join('\n'));
    const r = run('calibrate', file, '--out', join(dir, 'bad.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.csv, line 4: column "eval_dense_steer": "high" is not a number/);
  });
});
