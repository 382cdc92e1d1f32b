import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvalReportSchema } from '../../src/core/index.js';
import { assertDistFresh } from '../helpers/distFresh.js';
import { evalCsvSuite, simProblems } from '../helpers/pluginEval.js';
import { runPromptfoo } from '../helpers/promptfoo.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'recov-gate-'));
const out = (name: string) => join(dir, name, 'out.json');
const writeTo = (name: string, text: string) => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};
/** A copy of an output with its rows edited. */
const edited = (from: string, name: string, edit: (rows: any[]) => void) => {
  const data = JSON.parse(readFileSync(from, 'utf8'));
  edit(data.results.results);
  return writeTo(name, JSON.stringify(data, null, 2));
};
const verdictOf = (r: any) => r.gradingResult.componentResults[0].metadata.recoverability_row;

/** The simulator's suite (examples/sim) with a changed line, run through the real promptfoo CLI. */
function evalVariant(name: string, from: RegExp, to: string) {
  const cfg = `examples/sim/tmp-${name}-${process.pid}.yaml`; // next to the original, so its relative paths hold
  const text = readFileSync('examples/sim/promptfooconfig.yaml', 'utf8');
  expect(text, `the variant "${name}" must change the config`).toMatch(from);
  writeFileSync(cfg, text.replace(from, to));
  mkdirSync(join(dir, name), { recursive: true });
  try {
    const r = runPromptfoo(['eval', '-c', cfg, '--no-progress-bar', '-o', out(name)]);
    expect([0, 100], r.stderr).toContain(r.code);
  } finally {
    execFileSync('rm', ['-f', cfg]);
  }
}

