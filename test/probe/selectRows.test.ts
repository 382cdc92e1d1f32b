import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelCeiling, settingsFingerprint } from '../../src/probe/measureRows.js';
import { passRateBand, reprobeRows, rowStratum, sampleRows } from '../../src/probe/selectRows.js';

const row = (id: number, regime: string, passRate: number) => ({ id, estimatedRegime: regime, signals: { pass_rate: passRate } });

describe('strata: estimated regime × pass-rate band', () => {
  it('bands at 0, 1/4 and 1/2 (boundaries belong to the lower band)', () => {
    expect([0, 0.01, 0.25, 0.2501, 0.5, 0.51, 11 / 12].map(passRateBand)).toEqual(['none', 'low', 'low', 'mid', 'mid', 'high', 'high']);
    expect(passRateBand(null)).toBe('none');
    expect(rowStratum(row(0, 'steerable', 1 / 12))).toBe('steerable×low');
  });
});

describe('sampleRows: a budget is a ceiling, every stratum is represented while it allows', () => {
  const rows = [...Array.from({ length: 30 }, (_, i) => row(i, 'resample', 0.75)), ...Array.from({ length: 6 }, (_, i) => row(30 + i, 'steerable', 0)), row(36, 'beyond_reach', 0)];
  it('3 strata, budget 5: the rare stratum gets its row, the rest goes by size', () => {
    const s = sampleRows(rows, rowStratum, 5, 1);
    expect(s).toHaveLength(5);
    expect(s.filter((r) => r.estimatedRegime === 'beyond_reach')).toHaveLength(1);
    // 2 left after one per stratum: by largest remainder over the room left (29 and 5) → both to resample.
    expect(s.filter((r) => r.estimatedRegime === 'resample')).toHaveLength(3);
    expect(s.filter((r) => r.estimatedRegime === 'steerable')).toHaveLength(1);
    expect(s.map((r) => r.id)).toEqual([...s.map((r) => r.id)].sort((a, b) => a - b)); // the rows' order
  });
  it('no budget, or a budget above the rows: every row', () => {
    expect(sampleRows(rows, rowStratum, null, 1)).toEqual(rows);
    expect(sampleRows(rows, rowStratum, 100, 1)).toEqual(rows);
  });
  it('property: min(budget, n) distinct rows of the input, the same for a seed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom(0, 0.2, 0.4, 0.9)), { maxLength: 40 }), fc.integer({ min: 1, max: 50 }), fc.integer(), (spec, budget, seed) => {
        const rs = spec.map(([g, p], i) => row(i, g, p));
        const s = sampleRows(rs, rowStratum, budget, seed);
        expect(s).toHaveLength(Math.min(budget, rs.length));
        expect(new Set(s.map((r) => r.id)).size).toBe(s.length);
        expect(sampleRows(rs, rowStratum, budget, seed)).toEqual(s);
      }),
    );
  });
  it('the re-probe subset: round(share × n), at least 2, drawn apart from the budget sample', () => {
    expect(reprobeRows(rows, rowStratum, 0.25, 3)).toHaveLength(Math.round(0.25 * 37));
    expect(reprobeRows(rows.slice(0, 4), rowStratum, 0.1, 3)).toHaveLength(2);
    expect(reprobeRows(rows, rowStratum, 0, 3)).toEqual([]);
    expect(() => reprobeRows(rows, rowStratum, 1.5, 3)).toThrow(/from 0 to 1/);
  });
});

describe('labelCeiling and the settings fingerprint', () => {
  it('agreement, Cohen κ and balanced accuracy, by hand', () => {
    // label vs re-probe: S/S, S/R, R/R, B/B, B/R  → agreement 3/5.
    const c = labelCeiling([
      { label: 'steerable', reprobe: 'steerable' },
      { label: 'steerable', reprobe: 'resample' },
      { label: 'resample', reprobe: 'resample' },
      { label: 'beyond_reach', reprobe: 'beyond_reach' },
      { label: 'beyond_reach', reprobe: 'resample' },
    ])!;
    expect(c.n).toBe(5);
    expect(c.agreement).toBeCloseTo(0.6, 12);
    // p_e = (2/5)(1/5) [S] + (1/5)(3/5) [R] + (2/5)(1/5) [B] = 7/25; κ = (0.6 − 0.28) / 0.72.
    expect(c.kappa!).toBeCloseTo((0.6 - 7 / 25) / (1 - 7 / 25), 12);
    // recall: S 1/2, R 1/1, B 1/2 → 2/3.
    expect(c.balanced_accuracy).toBeCloseTo(2 / 3, 12);
    expect(labelCeiling([])).toBeNull();
    expect(labelCeiling([{ label: 'resample', reprobe: 'resample' }])!.kappa).toBeNull(); // undefined, not NaN
  });
  it('a fingerprint changes with any setting and not otherwise', () => {
    const a = settingsFingerprint({ rows: ['x', 'y'], attempts: 3 });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(settingsFingerprint({ rows: ['x', 'y'], attempts: 3 })).toBe(a);
    expect(settingsFingerprint({ rows: ['x'], attempts: 3 })).not.toBe(a);
    expect(settingsFingerprint({ rows: ['x', 'y'], attempts: 2 })).not.toBe(a);
  });
});
