import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stratifiedSample } from '../../src/core/sampling/stratifiedSample.js';

describe('stratifiedSample', () => {
  it('allocates by hand-computed largest remainder after one per stratum', () => {
    // 6 a, 3 b, 1 c; budget 5: one each (2 left), room a 5, b 2, c 0 → exact 10/7 = 1.43, 4/7 = 0.57:
    // floors a 1, b 0, one left to the larger remainder (b 0.57 > a 0.43) → a 2, b 2, c 1.
    const strata = ['a', 'a', 'b', 'a', 'c', 'a', 'b', 'a', 'b', 'a'];
    const picked = stratifiedSample(strata, 5, 7);
    const count = (s: string) => picked.filter((i) => strata[i] === s).length;
    expect([count('a'), count('b'), count('c')]).toEqual([2, 2, 1]);
  });

  it('returns everything when the budget covers the population, nothing for 0, and refuses nonsense', () => {
    expect(stratifiedSample(['x', 'y'], 5, 1)).toEqual([0, 1]);
    expect(stratifiedSample(['x', 'y'], 0, 1)).toEqual([]);
    expect(() => stratifiedSample(['x'], -1, 1)).toThrow(/budget/);
    expect(() => stratifiedSample(['x'], 1.5, 1)).toThrow(/budget/);
  });

  it('properties: exact size, distinct indices, every stratum while budget allows, deterministic, order-free', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('r', 's', 'b', 'u'), { minLength: 1, maxLength: 60 }), fc.nat(70), fc.integer(), (strata, budget, seed) => {
        const picked = stratifiedSample(strata, budget, seed);
        expect(picked).toHaveLength(Math.min(budget, strata.length));
        expect(new Set(picked).size).toBe(picked.length);
        expect(stratifiedSample(strata, budget, seed)).toEqual(picked);
        const kinds = new Set(strata);
        if (budget >= kinds.size) expect(new Set(picked.map((i) => strata[i]))).toEqual(kinds);
        // Proportionality: no stratum is more than one item away from its proportional share
        // beyond the one-per-stratum floor.
        for (const k of kinds) {
          const size = strata.filter((s) => s === k).length;
          const got = picked.filter((i) => strata[i] === k).length;
          expect(got).toBeLessThanOrEqual(size);
          expect(got).toBeLessThanOrEqual(Math.ceil((Math.min(budget, strata.length) * size) / strata.length) + 1);
        }
      }),
    );
  });
});