let inserted: { base: string; baseJsonl: string; cand: string; candJsonl: string };
beforeAll(() => {
  assertDistFresh(); // these tests run bin/ and dist/
  evalVariant('baseline', /^(\s+seed:) 1$/m, '$1 1');
  evalVariant('reseeded', /^(\s+seed:) 1$/m, '$1 2');
  evalVariant('shifted', /specialist: sim #.*$/m, 'specialist: { type: sim, mix: { easy: 0.15, unlucky: 0.15, demoted: 0.1, deformed: 0.05, temperature: 0.05, beyond: 0.5 } }');
  // A CSV suite, then the same suite with one row inserted at the top (promptfoo renumbers every `Row #N`).
  const rows = simProblems(12);
  const [base = '', baseJsonl = ''] = evalCsvSuite(join(dir, 'csv-base'), rows, { outputs: ['out.json', 'out.jsonl'] });
  const [cand = '', candJsonl = ''] = evalCsvSuite(join(dir, 'csv-inserted'), [simProblems(20)[19]!, ...rows], { outputs: ['out.json', 'out.jsonl'] });
  inserted = { base, baseJsonl, cand, candJsonl };
}, 180_000);

describe('recoverability report', () => {
  it('writes schema-valid JSON, Markdown and standalone HTML, with promptfoo\'s own counts named beside ours', () => {
    const to = join(dir, 'report');
    const r = run('report', out('baseline'), '--out', to);
    expect(r.status, r.stderr).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(to, 'recoverability.json'), 'utf8')));
    expect(report.totals.rows).toBe(40);
    // One set of numbers: promptfoo's passed/failed are promptfoo's; the rollout pass rate is the mean of the rows' pass_rate column.
    const pf = JSON.parse(readFileSync(out('baseline'), 'utf8')).results;
    expect(report.totals.rows_passed).toBe(pf.stats.successes);
    expect(report.totals.rows - report.totals.rows_passed!).toBe(pf.stats.failures);
    const meanPassRate = pf.results.reduce((s: number, x: any) => s + x.namedScores.pass_rate, 0) / pf.results.length;
    expect(report.totals.rollout_pass_rate).toBeCloseTo(meanPassRate, 12);
    expect(r.stdout).toMatch(
      new RegExp(`^40 rows graded \\(promptfoo: ${pf.stats.successes} passed, ${pf.stats.failures} failed\\) · rollout pass rate ${(100 * meanPassRate).toFixed(1)}% \\(mean over rows\\) · ${report.totals.failures} rows with a failed rollout · share of tests: `),
    );
    const md = readFileSync(join(to, 'recoverability.md'), 'utf8');
    expect(md).toMatch(/## Regimes among failures[\s\S]*\| beyond_reach \| \d+ \| \d+\.\d% \|/);
    expect(md).toContain(`Rollout pass rate: ${(100 * meanPassRate).toFixed(1)}% (mean over the 40 graded rows;`);
    const html = readFileSync(join(to, 'recoverability.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/); // nothing loaded from outside
  });

  it('reads -o out.jsonl the same as -o out.json', () => {
    const a = run('report', inserted.base, '--out', join(dir, 'rep-json'), '--format', 'json');
    const b = run('report', inserted.baseJsonl, '--out', join(dir, 'rep-jsonl'), '--format', 'json');
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const strip = (p: string) => ({ ...JSON.parse(readFileSync(join(dir, p, 'recoverability.json'), 'utf8')), eval_id: null });
    expect(strip('rep-jsonl')).toEqual(strip('rep-json'));
  });

  it('--journal refuses a journal of another population, and a file that is not a journal (the measured report: test/e2e/viewMeasured)', () => {
    const csv = join(dir, 'probe', 'p.csv');
    mkdirSync(join(dir, 'probe'), { recursive: true });
    expect(run('probe', '--sim', '--problems', '20', '--seed', '4', '--out', csv).status).toBe(0);
    const to = join(dir, 'with-probe');
    // probe --sim probed simulated problems of its own, none of them a test of this eval.
    const r = run('report', out('baseline'), '--out', to, '--format', 'html', '--journal', `${csv}.journal.jsonl`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/none of the problems in .*p\.csv\.journal\.jsonl is a test of this eval: it probed another population/);
    const bad = run('report', out('baseline'), '--out', to, '--journal', csv);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a probe journal/);
  });

  it('--format picks the outputs', () => {
    const to = join(dir, 'only-md');
    expect(run('report', out('baseline'), '--out', to, '--format', 'md').status).toBe(0);
    expect(existsSync(join(to, 'recoverability.md'))).toBe(true);
    expect(existsSync(join(to, 'recoverability.html'))).toBe(false);
  });

  it('error rows are counted and listed with their kind in JSON, Markdown and HTML', () => {
    const withErrors = edited(out('baseline'), 'errors/out.json', (rows) => {
      for (const r of rows.slice(0, 5)) {
        Object.assign(r, { error: 'RolloutProvider: EndpointTimeoutError: the endpoint did not answer within 3000 ms', failureReason: 2, success: false, gradingResult: null, response: { error: 'timeout' }, metadata: {} });
      }
    });
    const to = join(dir, 'errors', 'rep');
    const r = run('report', withErrors, '--out', to);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^35 rows graded \(promptfoo: \d+ passed, \d+ failed; 5 error rows: 5 EndpointTimeoutError\)/);
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(to, 'recoverability.json'), 'utf8')));
    expect(report.errors).toMatchObject({ count: 5, by_kind: { EndpointTimeoutError: 5 } });
    expect(report.errors.rows.map((e) => e.test_idx)).toEqual([0, 1, 2, 3, 4]);
    expect(readFileSync(join(to, 'recoverability.md'), 'utf8')).toMatch(/5 error rows were not graded[\s\S]*## Error rows[\s\S]*\| EndpointTimeoutError \| 5 \|/);
    expect(readFileSync(join(to, 'recoverability.html'), 'utf8')).toMatch(/Error rows \(5, not graded\)[\s\S]*EndpointTimeoutError/);
  });

  it('rows with no rollouts are error rows (NoRollouts), not counted', () => {
    const p = edited(out('baseline'), 'norollouts/out.json', (rows) => Object.assign(verdictOf(rows[0]), { n_rollouts: 0, n_passed: 0, passed: [] }));
    const r = run('report', p, '--out', join(dir, 'norollouts', 'rep'), '--format', 'json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^39 rows graded .*1 error row: 1 NoRollouts/);
  });

  it('features of ±1e308 give finite z-scores and keep their route (on this eval\'s scale)', () => {
    const p = edited(out('baseline'), 'huge/out.json', (rows) => {
      for (const r of rows) verdictOf(r).reference = null;
      const failing = rows.filter((r) => verdictOf(r).n_passed === 0 && verdictOf(r).features);
      Object.assign(verdictOf(failing[0]).features, { spread: 1e308 });
      Object.assign(verdictOf(failing[1]).features, { spread: -1e308 });
    });
    const to = join(dir, 'huge', 'rep');
    const r = run('report', p, '--out', to, '--format', 'json,md');
    expect(r.status, r.stderr).toBe(0);
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(to, 'recoverability.json'), 'utf8')));
    const top = report.rows.find((x) => x.features?.spread === 1e308)!;
    expect(top.z!.spread).toBeGreaterThan(1);
    expect(top.route).toBe('dense_steer');
    // The other rows' z are finite; the other two features still route (no route disappeared).
    expect(report.rows.every((x) => x.z === null || Object.values(x.z).every(Number.isFinite))).toBe(true);
  });

  it.each([
    ['unreadable file', () => [join(dir, 'missing.json')], /cannot read .*missing\.json: ENOENT/],
    ['not JSON', () => [writeTo('x.json', 'not json')], /x\.json is not valid JSON at byte 0/],
    ['not a promptfoo output', () => [writeTo('y.json', '{"a": 1}')], /is not a promptfoo output/],
    ['no plugin columns', () => [writeTo('z.json', JSON.stringify({ results: { results: [{ response: { output: 'hi' } }] } }))], /has no recoverability columns/],
    ['bad format', () => [out('baseline'), '--format', 'pdf'], /--format takes json, md and\/or html/],
    ['n_passed > n_rollouts', () => [edited(out('baseline'), 'tampered/out.json', (rows) => (verdictOf(rows[3]).n_passed = 99))], /out\.json, results\[3\]: the recoverability verdict is invalid: recoverability_row\.n_passed: n_passed cannot exceed n_rollouts/],
    ['--out that is a file', () => [out('baseline'), '--out', writeTo('a-file', 'x')], /--out .*a-file is a file, not a folder/],
    ['--out that cannot be created', () => [out('baseline'), '--out', join(writeTo('b-file', 'x'), 'sub')], /--out .*b-file\/sub cannot be used: ENOTDIR \(a part of the path is a file\)/],
    ['a feature of 1e308 on the reference scale (its z is beyond the largest number)', () => [edited(out('baseline'), 'huge-ref/out.json', (rows) => (verdictOf(rows.find((r) => verdictOf(r).features && verdictOf(r).n_passed < verdictOf(r).n_rollouts)).features.spread = 1e308))], /report row \(question=.*\): z-score of 1e\+308 .* is beyond the largest number; its features are not on the scale of the reference/],
    ['a reference that is a secrets file', () => [edited(out('baseline'), 'leak/out.json', (rows) => rows.forEach((r) => (verdictOf(r).reference = 'creds.json')))], /reference .*leak\/creds\.json (cannot be read: ENOENT|is not a reference population)/],
  ])('%s: exit 2 with a one-line reason, no stack trace', (_n, args, message) => {
    writeTo('leak/creds.json', 'API_KEY=sk-live-0123456789');
    const r = run('report', ...args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toContain('sk-live');
  });

  it('a failed --out check leaves nothing behind and does no work', () => {
    const target = join(writeTo('c-file', 'x'), 'sub');
    expect(run('report', out('baseline'), '--out', target).status).toBe(2);
    expect(readdirSync(dir).filter((f) => f.startsWith('.recoverability-write-check'))).toEqual([]);
  });
});

