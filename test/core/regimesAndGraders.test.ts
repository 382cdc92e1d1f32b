import { describe, expect, it } from 'vitest';
import { buildEvalReport, featureScale, gradeRollout, GraderSchema, prospectiveRegime, zOnScale, type ReportRowInput } from '../../src/core/index.js';
import { renderMarkdown } from '../../src/report/renderMarkdown.js';

const g = (x: unknown) => GraderSchema.parse(x) as any;
const r = (text: string, answer: string | null) => ({ text, answer });

describe('rollout graders', () => {
  it('equals compares normalized final answers; numeric with tolerance', () => {
    expect(gradeRollout(r('…Answer: 391.0', '391.0'), g({ type: 'equals' }), { answer: 391 }).pass).toBe(true);
    expect(gradeRollout(r('…', 'Paris'), g({ type: 'equals' }), { answer: 'paris' }).pass).toBe(true);
    expect(gradeRollout(r('…', 'Paris'), g({ type: 'equals', caseSensitive: true }), { answer: 'paris' }).pass).toBe(false);
    expect(gradeRollout(r('…', '3.14'), g({ type: 'numeric', tolerance: 0.01 }), { answer: '3.1416' }).pass).toBe(true);
    expect(gradeRollout(r('…', '3.2'), g({ type: 'numeric', tolerance: 0.01 }), { answer: 3.1416 }).pass).toBe(false);
    expect(gradeRollout(r('…', null), g({ type: 'numeric' }), { answer: 3 }).reason).toMatch(/not a number/);
  });

  it('contains and regex look at the whole text', () => {
    expect(gradeRollout(r('The capital is PARIS.', null), g({ type: 'contains', value: 'paris' }), {}).pass).toBe(true);
    expect(gradeRollout(r('x = 42', null), g({ type: 'regex', pattern: '= \\d+$' }), {}).pass).toBe(true);
    expect(gradeRollout(r('x', null), g({ type: 'regex', pattern: '(' }), {}).reason).toMatch(/invalid regex/);
  });

  it('a missing expected value is a failed grade with a reason, not an exception', () => {
    const out = gradeRollout(r('Answer: 4', '4'), g({ type: 'equals', var: 'expected' }), {});
    expect(out).toEqual({ pass: false, reason: 'no expected value: set the test var "expected" or the grader\'s value' });
  });
});

describe('prospective regime', () => {
  const scale = featureScale([
    { features: { spread: 0.1, concentration: 1, logit_dispersion: -2 } },
    { features: { spread: 0.3, concentration: 2, logit_dispersion: -1 } },
  ])!;

  it('the scale is mean and population SD; z on it by hand', () => {
    expect(scale.mean).toEqual({ spread: expect.closeTo(0.2, 12), concentration: 1.5, logit_dispersion: -1.5 });
    expect(scale.sd.spread).toBeCloseTo(0.1, 12);
    expect(zOnScale({ spread: 0.4, concentration: 1.5, logit_dispersion: -1.5 }, scale)).toEqual({ spread: expect.closeTo(2, 9), concentration: 0, logit_dispersion: 0 });
  });

  it('solved, resample by pass@3, steerable by the largest z, beyond reach when nothing stands out', () => {
    expect(prospectiveRegime({ nRollouts: 8, nPassed: 8, features: null }).regime).toBe('solved');
    // 4/8 pass: pass@3 = 1 − C(4,3)/C(8,3) = 1 − 4/56 → resample
    const resample = prospectiveRegime({ nRollouts: 8, nPassed: 4, features: null });
    expect(resample).toMatchObject({ regime: 'resample', route: 'retry' });
    expect(resample.retryRescue).toBeCloseTo(1 - 4 / 56, 12);
    // 1/8 pass: pass@3 = 1 − C(7,3)/C(8,3) = 3/8 < 0.5 → retry is not enough
    const steer = prospectiveRegime({ nRollouts: 8, nPassed: 1, features: { spread: 0.2, concentration: 2.5, logit_dispersion: -1.5 } }, { scale });
    expect(steer).toMatchObject({ regime: 'steerable', route: 'sparse_steer' });
    expect(steer.why).toMatch(/concentration z=\+2\.00 stands out → sparse_steer/);
    const beyond = prospectiveRegime({ nRollouts: 8, nPassed: 0, features: { spread: 0.1, concentration: 1, logit_dispersion: -2 } }, { scale });
    expect(beyond).toMatchObject({ regime: 'beyond_reach', route: 'stop' });
    // Largest z = +0.3: stands out for routing (> 0) but not for the beyond-reach estimate (≤ 0.5).
    const mild = { spread: 0.23, concentration: 1, logit_dispersion: -2 };
    expect(prospectiveRegime({ nRollouts: 8, nPassed: 0, features: mild }, { scale }).regime).toBe('beyond_reach');
    expect(prospectiveRegime({ nRollouts: 8, nPassed: 0, features: mild }, { scale, beyondStandOut: 0 })).toMatchObject({ regime: 'steerable', route: 'dense_steer' });
    const hedge = prospectiveRegime({ nRollouts: 8, nPassed: 1, features: { spread: 0.1, concentration: 1, logit_dispersion: -2 } }, { scale });
    expect(hedge).toMatchObject({ regime: 'steerable', route: 'sparse_steer_random' });
  });

  it('says why when steerability cannot be judged', () => {
    expect(prospectiveRegime({ nRollouts: 8, nPassed: 0, features: null }).why).toMatch(/need specialist log-probs and an ancestor/);
    expect(prospectiveRegime({ nRollouts: 8, nPassed: 0, features: { spread: 0.1, concentration: 1, logit_dispersion: -2 } }, { noScaleReason: 'no scale here' }).why).toMatch(/no scale here/);
  });
});

