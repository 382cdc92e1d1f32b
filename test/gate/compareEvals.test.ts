import { describe, expect, it } from 'vitest';
import { buildEvalReport, compareEvals, type EvalReport, type Features, GatePolicySchema, type ReportRowInput, seededRandom } from '../../src/core/index.js';
import type { ErrorRowInput } from '../../src/core/analysis/buildEvalReport.js';
import { matchTests } from '../../src/core/gate/matchTests.js';

/** A graded row of 10 rollouts; the test's identity is `key`, its name `Row #…` as promptfoo gives CSV rows. */
const row = (i: number, passed: number, features: Features | null = null, key = `k${i}`): ReportRowInput => ({
  test_idx: i,
  prompt_idx: 0,
  repeat: 0,
  description: `Row #${i + 1}`,
  test_key: key,
  provider: 'p',
  n_rollouts: 10,
  n_passed: passed,
  features,
  answer_entropy: null,
  wrong_mode_share: null,
  unavailable: [],
  sample_output: '',
});
const ZERO: Features = { spread: 0, concentration: 0, logit_dispersion: 0 };
/** A unit scale: z = the feature itself, so regimes are set by hand (beyond reach: no pass and no z above 0.5). */
const UNIT = { path: 'unit', scale: { n: 100, mean: { spread: 0, concentration: 0, logit_dispersion: 0 }, sd: { spread: 1, concentration: 1, logit_dispersion: 1 } } };
const report = (rows: ReportRowInput[], errors: ErrorRowInput[] = []): EvalReport => buildEvalReport(rows, { reference: UNIT, errors });
const policy = (p: Record<string, unknown> = {}) => GatePolicySchema.parse({ permutations: 49, ...p });
const check = (g: ReturnType<typeof compareEvals>, name: string) => g.checks.find((c) => c.check === name)!;

/** 40 tests: `beyond` of them beyond reach (0/10 passed, nothing stands out), the rest solved. */
const beyondSuite = (beyond: number) => Array.from({ length: 40 }, (_, i) => (i < beyond ? row(i, 0, ZERO) : row(i, 10)));

