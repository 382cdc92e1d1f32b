import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseProbeCsv } from '../../src/io/probeTable.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8', timeout: 300_000 });
const dir = () => mkdtempSync(join(tmpdir(), 'recov-cli-'));

describe('recoverability probe --sim → calibrate, route', () => {
  it('writes probe records calibrate reads, and the label split as a feature table route reads; a rerun resumes', { timeout: 300_000 }, () => {
    const d = dir();
    const out = join(d, 'p.csv');
    const probe = run('probe', '--sim', '--problems', '80', '--seed', '1', '--out', out, '--feature-table', join(d, 'f.csv'));
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(/^\d+ failing rows of 80 simulated problems \(not probed: \d+ passed\); probed \d+/);
    expect(probe.stderr).toBe(''); // a pipe: no progress unless asked
    const records = parseProbeCsv(readFileSync(out, 'utf8'), out);
    expect(records.length).toBeGreaterThanOrEqual(40);
    for (const r of records) {
      expect(r.split).toBe('disjoint');
      expect(r.ancestor_samples).toBe(4);
      expect(r.ancestor_pass_rate).not.toBeNull();
      expect(r.n_probed).toBeLessThanOrEqual(2);
    }
    const labels = new Set(records.map((r) => r.label));
    expect(labels).toEqual(new Set(['resample', 'steerable', 'beyond_reach']));
    expect(records.filter((r) => r.reprobe_label !== null)).toHaveLength(Math.round(0.25 * records.length));

    const calibrate = run('calibrate', out, '--out', join(d, 'policy.json'), '--resamples', '200');
    expect(calibrate.status, calibrate.stderr).toBe(0);
    expect(calibrate.stdout).toMatch(/ceiling, probe vs independent re-probe on \d+ rows/);

    expect(readFileSync(join(d, 'f.csv'), 'utf8').split('\n')[0]).toBe(
      'cell,model,task,problem_id,n_failed_rollouts,spread,concentration,logit_dispersion,retry,sparse_steer,sparse_steer_random,local_temp,dense_steer,label',
    );
    const route = run('route', join(d, 'f.csv'), '--json');
    expect(route.status, route.stderr).toBe(0);
    expect(JSON.parse(route.stdout).n).toBe(records.length);

    // Same command again: every attempt comes from the journal, the same table is written.
    const first = readFileSync(out, 'utf8');
    const journal = readFileSync(`${out}.journal.jsonl`, 'utf8');
    const resumed = run('probe', '--sim', '--problems', '80', '--seed', '1', '--out', out, '--progress');
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/^probe \((?:sampling|probing)\) \[[=-]+\] \d+% \| \d+\/\d+/m);
    expect(resumed.stderr).toMatch(/\nprobe: \d+ attempts on \d+ rows in [\d.]+ s\n$/);
    expect(readFileSync(out, 'utf8')).toBe(first);
    expect(readFileSync(`${out}.journal.jsonl`, 'utf8')).toBe(journal);
    // Other settings with the same journal: refused, exit 2.
    const clash = run('probe', '--sim', '--problems', '80', '--seed', '1', '--mix', 'demoted=1', '--out', out);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/written by a probe with other settings/);
  });

  it('probe --lineage, killed with SIGKILL at a journal append and rerun, resumes to the table of an uninterrupted run', { timeout: 300_000 }, async () => {
    const d = dir();
    const args = (out: string) => ['bin/recoverability.js', 'probe', '--lineage', '--problems', '8', '--operations', '2,5', '--attempts', '1', '--eval-attempts', '1', '--max-failed', '1', '--seed', '3', '--out', out];
    const clean = run(...args(join(d, 'clean.csv')).slice(1));
    expect(clean.status, clean.stderr).toBe(0);
    const out = join(d, 'k.csv');
    const marker = join(d, 'stopped');
    const child = spawn(process.execPath, ['-r', './test/helpers/stopAtAppend.cjs', ...args(out)], {
      stdio: 'ignore',
      env: { ...process.env, STOP_AT_APPEND: '12', STOP_PATH_SUFFIX: '.journal.jsonl', STOP_MARKER: marker },
    });
    const end = Date.now() + 240_000;
    while (!existsSync(marker) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readFileSync(`${out}.journal.jsonl`, 'utf8').trim().split('\n')).toHaveLength(11);
    expect(existsSync(out)).toBe(false);
    const resumed = run(...args(out).slice(1));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(d, 'clean.csv'), 'utf8'));
    expect(JSON.parse(readFileSync(`${out}.summary.json`, 'utf8'))).toEqual(JSON.parse(readFileSync(join(d, 'clean.csv.summary.json'), 'utf8')));
  });

  it('usage errors exit 2, naming the flag and the fix (before any work)', async () => {
    const bad = async (args: string[], message: RegExp) => {
      const err: string[] = [];
      const code = await main(['probe', ...args], () => {}, (s) => err.push(s));
      expect(code, err.join('\n')).toBe(2);
      expect(err.join('\n')).toMatch(message);
    };
    await bad(['--out', 'x.csv'], /probe takes one source: an eval output \(results\.json \/ \.jsonl\), --lineage or --sim; got none/);
    await bad(['--sim', '--lineage', '--out', 'x.csv'], /got --lineage and --sim/);
    await bad(['--sim'], /needs --out FILE/);
    await bad(['--sim', '--out', 'x.csv', '--mix', 'bogus=1'], /names: easy/);
    await bad(['--sim', '--out', 'x.csv', '--rows', '3'], /--rows applies to an eval output only/);
    await bad(['--lineage', '--out', 'x.csv', '--mix', 'easy=1'], /--mix applies to --sim only/);
    await bad(['--lineage', '--out', 'x.csv', '--operations', '2,2'], /--operations lists 2,2: each value once/);
    await bad(['--lineage', '--out', 'x.csv', '--operations', '2,x'], /--operations takes a whole number from 1 to 12, got "x"/);
    await bad(['--sim', '--out', 'x.csv', '--junction', 'both'], /--junction is replay or online/);
    await bad(['--sim', '--out', 'x.csv', '--budget', 'some'], /--budget takes a whole number/);
  });
});
