import { describe, expect, it } from 'vitest';
import { addMeasurements, buildEvalReport, EvalReportSchema, type EvalReport, type ReportRowInput } from '../../src/core/index.js';
import { ProbeRecordSchema } from '../../src/core/contracts/probeRecord.js';
import { budgetSection, rescueAtBudget } from '../../src/core/analysis/rescueAtBudget.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { population, uniformRates } from '../policy/population.js';

const RATES = {
  steerable: { retry: 0, dense_steer: 0.5 }, // gain 0.5 ≥ 0.05 where retry fails
  resample: { retry: 0.8, dense_steer: 0.8 }, // retry already gets there
  beyond_reach: { retry: 0, dense_steer: 0 },
} as const;
const record = (id: string, label: keyof typeof RATES, reprobe: keyof typeof RATES | null = null) =>
  ProbeRecordSchema.parse({ problem_id: id, label_rescue: RATES[label], eval_rescue: RATES[label], split: 'disjoint', reprobe_label: reprobe, settings: 'abc' });

const input = (key: string, i: number, passed = 0): ReportRowInput => ({
  test_idx: i, prompt_idx: i === 7 ? 1 : 0, repeat: 0, description: key, test_key: key, provider: 'p', n_rollouts: 4, n_passed: passed,
  features: { spread: 0.1 * i, concentration: 1 + 0.1 * i, logit_dispersion: -2 }, answer_entropy: null, wrong_mode_share: null, unavailable: [], sample_output: '',
});

/** Rows whose estimates are set by hand: k1..k5 failing with the regimes below, k6 solved, k7 twice (two prompts). */
function handReport(): EvalReport {
  const r = buildEvalReport([input('k1', 1), input('k2', 2), input('k3', 3), input('k4', 4), input('k5', 5), input('k6', 6, 4), input('k7', 0), input('k7', 7)]);
  const set: Record<string, [string, string | null]> = { k1: ['steerable', 'dense_steer'], k2: ['steerable', 'sparse_steer'], k3: ['resample', 'retry'], k4: ['beyond_reach', 'stop'], k5: ['retry_insufficient', null] };
  return { ...r, rows: r.rows.map((row) => (set[row.test_key] ? { ...row, regime: set[row.test_key]![0] as never, route: set[row.test_key]![1] } : row)) };
}

describe('measured truth: the probe joined on test_key, against the estimate', () => {
  const probe = {
    path: 'probe.csv',
    format: 'probe-csv',
    records: [
      record('k1', 'steerable', 'steerable'),
      record('k2', 'resample', 'steerable'),
      record('k3', 'resample', 'resample'),
      record('k4', 'steerable', 'resample'),
      record('k5', 'steerable'),
      record('k6', 'resample'),
      record('k7', 'beyond_reach'),
      record('k9', 'resample'),
    ],
  };
  const report = EvalReportSchema.parse(addMeasurements(handReport(), { probe }));
  const m = report.measured!;

  it('joins a record to the one row with its test_key; ambiguous and foreign records are counted, not joined', () => {
    expect(m.probe).toMatchObject({ records: 8, matched: 6, unmatched: 1, ambiguous: 1, unmatched_examples: ['k9'], settings: 'abc', split: 'disjoint' });
    expect(report.rows.filter((r) => r.measured).map((r) => r.test_key).sort()).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(report.rows.find((r) => r.test_key === 'k1')!.measured).toEqual({ label: 'steerable', reprobe_label: 'steerable', eval_rescue: { retry: 0, dense_steer: 0.5 }, route_rescue: 0.5 });
    expect(report.rows.find((r) => r.test_key === 'k4')!.measured!.route_rescue).toBeNull(); // stop is not an operator
  });

  it('a record named by the row key\'s first 16 hex digits (what recoverability probe writes) joins that row', () => {
    const base = handReport();
    const withKeys = { ...base, rows: base.rows.map((r, i) => ({ ...r, row_key: `${String(i).padStart(16, 'a')}${'f'.repeat(48)}` })) };
    const k3 = withKeys.rows.find((r) => r.test_key === 'k3')!;
    const r = addMeasurements(withKeys, { probe: { path: 'p.csv', format: 'probe-csv', records: [record(k3.row_key!.slice(0, 16), 'resample'), record('k1', 'steerable')] } });
    expect(r.measured!.probe).toMatchObject({ matched: 2, unmatched: 0 });
    expect(r.rows.find((x) => x.test_key === 'k3')!.measured!.label).toBe('resample');
  });

  it('measured shares are over every probed row', () => {
    expect(m.regime_shares).toEqual({ n: 8, counts: { resample: 4, steerable: 3, beyond_reach: 1 }, shares: { resample: 0.5, steerable: 0.375, beyond_reach: 0.125 } });
  });

  it('agreement: hand-computed confusion, accuracy, balanced accuracy and the majority class (the solved row left out)', () => {
    const a = m.agreement!;
    expect(a.n).toBe(5);
    expect(a.estimate).toBe('paper_rule');
    expect(a.confusion).toEqual({
      resample: { resample: 1, steerable: 1, beyond_reach: 0, retry_insufficient: 0 },
      steerable: { resample: 0, steerable: 1, beyond_reach: 1, retry_insufficient: 1 },
      beyond_reach: { resample: 0, steerable: 0, beyond_reach: 0, retry_insufficient: 0 },
    });
    expect(a.accuracy).toBeCloseTo(2 / 5, 12); // k1 and k3
    expect(a.balanced_accuracy).toBeCloseTo((1 / 3 + 1 / 2) / 2, 12); // steerable 1 of 3, resample 1 of 2
    expect(a.majority).toEqual({ label: 'steerable', accuracy: 3 / 5, balanced_accuracy: 1 / 2 });
    expect(m.notes.join(' ')).toMatch(/1 of 8 probed rows are not rows of this eval.*1 probed rows passed every rollout.*1 probed rows match several rows/);
  });

  it('ceiling: label against the independent re-probe label', () => {
    // a = [S, R, R, S], b = [S, S, R, R]: agree 2/4; p_e = 0.5·0.5 + 0.5·0.5 = 0.5, so κ = 0; recall 1/2 each.
    expect(m.ceiling).toEqual({ n: 4, agreement: 0.5, kappa: 0, balanced_accuracy: 0.5, source: 'probe' });
  });

  it('a policy adds its evidence, and its recorded ceiling when the probe has no re-probed rows', () => {
    const policy = calibratePolicy(population({ rows: 60, seed: 5, reprobe: 0.3, rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? { ...uniformRates(0.05), dense_steer: 0.7 } : uniformRates(0.02) }) }), { path: 'p.csv', sha256: 'x' }, { resamples: 200 });
    const noReprobe = { ...probe, records: probe.records.map((r) => ({ ...r, reprobe_label: null })) };
    const r = EvalReportSchema.parse(addMeasurements(handReport(), { probe: noReprobe, policy: { path: 'policy.json', policy } }));
    expect(r.policy!.candidates.map((c) => c.name)).toEqual(policy.candidates.map((c) => c.name));
    expect(r.policy!.candidates.find((c) => c.kind === 'paper_rule')!.rescue_all).toEqual(policy.candidates.find((c) => c.kind === 'paper_rule')!.rescue_all);
    expect(r.measured!.ceiling).toEqual({ ...policy.regime_estimate.ceiling!, source: 'policy' });
  });
});