describe('the rollout pass-rate check', () => {
  const rates = (mean: number) => Array.from({ length: 40 }, (_, i) => row(i, mean + (i % 2 === 0 ? 1 : -1)));

  it('a planted drop (80% → 50%) fails, naming the pass rate', () => {
    const g = compareEvals(report(rates(8)), report(rates(5)), policy());
    expect(g.pass).toBe(false);
    expect(check(g, 'rollout pass rate')).toMatchObject({ status: 'fail', observed: expect.closeTo(-0.3, 12) });
    expect(g.regressions).toEqual([expect.stringMatching(/^rollout pass rate down -30\.0 points \(80\.0% → 50\.0%/)]);
  });

  it('an equal rise (50% → 80%) passes', () => {
    const g = compareEvals(report(rates(5)), report(rates(8)), policy());
    expect(g.pass).toBe(true);
    expect(check(g, 'rollout pass rate')).toMatchObject({ status: 'pass', observed: expect.closeTo(0.3, 12) });
  });

  it('a drop of exactly the limit passes; one more rollout per test fails', () => {
    const same = (k: number) => Array.from({ length: 40 }, (_, i) => row(i, k));
    // 0.7 − 0.8 is −0.10000000000000009 in floating point: the limit is met, not exceeded.
    expect(compareEvals(report(same(8)), report(same(7)), policy({ maxPassRateDrop: 0.1 })).pass).toBe(true);
    const g = compareEvals(report(same(8)), report(same(6)), policy({ maxPassRateDrop: 0.1 }));
    expect(g.pass).toBe(false);
    expect(check(g, 'rollout pass rate').status).toBe('fail');
  });

  it('a drop over the limit whose interval includes zero is inconclusive: the gate passes and says how many tests would decide', () => {
    // 6 tests: 3 drop by 9 rollouts, 3 rise by 3: mean −30 points, but too few and too spread to call.
    const base = Array.from({ length: 6 }, (_, i) => row(i, i < 3 ? 10 : 5));
    const cand = Array.from({ length: 6 }, (_, i) => row(i, i < 3 ? 1 : 8));
    const g = compareEvals(report(base), report(cand), policy());
    const c = check(g, 'rollout pass rate');
    expect(g.pass).toBe(true);
    expect(c.status).toBe('inconclusive');
    expect(c.ci![0]).toBeLessThan(0);
    expect(c.ci![1]).toBeGreaterThan(0);
    // n = (z·s_d/d)²: differences −0.9 ×3, +0.3 ×3: d = −0.3, s_d = √(6·0.36/5) = 0.657…
    const sd = Math.sqrt((6 * 0.36) / 5);
    expect(c.testsNeeded).toEqual({ n: Math.ceil(((1.959963984540054 * sd) / 0.3) ** 2), formula: 'n = (z·s_d/d)²' });
    expect(c.why).toMatch(/interval includes zero: too few tests to call it; about 19 tests would decide/);
  });
});

describe('the regime-share check', () => {
  it('a significant beyond-reach rise fails (4 → 24 of 40)', () => {
    const g = compareEvals(report(beyondSuite(4)), report(beyondSuite(24)), policy());
    expect(g.pass).toBe(false);
    expect(g.regressions[0]).toMatch(/^beyond_reach share of tests up \+50\.0 points \(10\.0% → 60\.0% of 40 tests; 95% CI/);
  });

  it('4 → 7 of 40 (+7.5 points, over the 5-point limit, interval includes zero) passes as inconclusive, with the tests needed', () => {
    const g = compareEvals(report(beyondSuite(4)), report(beyondSuite(7)), policy());
    const c = check(g, 'beyond_reach share of tests');
    expect(g.pass).toBe(true);
    expect(c.status).toBe('inconclusive');
    expect(c.observed).toBeCloseTo(0.075, 12);
    expect(c.ci![0]).toBeLessThan(0);
    expect(c.testsNeeded).toEqual({ n: 161, formula: 'n = z²(p₁q₁ + p₂q₂)/d²' });
    expect(c.why).toMatch(/over the allowed \+5\.0, but the interval includes zero: too few tests to call it; about 161 tests per eval would decide/);
  });

  it('a rise of exactly the limit passes (20 → 22 of 40: 0.55 − 0.5 is 0.0500000000000000444 in floating point)', () => {
    expect(22 / 40 - 20 / 40).toBeGreaterThan(0.05);
    const g = compareEvals(report(beyondSuite(20)), report(beyondSuite(22)), policy());
    expect(check(g, 'beyond_reach share of tests').status).toBe('pass');
  });
});

describe('the failure-topography check', () => {
  const cloud = (n: number, shift: number, seed: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: n }, (_, i) => row(i, 1, { spread: shift + r.uniform(), concentration: r.uniform(), logit_dispersion: r.uniform() }));
  };

  it('shifted clouds fail under `topography: fail`, with a p-value under α', () => {
    const g = compareEvals(report(cloud(40, 3, 1)), report(cloud(40, 0, 2)), policy({ topography: 'fail' }));
    expect(g.pass).toBe(false);
    expect(check(g, 'failure topography').status).toBe('fail');
    expect(g.topography!.balancedAccuracy).toBeGreaterThan(0.95);
    expect(g.regressions.some((r) => /^failure topography shifted: .* balanced accuracy/.test(r))).toBe(true);
  });

  it('identical clouds pass under `topography: fail`', () => {
    const g = compareEvals(report(cloud(40, 0, 3)), report(cloud(40, 0, 4)), policy({ topography: 'fail' }));
    expect(check(g, 'failure topography').status).toBe('pass');
    expect(g.pass).toBe(true);
  });

  it('under `topography: report` a shift is shown, never gating', () => {
    const g = compareEvals(report(cloud(40, 3, 1)), report(cloud(40, 0, 2)), policy());
    expect(check(g, 'failure topography').status).toBe('report');
    expect(g.pass).toBe(true);
  });
});

