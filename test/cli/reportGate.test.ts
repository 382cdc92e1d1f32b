import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvalReportSchema } from '../../src/core/index.js';
import { runPromptfoo } from '../helpers/promptfoo.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'recov-gate-'));
const out = (name: string) => join(dir, name, 'out.json');

/** The root suite with a changed line, run through the real promptfoo CLI. */
function evalVariant(name: string, from: RegExp, to: string) {
  const cfg = `tmp-${name}-${process.pid}.yaml`;
  writeFileSync(cfg, readFileSync('promptfooconfig.yaml', 'utf8').replace(from, to));
  mkdirSync(join(dir, name), { recursive: true });
  try {
    const r = runPromptfoo(['eval', '-c', cfg, '--no-progress-bar', '-o', out(name)]);
    expect([0, 100], r.stderr).toContain(r.code);
  } finally {
    execFileSync('rm', ['-f', cfg]);
  }
}

beforeAll(() => {
  evalVariant('baseline', /^(\s+seed:) 1$/m, '$1 1');
  evalVariant('reseeded', /^(\s+seed:) 1$/m, '$1 2');
  evalVariant('shifted', /specialist: sim #.*$/m, 'specialist: { type: sim, mix: { easy: 0.15, unlucky: 0.15, demoted: 0.1, deformed: 0.05, temperature: 0.05, beyond: 0.5 } }');
}, 120_000);

describe('recoverability report', () => {
  it('writes schema-valid JSON, Markdown and standalone HTML', () => {
    const to = join(dir, 'report');
    const r = run('report', out('baseline'), '--out', to);
    expect(r.status, r.stderr).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(to, 'recoverability.json'), 'utf8')));
    expect(report.totals.rows).toBe(40);
    expect(readFileSync(join(to, 'recoverability.md'), 'utf8')).toMatch(/## Regimes among failures[\s\S]*\| beyond_reach \| \d+ \|/);
    const html = readFileSync(join(to, 'recoverability.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/); // nothing loaded from outside
    expect(r.stdout).toMatch(/failing rows of 40/);
  });

  it('--probe adds rescue-at-budget curves from a probe journal', () => {
    const csv = join(dir, 'probe', 'p.csv');
    mkdirSync(join(dir, 'probe'), { recursive: true });
    expect(run('probe', '--sim', '--problems', '20', '--seed', '4', '--out', csv).status).toBe(0);
    const to = join(dir, 'with-probe');
    const r = run('report', out('baseline'), '--out', to, '--format', 'html', '--probe', `${csv}.journal.jsonl`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(to, 'recoverability.html'), 'utf8')).toContain('Rescue at budget (probe)');
    const bad = run('report', out('baseline'), '--out', to, '--probe', csv);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a probe journal/);
  });

  it('--format picks the outputs', () => {
    const to = join(dir, 'only-md');
    expect(run('report', out('baseline'), '--out', to, '--format', 'md').status).toBe(0);
    expect(existsSync(join(to, 'recoverability.md'))).toBe(true);
    expect(existsSync(join(to, 'recoverability.html'))).toBe(false);
  });

  it.each([
    ['unreadable file', () => [join(dir, 'missing.json')], /cannot read .*missing\.json: ENOENT/],
    ['not JSON', () => [writeTo('x.json', 'not json')], /is not JSON/],
    ['not a promptfoo output', () => [writeTo('y.json', '{"a": 1}')], /is not a promptfoo output/],
    ['no plugin columns', () => [writeTo('z.json', JSON.stringify({ results: { results: [{ response: { output: 'hi' } }] } }))], /has no recoverability columns/],
    ['bad format', () => [out('baseline'), '--format', 'pdf'], /--format takes json, md and\/or html/],
  ])('%s: exit 2 with a clear message', (_n, args, message) => {
    const r = run('report', ...args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

function writeTo(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('recoverability gate', () => {
  it('same suite, another sampling seed: passes (exit 0) and writes Markdown', () => {
    const md = join(dir, 'gate.md');
    const r = run('gate', '--baseline', out('baseline'), '--candidate', out('reseeded'), '--md', md);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^recoverability gate: PASS \(40 shared tests\)/);
    expect(readFileSync(md, 'utf8')).toMatch(/# Recoverability gate: ✅ pass[\s\S]*Chi-square test of homogeneity/);
  });

  it('planted beyond-reach shift: exit 1 naming the regime', () => {
    const r = run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL[\s\S]*✗ beyond_reach share up \+\d+\.\d points/);
    const json = JSON.parse(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--json').stdout);
    expect(json.pass).toBe(false);
    expect(json.regimes.find((x: { regime: string }) => x.regime === 'beyond_reach').diff).toBeGreaterThan(0.05);
  });

  it('a policy file (YAML) and flags set what fails', () => {
    const policy = writeTo('policy.yaml', 'alpha: 0.05\nmaxIncrease: { beyond_reach: 0.9 }\nmaxPassRateDrop: null\n');
    expect(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--policy', policy).status).toBe(0);
    expect(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--policy', policy, '--max-increase', 'beyond_reach=0.05').status).toBe(1);
  });

  it('mismatched suites are reported, not silently compared', () => {
    const b = JSON.parse(readFileSync(out('baseline'), 'utf8'));
    b.results.results = b.results.results.slice(0, 30);
    const partial = writeTo('partial.json', JSON.stringify(b));
    const r = run('gate', '--baseline', partial, '--candidate', out('reseeded'));
    expect(r.stdout).toMatch(/\(30 shared tests\)[\s\S]*suites differ: 0 tests only in the baseline, 10 only in the candidate \(not compared\)/);
  });

  it.each([
    ['missing flags', () => ['--baseline', out('baseline')], /needs --baseline and --candidate/],
    ['bad policy value', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--alpha', '2'], /gate policy is invalid:[\s\S]*alpha/],
    ['unknown regime', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--max-increase', 'doom=0.1'], /maxIncrease/],
    ['bad policy file', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--policy', writeTo('bad.yaml', 'alpha: [')], /policy .*bad\.yaml/],
    ['not a promptfoo output', () => ['--baseline', writeTo('n.json', '{}'), '--candidate', out('reseeded')], /is not a promptfoo output/],
  ])('%s: exit 2', (_n, args, message) => {
    const r = run('gate', ...args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
