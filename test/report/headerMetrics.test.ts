import { describe, expect, it } from 'vitest';
import { fixHeaderMetrics } from '../../src/report/headerMetrics.js';

describe('fixHeaderMetrics: promptfoo view\'s column header reads right', () => {
  it('shares stay sums (shown as the mean in %), indicators become shares of graded rows, numbers plain means', () => {
    // 4 graded rows: pass rates 0, 0.5, 1, 1; 3 of them have a concentration_log10 (1, 2, 3); 1 steerable → dense_steer.
    const metrics = {
      namedScores: { pass_rate: 2.5, concentration_log10: 6, regime_steerable: 1, route_dense_steer: 1, other_metric: 0.7 },
      namedScoresCount: { pass_rate: 4, concentration_log10: 3, regime_steerable: 1, route_dense_steer: 1, other_metric: 4 },
      namedScoreWeights: { pass_rate: 4, concentration_log10: 3, regime_steerable: 1, route_dense_steer: 1, other_metric: 4 },
    };
    fixHeaderMetrics(metrics, { gradedRows: 4, ours: new Set(['pass_rate', 'concentration_log10', 'regime_steerable', 'route_dense_steer']) });
    // The view shows score / weight × 100 %, or the plain score when the weight is 0.
    expect(metrics.namedScores.pass_rate / metrics.namedScoreWeights.pass_rate).toBe(0.625);
    expect(metrics.namedScores.regime_steerable / metrics.namedScoreWeights.regime_steerable).toBe(0.25);
    expect(metrics.namedScores.route_dense_steer / metrics.namedScoresCount.route_dense_steer).toBe(0.25);
    expect(metrics.namedScoreWeights.concentration_log10).toBe(0);
    expect(metrics.namedScores.concentration_log10).toBe(2);
    expect(metrics.namedScoresCount.concentration_log10).toBe(3); // how many rows had it, kept
    expect(metrics.namedScores.other_metric).toBe(0.7); // not ours: untouched
    expect(metrics.namedScoreWeights.other_metric).toBe(4);
  });

  it('is idempotent and honours the prefix', () => {
    const metrics: { namedScores: Record<string, number>; namedScoresCount: Record<string, number>; namedScoreWeights?: Record<string, number> } = {
      namedScores: { rc_z_spread: -3, rc_regime_resample: 2 },
      namedScoresCount: { rc_z_spread: 2, rc_regime_resample: 2 },
    };
    const once = fixHeaderMetrics(metrics, { gradedRows: 5, ours: new Set(['z_spread', 'regime_resample']), prefix: 'rc_' });
    const twice = fixHeaderMetrics(structuredClone(once), { gradedRows: 5, ours: new Set(['z_spread', 'regime_resample']), prefix: 'rc_' });
    expect(twice).toEqual(once);
    expect(once.namedScores.rc_z_spread).toBe(-1.5);
    expect(once.namedScoreWeights!.rc_regime_resample).toBe(5);
  });
});