describe('which tests are compared', () => {
  it('tests are matched by identity, not by description or position: a row inserted at the top shifts nothing', () => {
    const base = Array.from({ length: 10 }, (_, i) => row(i, i % 3 === 0 ? 0 : 6, ZERO));
    // The same tests one position down (promptfoo renames them Row #2…#11), a new one first.
    const cand = [row(0, 10, null, 'new'), ...base.map((r) => ({ ...r, test_idx: r.test_idx + 1, description: `Row #${r.test_idx + 2}` }))];
    const g = compareEvals(report(base), report(cand), policy());
    expect(g.suite.shared).toBe(10);
    expect(g.suite.onlyCandidate).toEqual([{ test_idx: 0, prompt_idx: 0, description: 'Row #1' }]);
    expect(g.suite.onlyBaseline).toEqual([]);
    expect(Object.entries(g.transitions).every(([from, tos]) => Object.keys(tos).every((to) => to === from))).toBe(true);
    expect(g.passRate.diff).toBe(0);
  });

  it('duplicates are matched in order and reported; lists are sorted by test number, not as text', () => {
    const base = [row(0, 5, null, 'dup'), row(1, 9, null, 'dup'), row(2, 5), row(10, 5)];
    const cand = [row(0, 5, null, 'dup'), row(1, 9, null, 'dup')];
    const m = matchTests(report(base), report(cand));
    expect(m.pairs.map((p) => [p.baseline.n_passed, p.candidate.n_passed])).toEqual([[5, 5], [9, 9]]);
    expect(m.duplicates).toEqual([
      { test_idx: 0, prompt_idx: 0, description: 'Row #1', eval: 'baseline', count: 2 },
      { test_idx: 0, prompt_idx: 0, description: 'Row #1', eval: 'candidate', count: 2 },
    ]);
    expect(m.onlyBaseline.map((t) => t.test_idx)).toEqual([2, 10]);
  });

  it('a test that errored in one eval is not compared, and is listed with its error kind', () => {
    const err = (i: number): ErrorRowInput => ({ test_idx: i, prompt_idx: 0, test_key: `k${i}`, description: `Row #${i + 1}`, provider: 'p', kind: 'EndpointTimeoutError', message: 'timed out' });
    const base = Array.from({ length: 6 }, (_, i) => row(i, 5));
    const cand = report(base.slice(0, 4), [err(4), err(5)]);
    const g = compareEvals(report(base), cand, policy());
    expect(g.suite.shared).toBe(4);
    expect(g.suite.errored).toEqual([
      { test_idx: 4, prompt_idx: 0, description: 'Row #5', in: 'candidate', kinds: ['EndpointTimeoutError'] },
      { test_idx: 5, prompt_idx: 0, description: 'Row #6', in: 'candidate', kinds: ['EndpointTimeoutError'] },
    ]);
    expect(g.suite.onlyBaseline).toEqual([]);
  });
});

describe('matching tests: the shortcut for two evals of the same tests in the same order', () => {
  it('gives what grouping by identity gives, whatever the evals hold (reordered, missing, repeated, errored, other prompts)', async () => {
    const fc = (await import('fast-check')).default;
    const { inOrderOnce, matchTestsByGroups } = await import('../../src/core/gate/matchTests.js');
    const err = (i: number, key: string, prompt: number): ErrorRowInput => ({ test_idx: i, prompt_idx: prompt, test_key: key, description: `Row #${i + 1}`, provider: 'p', kind: 'E', message: 'm' });
    const test = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'a\u00001'), prompt: fc.constantFrom(0, 0, 0, 1), passed: fc.integer({ min: 0, max: 10 }) });
    const policy = GatePolicySchema.parse({ permutations: 20 });
    fc.assert(
      fc.property(fc.array(test, { maxLength: 8 }), fc.constantFrom('same', 'shuffled', 'dropped', 'errored', 'baseline errored', 'unsorted'), fc.integer(), (tests, change, seed) => {
        const rowsOf = (ts: typeof tests) => ts.map((t, i) => ({ ...row(i, t.passed, null, t.key), prompt_idx: t.prompt }));
        const random = seededRandom(seed);
        let baseRows = rowsOf(tests);
        let candRows = rowsOf(tests);
        let candErrors: ErrorRowInput[] = [];
        let baseErrors: ErrorRowInput[] = [];
        if (change === 'shuffled') candRows = [...candRows].sort(() => random.uniform() - 0.5);
        if (change === 'dropped') candRows = candRows.filter(() => random.uniform() < 0.7);
        if (change === 'errored' && tests.length > 0) candErrors = [err(0, tests[0]!.key, tests[0]!.prompt)];
        if (change === 'baseline errored' && tests.length > 0) baseErrors = [err(tests.length, 'z', 0)];
        if (change === 'unsorted') baseRows = baseRows.map((r, i) => ({ ...r, test_idx: baseRows.length - i }));
        const b = report(baseRows, baseErrors);
        const c = report(candRows, candErrors);
        const grouped = matchTestsByGroups(b, c);
        expect(matchTests(b, c)).toEqual(grouped);
        // With the baseline's part found before (as the gate finds it while reading the candidate).
        const suite = { shared: grouped.pairs.length, onlyBaseline: grouped.onlyBaseline, onlyCandidate: grouped.onlyCandidate, errored: grouped.errored, duplicates: grouped.duplicates };
        expect(compareEvals(b, c, policy, undefined, inOrderOnce(b)).suite).toEqual(suite);
        expect(compareEvals(b, c, policy).suite).toEqual(suite);
        expect(matchTests(b, c, inOrderOnce(b))).toEqual(grouped);
      }),
      { numRuns: 3000, seed: 21 },
    );
  });
});