describe('recoverability gate', () => {
  it('same suite, another sampling seed: passes (exit 0), says why, and writes Markdown', () => {
    const md = join(dir, 'gate.md');
    const r = run('gate', '--baseline', out('baseline'), '--candidate', out('reseeded'), '--md', md);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^recoverability gate: PASS \(40 tests compared[;)]/);
    expect(r.stdout).toMatch(/\n {2}[✓?] (pass|inconclusive): beyond_reach share of tests/);
    expect(r.stdout).toMatch(/\n {2}[✓?] (pass|inconclusive): rollout pass rate/);
    expect(r.stdout).toMatch(/\n {2}· report: failure topography: .* balanced accuracy \(chance 50\.0%\)/);
    expect(readFileSync(md, 'utf8')).toMatch(/# Recoverability gate: ✅ pass[\s\S]*\*\*Checks\*\*[\s\S]*Chi-square test of homogeneity/);
  });

  it('planted beyond-reach shift: exit 1 naming the regime', () => {
    const r = run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL[\s\S]*✗ fail: beyond_reach share of tests up \+\d+\.\d points/);
    const json = JSON.parse(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--json').stdout);
    expect(json.pass).toBe(false);
    expect(json.regimes.find((x: { regime: string }) => x.regime === 'beyond_reach').diff).toBeGreaterThan(0.05);
  });

  it('a policy file (YAML) and flags set what fails', () => {
    const policy = writeTo('policy.yaml', 'alpha: 0.05\nmaxIncrease: { beyond_reach: 0.9 }\nmaxPassRateDrop: null\n');
    expect(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--policy', policy).status).toBe(0);
    expect(run('gate', '--baseline', out('baseline'), '--candidate', out('shifted'), '--policy', policy, '--max-increase', 'beyond_reach=0.05').status).toBe(1);
  });

  it('a CSV suite with a row inserted at the top: every test is matched to itself (promptfoo renamed them all)', () => {
    const renamed = JSON.parse(readFileSync(inserted.cand, 'utf8')).results.results.map((r: any) => r.testCase.description);
    expect(renamed.slice(0, 3)).toEqual(['Row #1', 'Row #2', 'Row #3']);
    for (const [b, c] of [[inserted.base, inserted.cand], [inserted.baseJsonl, inserted.candJsonl]] as const) {
      const r = run('gate', '--baseline', b, '--candidate', c, '--json');
      expect(r.status, r.stderr).toBe(0);
      const g = JSON.parse(r.stdout);
      expect(g.suite.shared).toBe(12);
      expect(g.suite.onlyBaseline).toEqual([]);
      expect(g.suite.onlyCandidate).toEqual([{ test_idx: 0, prompt_idx: 0, description: expect.stringMatching(/^question=Compute .*, answer=/) }]);
      // Same tests, same seeds: every test keeps its regime and its pass rate.
      for (const [from, tos] of Object.entries(g.transitions as Record<string, Record<string, number>>)) expect(Object.keys(tos), from).toEqual([from]);
      expect(g.passRate.diff).toBe(0);
      expect(g.passRate.ci).toEqual([0, 0]);
    }
    const text = run('gate', '--baseline', inserted.base, '--candidate', inserted.cand).stdout;
    expect(text).toMatch(/PASS \(12 tests compared\)[\s\S]*suites differ: 0 tests only in the baseline, 1 only in the candidate[\s\S]*candidate only: #1 question=Compute/);
  });

  it('mismatched suites are reported, not silently compared', () => {
    const b = JSON.parse(readFileSync(out('baseline'), 'utf8'));
    b.results.results = b.results.results.slice(0, 30);
    const partial = writeTo('partial.json', JSON.stringify(b));
    const r = run('gate', '--baseline', partial, '--candidate', out('reseeded'));
    expect(r.stdout).toMatch(/\(30 tests compared[;)][\s\S]*suites differ: 0 tests only in the baseline, 10 only in the candidate \(not compared\)/);
  });

  it('a test written twice in both evals (same positions) is matched in order and reported as a duplicate', () => {
    // Row 1 becomes a copy of row 0's test in both outputs: the same tests at the same positions,
    // which the gate's shortcut would pair, but an identity twice sends it the general way.
    const twice = (rows: any[]) => {
      rows[1].testCase = structuredClone(rows[0].testCase);
      rows[1].vars = structuredClone(rows[0].vars);
    };
    const r = run('gate', '--baseline', edited(out('baseline'), 'dup-base/out.json', twice), '--candidate', edited(out('reseeded'), 'dup-cand/out.json', twice), '--json');
    expect([0, 1]).toContain(r.status);
    const g = JSON.parse(r.stdout);
    expect(g.suite.shared).toBe(40);
    expect(g.suite.duplicates.map((d: { eval: string; count: number }) => [d.eval, d.count])).toEqual([
      ['baseline', 2],
      ['candidate', 2],
    ]);
  });

  it('a test that errored in one eval is not compared, and the gate says so', () => {
    const cand = edited(out('reseeded'), 'gate-errors/out.json', (rows) => {
      for (const r of rows.slice(0, 3)) Object.assign(r, { error: 'RolloutProvider: EndpointHttpError: HTTP 500', failureReason: 2, success: false, gradingResult: null, response: { error: 'HTTP 500' } });
    });
    const r = run('gate', '--baseline', out('baseline'), '--candidate', cand);
    expect([0, 1]).toContain(r.status);
    expect(r.stdout).toMatch(/\(37 tests compared[;)][\s\S]*! 3 tests errored and were not compared \(0 in the baseline, 3 in the candidate, 0 in both: 3 EndpointHttpError\)/);
  });

  it.each([
    ['missing flags', () => ['--baseline', out('baseline')], /needs --baseline and --candidate/],
    ['bad policy value', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--alpha', '2'], /gate policy is invalid: at alpha: Too big/],
    ['a hex number', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--alpha', '0x10'], /--alpha takes a decimal number, got "0x10"/],
    ['a hex number in the policy file', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--policy', writeTo('hex.yaml', 'alpha: 0x10\n')], /gate policy is invalid:[\s\S]*alpha/],
    ['unknown regime', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--max-increase', 'doom=0.1'], /maxIncrease/],
    ['bad policy file', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--policy', writeTo('bad.yaml', 'alpha: [')], /policy .*bad\.yaml is not valid YAML at line/],
    ['not a promptfoo output', () => ['--baseline', writeTo('n.json', '{}'), '--candidate', out('reseeded')], /is not a promptfoo output/],
    ['an --md path whose folder does not exist', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--md', join(dir, 'no-such-dir', 'summary.md')], /--md .*summary\.md cannot be written: ENOENT \(its folder does not exist\)/],
    ['an --md path that is a folder', () => ['--baseline', out('baseline'), '--candidate', out('reseeded'), '--md', dir], /--md .* is a directory; give a file path/],
    ['tampered counts', () => ['--baseline', out('baseline'), '--candidate', edited(out('reseeded'), 'tampered-gate/out.json', (rows) => (verdictOf(rows[7]).n_passed = 13))], /results\[7\]: the recoverability verdict is invalid: recoverability_row\.n_passed/],
  ])('%s: exit 2 with a one-line reason, no verdict printed', (_n, args, message) => {
    const r = run('gate', ...args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toMatch(/PASS|FAIL/);
  });
});
