import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EvalReport, EvalReportSchema } from '../../src/core/index.js';
import { LABELS } from '../../src/core/contracts/operators.js';
import { balancedAccuracy } from '../../src/core/policy/balancedAccuracy.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { formatProbeCsv } from '../../src/io/probeTable.js';
import { assertDistFresh } from '../helpers/distFresh.js';
import { runPromptfoo } from '../helpers/promptfoo.js';
import { plantedJournal, plantedProbe } from '../report/probeFixture.js';

/**
 * The report speaks measured truth, end to end: the root suite evaluated by the real promptfoo
 * CLI; a planted probe of its failing rows keyed by their test keys (the probe's problem_id), a
 * policy calibrated on it, the probe's journal; then `recoverability report --probe --policy
 * --journal`, its refusals, and a second eval with the policy on the assertion, whose afterAll
 * hook finds the probe and the journal through the policy. The probe is planted (rescue drawn
 * from the rows' own signals), so the test checks the joining and the numbers, not the method.
 */
const dir = mkdtempSync(join(tmpdir(), 'recov-measured-'));
const run = (...args: string[]) => spawnSync(process.execPath, ['bin/recoverability.js', ...args], { encoding: 'utf8' });
const settings = { source: 'eval', fixture: 'viewMeasured', seed: 0 };
const fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
let first: EvalReport;
let probed: number;

/**
 * The root suite as it would read without its shipped policy: no `repair:` (whose policy the
 * assertion would inherit) and no `policy:` on the assertion, so rows are routed by the paper's
 * rule; `policy` (a path) puts another one on the assertion.
 */
function rootSuiteVariant(policy?: string): string {
  const text = readFileSync('promptfooconfig.yaml', 'utf8');
  const repair = /^ {6}repair:\n(?: {8}.*\n)+/m;
  const assertionPolicy = /^ {8}policy: examples\/lineage\/policy\.json\n/m;
  expect(text).toMatch(repair);
  expect(text).toMatch(assertionPolicy);
  const plain = text.replace(repair, '').replace(assertionPolicy, policy ? `        policy: ${policy}\n` : '');
  expect(plain.split('\n').filter((line) => /^\s*policy:/.test(line))).toEqual(policy ? [`        policy: ${policy}`] : []);
  return plain;
}

/** Runs promptfoo eval on `text` written next to the root config (so its relative paths hold). */
function evalVariant(text: string, name: string, out: string) {
  const cfg = `tmp-view-${name}-${process.pid}.yaml`;
  writeFileSync(cfg, text);
  try {
    return runPromptfoo(['eval', '-c', cfg, '--no-progress-bar', '-o', out]);
  } finally {
    execFileSync('rm', ['-f', cfg]);
  }
}

beforeAll(() => {
  assertDistFresh();
  const r = evalVariant(rootSuiteVariant(), 'paper', join(dir, 'out.json'));
  expect([0, 100], r.stderr).toContain(r.code);
  first = EvalReportSchema.parse(JSON.parse(readFileSync(join(dir, 'recoverability.json'), 'utf8')));
  const failing = first.rows.filter((x) => x.n_passed < x.n_rollouts && x.features);
  const records = plantedProbe(
    failing.map((x) => ({ ...x, ...x.features!, ancestor_pass_rate: x.ancestor_pass_rate })),
    { reprobeEvery: 3, settings: fingerprint },
  );
  probed = records.length;
  mkdirSync(join(dir, 'probe'));
  const probeText = formatProbeCsv(records);
  writeFileSync(join(dir, 'probe', 'probe.csv'), probeText);
  writeFileSync(join(dir, 'probe', 'probe.csv.journal.jsonl'), plantedJournal(records, settings));
  writeFileSync(join(dir, 'probe', 'other.journal.jsonl'), plantedJournal(records, { ...settings, seed: 1 }));
  const policy = calibratePolicy(records, { path: 'probe.csv', sha256: createHash('sha256').update(probeText).digest('hex') }, { minRows: 20, folds: 3, resamples: 500 });
  writeFileSync(join(dir, 'probe', 'policy.json'), JSON.stringify(policy, null, 2));
}, 240_000);

