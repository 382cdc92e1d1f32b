import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });

describe('recoverability probe --sim → route', () => {
  it('probe --problems 80 --seed 1 then route --json: all three labels, routed beats retry', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'recov-cli-')), 'p.csv');
    const probe = run('probe', '--sim', '--problems', '80', '--seed', '1', '--out', out);
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(/probed \d+ of 80 problems/);
    expect(probe.stderr).toBe(''); // a pipe: no progress unless asked
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(
      'cell,model,task,problem_id,n_failed_rollouts,spread,concentration,logit_dispersion,retry,sparse_steer,sparse_steer_random,local_temp,dense_steer,label',
    );
    const route = run('route', out, '--json');
    expect(route.status, route.stderr).toBe(0);
    const r = JSON.parse(route.stdout);
    expect(r.counts.resample).toBeGreaterThan(0);
    expect(r.counts.steerable).toBeGreaterThan(0);
    expect(r.counts.beyond_reach).toBeGreaterThan(0);
    expect(r.routing.routed_rescue).toBeGreaterThan(r.routing.retry_rescue);

    // Same command again: resumes from the journal and writes the same table.
    const first = readFileSync(out, 'utf8');
    const resumed = run('probe', '--sim', '--problems', '80', '--seed', '1', '--out', out, '--progress');
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/^probe \[[=-]+\] \d+% \| \d+\/\d+/m);
    expect(resumed.stderr).toMatch(/\nprobe: \d+ units \(failed rollout × operator\) in [\d.]+ s\n$/);
    expect(readFileSync(out, 'utf8')).toBe(first);
    // Other settings with the same journal: refused, exit 2.
    const clash = run('probe', '--sim', '--problems', '80', '--seed', '1', '--mix', 'demoted=1', '--out', out);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/written by a probe with other settings/);
  });

  it('usage errors exit 2', () => {
    expect(run('probe', '--out', 'x.csv').stderr).toMatch(/needs --sim/);
    expect(run('probe', '--sim').stderr).toMatch(/needs --out/);
    const bad = run('probe', '--sim', '--out', 'x.csv', '--mix', 'bogus=1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/names: easy/);
  });
});