const row = (i: number, passed: number, f: [number, number, number] | null, extra: Partial<ReportRowInput> = {}): ReportRowInput => ({
  test_idx: i,
  prompt_idx: 0,
  repeat: 0,
  description: `test ${i}`,
  provider: 'p',
  n_rollouts: 8,
  n_passed: passed,
  features: f && { spread: f[0], concentration: f[1], logit_dispersion: f[2] },
  answer_entropy: null,
  wrong_mode_share: null,
  unavailable: [],
  sample_output: 'Answer: 1',
  ...extra,
});

describe('eval report', () => {
  const rows = [row(0, 8, null), row(1, 6, [0.2, 1.2, -1.6]), row(2, 0, [0.6, 1.1, -1.8]), row(3, 1, [0.2, 2.6, -1.7]), row(4, 0, [0.2, 1.2, -0.8]), row(5, 0, [0.25, 1.3, -1.7])];

  it('z over this eval\'s failures, regimes counted, shares among failures, clusters named', () => {
    const rep = buildEvalReport(rows, { evalId: 'e1' });
    expect(rep.scale_source).toBe('eval');
    expect(rep.scale!.n).toBe(5);
    expect(rep.totals).toMatchObject({ rows: 6, failures: 5, with_features: 5 });
    expect(rep.regimes.counts.solved).toBe(1);
    expect(rep.regimes.counts.resample).toBe(1);
    const byTest = Object.fromEntries(rep.rows.map((r) => [r.test_idx, r]));
    expect(byTest[2]!.route).toBe('dense_steer');
    expect(byTest[3]!.route).toBe('sparse_steer');
    expect(byTest[4]!.route).toBe('local_temp');
    const total = Object.entries(rep.regimes.shares).reduce((s, [, v]) => s + v, 0);
    expect(total).toBeCloseTo(1, 12);
    expect(rep.clusters.reduce((s, c) => s + c.size, 0)).toBe(5);
  });

  it('one failing row with features: no clusters, no crash', () => {
    const rep = buildEvalReport([row(0, 8, null), row(1, 0, [0.2, 1.2, -1.6])]);
    expect(rep.clusters).toEqual([]);
    expect(rep.rows[1]!.cluster).toBeNull();
  });

  it('a reference scale replaces the eval scale', () => {
    const rep = buildEvalReport(rows, { reference: { path: 'ref.csv', scale: { n: 9, mean: { spread: 0, concentration: 0, logit_dispersion: 0 }, sd: { spread: 1, concentration: 1, logit_dispersion: 1 } } } });
    expect(rep.scale_source).toBe('reference');
    expect(rep.rows.find((r) => r.test_idx === 3)!.z).toEqual({ spread: 0.2, concentration: 2.6, logit_dispersion: -1.7 });
  });

  it('Markdown neutralizes pipes and markup in model text', () => {
    const rep = buildEvalReport([row(0, 0, null, { description: 'a|b <script>alert(1)</script>' })]);
    const md = renderMarkdown(rep);
    expect(md).toContain('a\\|b &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).not.toContain('<script>');
  });
});
