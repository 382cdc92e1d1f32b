import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnScale, featurePercentile, rowColumns, type RowColumnValues } from '../../src/report/viewColumns.js';

const failing: RowColumnValues = {
  n_rollouts: 12,
  n_passed: 3,
  pass_rate: 0.25,
  pass_at: { 1: 0.25, 3: 0.6, 5: 0.8, 10: 0.99 },
  pass_hat: { 1: 0.25, 3: 0.01, 5: 0.001, 10: 0 },
  ancestor_pass_rate: 0.75,
  spread: 0.2,
  concentration: 1.5,
  logit_dispersion: -2.5,
  answer_entropy: 0.7,
  wrong_mode_share: 0.5,
  mean_token_entropy: 0.02,
  mean_logprob: -0.03,
  min_window_confidence: 36.7,
  dispersion_at_min_confidence: -2.3,
  retry_rescue_est: 0.6,
  z: { spread: -1, concentration: 1.4, logit_dispersion: 0.2 },
  regime: 'steerable',
  route: 'sparse_steer',
  precision: null,
};
const reference = { spread: [0.1, 0.2, 0.3, 0.4], concentration: [1, 1.2, 1.5, 2], logit_dispersion: [-4, -3, -2, -1] };

/** promptfoo 0.121.20 shows the first 10 pills of a row (sorted by name) and hides the rest behind "Show more…". */
const PILLS_SHOWN = 10;

describe('featurePercentile (share of the reference at or below, ties half-way)', () => {
  it('matches hand-computed ranks', () => {
    expect(featurePercentile([1, 2, 3, 4], 3)).toBe(0.75); // 3 of 4 at or below
    expect(featurePercentile([1, 2, 3, 4], 2.5)).toBe(0.5); // 2 of 4 below, none equal
    expect(featurePercentile([1, 2, 2, 3], 2)).toBe(0.625); // ranks 2 and 3 of 4, averaged: 2.5 / 4
    expect(featurePercentile([1, 2, 3, 4], 0)).toBe(0);
    expect(featurePercentile([1, 2, 3, 4], 9)).toBe(1);
    expect(featurePercentile([], 1)).toBeNull();
    expect(featurePercentile([1], Number.NaN)).toBeNull();
  });
});

describe('rowColumns: what a row shows in promptfoo view', () => {
  it('by default, with a reference: the few that matter, each a share or an indicator', () => {
    expect(rowColumns(failing, { reference })).toEqual({
      pass_rate: 0.25,
      pass_at_10: 0.99, // the largest configured k with 1 < k ≤ K
      ancestor_pass_rate: 0.75,
      spread: 0.2,
      concentration_pctl: 0.75, // 1.5 is the 3rd of 4 reference values
      logit_dispersion_pctl: 0.5, // −2.5 lies above 2 of 4
      regime_steerable: 1,
      route_sparse_steer: 1,
    });
  });

  it('without a reference the unbounded features carry their unit in their name', () => {
    const c = rowColumns(failing);
    expect(c.concentration_log10).toBe(1.5);
    expect(c.logit_dispersion_log10).toBe(-2.5);
    expect(Object.keys(c).some((k) => k.endsWith('_pctl') || k === 'concentration' || k === 'logit_dispersion')).toBe(false);
  });

  it('a learned policy adds its precision; a solved row shows its pass rates and its regime only', () => {
    expect(rowColumns({ ...failing, regime: 'resample', route: 'retry', precision: 0.8 }, { reference }).regime_precision).toBe(0.8);
    const solved = rowColumns(
      { ...failing, n_passed: 12, pass_rate: 1, pass_at: { 1: 1, 3: 1 }, pass_hat: { 1: 1, 3: 1 }, spread: null, concentration: null, logit_dispersion: null, z: null, regime: 'solved', route: null },
      { reference },
    );
    expect(solved).toEqual({ pass_rate: 1, pass_at_3: 1, ancestor_pass_rate: 0.75, regime_solved: 1 });
  });

  it('columns: all adds every signal, each named with its unit, and the prefix goes on every name', () => {
    const c = rowColumns(failing, { set: 'all', reference, prefix: 'rc_' });
    for (const name of [
      'rc_pass_at_3', 'rc_pass_hat_10', 'rc_spread_pctl', 'rc_concentration_log10', 'rc_logit_dispersion_log10', 'rc_z_concentration',
      'rc_answer_entropy_nats', 'rc_wrong_mode_share', 'rc_mean_token_entropy_nats', 'rc_mean_logprob_nats', 'rc_min_window_confidence_nats',
      'rc_dispersion_at_min_confidence_log10', 'rc_retry_rescue_est',
    ]) {
      expect(c, name).toHaveProperty(name);
    }
    expect(Object.keys(c).every((k) => k.startsWith('rc_'))).toBe(true);
  });

  it('property: every default column is a share or an indicator in [0, 1], and they fit the pills promptfoo shows', () => {
    const share = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null });
    const any = fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null });
    fc.assert(
      fc.property(
        fc.record({ n: fc.integer({ min: 1, max: 64 }), pr: share, ap: share, sp: share, co: any, ld: any, regime: fc.constantFrom('solved', 'resample', 'steerable', 'beyond_reach', 'retry_insufficient'), route: fc.option(fc.constantFrom('retry', 'stop', 'dense_steer', 'local_temp'), { nil: null }), precision: share, withRef: fc.boolean() }),
        (x) => {
          const ks = [1, 3, 5, 10].filter((k) => k <= x.n);
          const v: RowColumnValues = {
            ...failing,
            n_rollouts: x.n,
            pass_rate: x.pr,
            pass_at: Object.fromEntries(ks.map((k) => [k, x.pr ?? 0])),
            pass_hat: Object.fromEntries(ks.map((k) => [k, x.pr ?? 0])),
            ancestor_pass_rate: x.ap,
            spread: x.sp,
            concentration: x.co,
            logit_dispersion: x.ld,
            regime: x.regime,
            route: x.route,
            precision: x.precision,
          };
          const c = rowColumns(v, x.withRef ? { reference } : {});
          expect(Object.keys(c).length).toBeLessThanOrEqual(PILLS_SHOWN - 1); // room for one more column of the user's own
          for (const [name, value] of Object.entries(c)) {
            if (name.endsWith('_log10')) continue; // only without a reference, and named with its unit
            expect(['share', 'indicator']).toContain(columnScale(name));
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });

  it('columnScale names every column gradeRollouts writes', () => {
    expect(columnScale('pass_at_10')).toBe('share');
    expect(columnScale('concentration_pctl')).toBe('share');
    expect(columnScale('regime_steerable')).toBe('indicator');
    expect(columnScale('route_stop')).toBe('indicator');
    expect(columnScale('regime_precision')).toBe('share');
    expect(columnScale('concentration_log10')).toBe('number');
    expect(columnScale('z_spread')).toBe('number');
    // The repair's columns: rescued averages to a rescue rate; attempts and tokens are counts.
    expect(columnScale('rescued')).toBe('share');
    expect(columnScale('repair_tokens')).toBe('number');
  });
});