describe('rescue at budget from the journal', () => {
  const e = (problem_id: string, rollout: number, operator: string, attempt: number, success: boolean, phase?: string) => ({ problem_id, rollout, operator, attempt, success, phase, tokens: 10, prompt_tokens: 2 });

  it('uses the eval phase: first success within b attempts, per failed rollout', () => {
    const entries = [
      // label phase: ignored when an eval phase exists
      e('a', 0, 'retry', 0, true, 'label'),
      // eval phase: retry rescues a/0 at attempt 2 (3rd), never a/1; dense rescues both at the 1st
      e('a', 0, 'retry', 0, false, 'eval'), e('a', 0, 'retry', 1, false, 'eval'), e('a', 0, 'retry', 2, true, 'eval'),
      e('a', 1, 'retry', 0, false, 'eval'), e('a', 1, 'retry', 1, false, 'eval'), e('a', 1, 'retry', 2, false, 'eval'),
      e('a', 0, 'dense_steer', 0, true, 'eval'), e('a', 1, 'dense_steer', 0, true, 'eval'),
      e('a', 0, 'retry', 0, true, 'reprobe'),
    ];
    const b = budgetSection('j.jsonl', 'abc', entries);
    expect(b.phase).toBe('eval');
    expect(b.notes).toEqual([]);
    expect(b.curves).toEqual([
      { operator: 'dense_steer', units: 2, attempts: 2, tokens: 24, points: [{ budget: 1, rescue: 1 }, { budget: 2, rescue: 1 }, { budget: 3, rescue: 1 }] },
      { operator: 'retry', units: 2, attempts: 6, tokens: 72, points: [{ budget: 1, rescue: 0 }, { budget: 2, rescue: 0 }, { budget: 3, rescue: 0.5 }] },
    ]);
  });

  it('a journal without phases uses its attempts and says so; rescueAtBudget keeps its flat form', () => {
    const entries = [e('a', 0, 'retry', 0, false), e('a', 0, 'retry', 1, true)];
    const b = budgetSection('old.jsonl', null, entries);
    expect(b.phase).toBe('label');
    expect(b.notes[0]).toMatch(/written before the probe had phases/);
    expect(rescueAtBudget(entries)).toEqual([{ operator: 'retry', budget: 1, rescue: 0 }, { operator: 'retry', budget: 2, rescue: 1 }]);
  });
});

describe('recoverability.json version 3', () => {
  it('a reader of another version says which version it got and what to do', () => {
    const r = buildEvalReport([input('k1', 1)]);
    expect(EvalReportSchema.safeParse(r).success).toBe(true);
    const old = EvalReportSchema.safeParse({ ...r, version: 2 });
    expect(old.success).toBe(false);
    expect(old.error!.issues[0]).toMatchObject({ path: ['version'], message: 'this is recoverability.json version 2; this reader reads version 3: rerun "recoverability report" on the eval output' });
  });
});