describe('recoverability report --probe --policy --journal', () => {
  let report: EvalReport;
  beforeAll(() => {
    const r = run('report', join(dir, 'out.json'), '--out', join(dir, 'rep'), '--probe', join(dir, 'probe', 'probe.csv'), '--policy', join(dir, 'probe', 'policy.json'), '--journal', join(dir, 'probe', 'probe.csv.journal.jsonl'));
    expect(r.status, r.stderr).toBe(0);
    report = EvalReportSchema.parse(JSON.parse(readFileSync(join(dir, 'rep', 'recoverability.json'), 'utf8')));
  });

  it('joins every probed row on its test key and measures the paper rule\'s agreement, by the numbers in the rows', () => {
    const m = report.measured!;
    expect(m.probe).toMatchObject({ records: probed, matched: probed, unmatched: 0, ambiguous: 0, settings: fingerprint });
    const joined = report.rows.filter((r) => r.measured && r.regime !== 'solved');
    expect(m.agreement!.estimate).toBe('paper_rule');
    expect(m.agreement!.n).toBe(joined.length);
    // The same balanced accuracy from the rows' own estimate and measured label.
    expect(m.agreement!.balanced_accuracy).toBeCloseTo(balancedAccuracy(joined.map((r) => r.measured!.label), joined.map((r) => r.regime)), 12);
    const labels = joined.map((r) => r.measured!.label);
    const present = LABELS.filter((l) => labels.includes(l));
    expect(m.agreement!.majority.balanced_accuracy).toBeCloseTo(1 / present.length, 12);
    expect(m.ceiling!.n).toBe(Math.ceil(probed / 3));
    expect(report.budget).toMatchObject({ phase: 'eval', settings: fingerprint, problems: probed });
    expect(report.policy!.candidates.length).toBeGreaterThanOrEqual(7); // learned, paper's rule, 5 fixed operators
  });

  it('the three formats say the routes are the paper\'s untested rule, and show the measurement', () => {
    const md = readFileSync(join(dir, 'rep', 'recoverability.md'), 'utf8');
    const html = readFileSync(join(dir, 'rep', 'recoverability.html'), 'utf8');
    expect(report.estimate.source).toBe('paper_rule');
    expect(md).toMatch(/\*\*Routes: the paper's rule, untested on this model\.\*\*/);
    expect(html).toMatch(/<div class="source paper_rule" id="route-source"><b>Routes: the paper&#39;s rule, untested on this model\.<\/b>/);
    for (const text of ['Measured on this model (rescue probe)', 'Estimate vs measurement', 'The learned policy against every alternative', 'Rescue at budget on this model']) {
      expect(md).toContain(text);
      expect(html).toContain(text);
    }
    expect(html).toContain('id="confusion"');
    expect(html).toContain('Fresh eval-phase attempts of');
  });

  it('refuses a journal of another probe and a journal given as the probe, saying which (exit 2)', () => {
    const other = run('report', join(dir, 'out.json'), '--out', join(dir, 'rep2'), '--probe', join(dir, 'probe', 'probe.csv'), '--journal', join(dir, 'probe', 'other.journal.jsonl'));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(new RegExp(`other\\.journal\\.jsonl is the journal of another probe: its settings fingerprint is [0-9a-f]{16}, .*probe\\.csv's rows carry ${fingerprint}`));
    const swapped = run('report', join(dir, 'out.json'), '--out', join(dir, 'rep2'), '--probe', join(dir, 'probe', 'probe.csv.journal.jsonl'));
    expect(swapped.status).toBe(2);
    expect(swapped.stderr).toMatch(/is a probe journal, not the probe's records: pass the records \(probe\.csv or \.jsonl\) with --probe and the journal with --journal/);
  });
});

describe('an eval routed by the learned policy: its afterAll hook reports what was measured', () => {
  let second: EvalReport;
  let rows: any[];
  beforeAll(() => {
    mkdirSync(join(dir, 'second'));
    const r = evalVariant(rootSuiteVariant(join(dir, 'probe', 'policy.json')), 'policy', join(dir, 'second', 'out.json'));
    expect([0, 100], r.stderr).toContain(r.code);
    expect(r.stderr).toMatch(/recoverability: .*; measured on \d+ probed rows; report written to/);
    second = EvalReportSchema.parse(JSON.parse(readFileSync(join(dir, 'second', 'recoverability.json'), 'utf8')));
    rows = JSON.parse(readFileSync(join(dir, 'second', 'out.json'), 'utf8')).results.results;
  }, 240_000);

  it('rows carry the learned estimate: route_source policy, its precision, and a reason that says so', () => {
    const failing = rows.filter((r) => r.namedScores.pass_rate < 1);
    expect(failing.length).toBeGreaterThan(0);
    for (const r of failing) expect(r.metadata.route_source).toBe('policy');
    // promptfoo shows the reason of the rows that fail (a passing row reads "All assertions passed").
    for (const r of failing.filter((x) => !x.success)) {
      expect(r.gradingResult.reason).toMatch(new RegExp(`^${r.metadata.regime}( → [a-z_]+)? \\(learned policy(, precision \\d+% on \\d+ probed rows)?\\) · `));
    }
  });

  it('the report finds the probe and journal through the policy, joins the same test keys, and says the routes are measured', () => {
    expect(second.estimate).toMatchObject({ source: 'policy', rows: { paper_rule: 0 } });
    expect(second.measurement_notes).toEqual([]);
    expect(second.measured!.probe.matched).toBe(probed); // the policy on the assertion does not change the test keys
    expect(second.measured!.agreement!.estimate).toBe('policy');
    expect(second.policy!.path).toMatch(/policy\.json$/);
    expect(second.budget!.settings).toBe(fingerprint);
    const md = readFileSync(join(dir, 'second', 'recoverability.md'), 'utf8');
    expect(md).toMatch(/\*\*Routes: measured on this model \(a learned policy\)\.\*\* Regimes and routes come from a policy learned from a rescue probe/);
    expect(md).toContain('| test | regime → route | measured | why |');
  });

  it('the gate compares the regimes the reports show: the learned policy when both evals were routed by it, else the paper\'s rule, saying which', () => {
    const same = run('gate', '--baseline', join(dir, 'second', 'out.json'), '--candidate', join(dir, 'second', 'out.json'), '--json');
    expect(same.status, same.stderr).toBe(0);
    const g = JSON.parse(same.stdout);
    expect(g.estimator).toEqual({ source: 'policy', policy: join(dir, 'probe', 'policy.json') });
    for (const r of g.regimes) expect(r.baseline.n, r.regime).toBe(second.regimes.counts[r.regime as keyof typeof second.regimes.counts]);
    const text = run('gate', '--baseline', join(dir, 'second', 'out.json'), '--candidate', join(dir, 'second', 'out.json'));
    expect(text.stdout).toContain(`regimes: estimated by the learned policy ${join(dir, 'probe', 'policy.json')} that routed both evals`);
    // The first eval was routed by the paper's rule: the gate falls back to it for both, and says why.
    const mixed = run('gate', '--baseline', join(dir, 'out.json'), '--candidate', join(dir, 'second', 'out.json'), '--json');
    expect([0, 1]).toContain(mixed.status);
    expect(JSON.parse(mixed.stdout).estimator).toEqual({ source: 'paper_rule', why: 'not every failing row of both evals was routed by a learned policy' });
  });

  it('the gate builds the baseline\'s report while it reads the candidate, and builds it again when the candidate calls for the other estimates: the same comparison as in turn', async () => {
    // Baseline routed by the policy, candidate by the paper's rule: the report built early (with the
    // policy's estimates) is not the one compared. Then the other way round, where it is.
    const { loadEvalOutputs } = await import('../../dist/io/loadEvalOutput.js');
    const { buildEvalReportWith } = await import('../../dist/core/analysis/buildEvalReportWith.js');
    const { compareEvals } = await import('../../dist/core/gate/compareEvals.js');
    const { gateEstimator } = await import('../../dist/core/gate/gateEstimator.js');
    const { GatePolicySchema } = await import('../../dist/core/gate/gatePolicy.js');
    const { loadReferenceScale } = await import('../../dist/io/loadReferenceScale.js');
    const { relative } = await import('node:path');
    for (const [a, b] of [[join(dir, 'second', 'out.json'), join(dir, 'out.json')], [join(dir, 'out.json'), join(dir, 'second', 'out.json')]] as const) {
      const gate = run('gate', '--baseline', a, '--candidate', b, '--json');
      expect([0, 1]).toContain(gate.status);
      const [base, cand] = await loadEvalOutputs([a, b], { purpose: 'gate' });
      const estimator = gateEstimator(base!.inputs, cand!.inputs);
      const verdictEstimates = estimator.source === 'policy';
      const reference = base!.reference ? { path: relative(process.cwd(), base!.reference) || base!.reference, scale: await loadReferenceScale(base!.reference) } : null;
      const baseline = buildEvalReportWith(null, base!.inputs, { evalId: base!.evalId, reference, errors: base!.errors, clusters: false, verdictEstimates });
      const candidate = buildEvalReportWith(null, cand!.inputs, {
        evalId: cand!.evalId,
        reference: baseline.scale ? { path: reference?.path ?? a, scale: baseline.scale } : null,
        errors: cand!.errors,
        clusters: false,
        verdictEstimates,
      });
      expect(gate.stdout).toBe(JSON.stringify(compareEvals(baseline, candidate, GatePolicySchema.parse({}), estimator), null, 2) + '\n');
    }
  });
});
