import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_POLICY, eq2Label, route, RoutingPolicySchema, zScores, type Features } from '../../src/core/index.js';

const rates = (retry: number, others: Partial<Record<string, number>> = {}) => ({
  retry,
  sparse_steer: 0,
  sparse_steer_random: 0,
  local_temp: 0,
  dense_steer: 0,
  ...others,
});

describe('Eq. 2 labels', () => {
  it('steerable at exactly the thresholds (float-safe), not just below', () => {
    // 0.30 − 0.25 < 0.05 in floating point; the tolerance counts it as met.
    expect(0.3 - 0.25 < 0.05).toBe(true);
    expect(eq2Label(rates(0.25, { sparse_steer: 0.3 }))).toBe('steerable');
    expect(eq2Label(rates(0.5, { dense_steer: 0.55 }))).toBe('steerable'); // 1 − r_retry = 0.5 exactly
    expect(eq2Label(rates(0.25, { sparse_steer: 0.2999 }))).toBe('resample');
    expect(eq2Label(rates(0.5001, { dense_steer: 0.9 }))).toBe('resample'); // retry already gets there
  });

  it('beyond reach when no intervention ever rescues, whatever retry does', () => {
    expect(eq2Label(rates(0))).toBe('beyond_reach');
    expect(eq2Label(rates(0.1))).toBe('beyond_reach');
    expect(eq2Label(rates(0, { local_temp: 0.01 }))).toBe('resample');
  });

  it('thresholds are configurable', () => {
    expect(eq2Label(rates(0.25, { sparse_steer: 0.3 }), { minGain: 0.1 })).toBe('resample');
    expect(eq2Label(rates(0.6, { sparse_steer: 0.9 }), { minRetryGap: 0.3 })).toBe('steerable');
  });

  it('clear errors without retry or without interventions', () => {
    expect(() => eq2Label({ sparse_steer: 0.5 })).toThrow(/retry/);
    expect(() => eq2Label({ retry: 0.5 })).toThrow(/intervention/);
  });
});

describe('z-scores', () => {
  it('population z-scores by hand', () => {
    const z = zScores([1, 2, 3]);
    const sd = Math.sqrt(2 / 3);
    expect(z).toEqual([-1 / sd, 0, 1 / sd].map((x) => expect.closeTo(x, 12)));
  });

  it('a constant column is all zeros, one value is zero, empty is empty', () => {
    expect(zScores([4, 4, 4])).toEqual([0, 0, 0]);
    expect(zScores([7])).toEqual([0]);
    expect(zScores([])).toEqual([]);
  });

  it('mean 0 and population SD 1 otherwise (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 50 }), (xs) => {
        fc.pre(Math.max(...xs) - Math.min(...xs) > 1e-6);
        const z = zScores(xs);
        const m = z.reduce((a, b) => a + b, 0) / z.length;
        const v = z.reduce((a, b) => a + (b - m) ** 2, 0) / z.length;
        expect(m).toBeCloseTo(0, 9);
        expect(v).toBeCloseTo(1, 9);
      }),
      { seed: 11 },
    );
  });

  it('rejects non-finite values, naming the index', () => {
    expect(() => zScores([1, NaN])).toThrow(/value #1 is NaN/);
  });
});

const f = (spread: number, concentration: number, logit_dispersion: number): { features: Features } => ({
  features: { spread, concentration, logit_dispersion },
});

describe('routing rule', () => {
  it('routes to the operator of the largest z and returns the z-scores', () => {
    // Columns: spread [3,0,0,1] concentration [0,3,0,1] dispersion [0,0,3,1]: each mean 1, sd √1.5.
    const d = route([f(3, 0, 0), f(0, 3, 0), f(0, 0, 3), f(1, 1, 1)]);
    expect(d.map((x) => x.operator)).toEqual(['dense_steer', 'sparse_steer', 'local_temp', 'sparse_steer_random']);
    expect(d[0]!.z.spread).toBeCloseTo(2 / Math.sqrt(1.5), 12);
    expect(d[0]!.reason).toMatch(/spread z=\+1\.63 is the largest → dense_steer/);
  });

  it('falls back when no feature stands out (largest z ≤ 0)', () => {
    const d = route([f(1, 1, 1), f(1, 1, 1)]);
    expect(d.every((x) => x.operator === 'sparse_steer_random' && x.feature === null)).toBe(true);
    expect(d[0]!.reason).toMatch(/no feature stands out/);
  });

  it('fallback can be disabled or moved; ties break by mapping order', () => {
    const policy = RoutingPolicySchema.parse({ fallback: null });
    expect(route([f(1, 1, 1), f(1, 1, 1)], policy).map((x) => x.operator)).toEqual(['dense_steer', 'dense_steer']);
    const strict = RoutingPolicySchema.parse({ fallbackBelow: 5 });
    expect(route([f(3, 0, 0), f(0, 0, 0)], strict)[0]!.operator).toBe('sparse_steer_random');
  });

  it('custom mappings', () => {
    const policy = RoutingPolicySchema.parse({ mapping: { concentration: 'sparse_steer_m' } });
    expect(route([f(9, 2, 0), f(0, 1, 0)], policy).map((x) => x.operator)).toEqual(['sparse_steer_m', 'sparse_steer_random']);
  });

  it('z within groups differs from pooled z', () => {
    const items = [f(1, 0, 0), f(0, 1, 0), f(10, 0, 0), f(10, 5, 0)];
    const cells = ['a', 'a', 'b', 'b'];
    const pooled = route(items).map((d) => d.operator);
    const within = route(items, DEFAULT_ROUTING_POLICY, (i) => cells[i]!).map((d) => d.operator);
    // In cell b spread is constant (z = 0) and item 2's concentration is below the cell mean.
    expect(within).toEqual(['dense_steer', 'sparse_steer', 'sparse_steer_random', 'sparse_steer']);
    expect(pooled).not.toEqual(within);
  });

  it('a missing feature is a clear error naming item and feature', () => {
    expect(() => route([{ features: { spread: null, concentration: 1, logit_dispersion: 1 } }])).toThrow(/item #0: feature "spread" is null/);
  });

  it('policy validation names the field', () => {
    expect(RoutingPolicySchema.safeParse({ mapping: { spreadd: 'x' } }).success).toBe(false);
    expect(RoutingPolicySchema.safeParse({ fallback: 'Not Snake' }).success).toBe(false);
  });
});
