import { errorFunction } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { probit } from 'simple-statistics';
import { chiSquareHomogeneity, chiSquareSurvival, classifierTwoSampleTest, differenceInterval, FEATURE_NAMES, wilsonInterval } from '../../src/core/index.js';
import { loadProblemRecords } from '../../src/io/loadProblemRecords.js';

describe('chi-square', () => {
  it('survival function: closed forms for df 1 and 2, and table critical values', () => {
    for (const x of [0.1, 1, 3, 10, 40]) {
      expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
      expect(chiSquareSurvival(x, 1)).toBeCloseTo(1 - errorFunction(Math.sqrt(x / 2)), 6);
    }
    // 0.95 quantiles from the standard table.
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(7.814728, 3)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(18.307038, 10)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });

  it('homogeneity by hand: [[10, 20], [20, 10]]', () => {
    // Expected 15 everywhere: χ² = 4 · 25/15 = 20/3, df 1.
    const r = chiSquareHomogeneity([[10, 20], [20, 10]]);
    expect(r.statistic).toBeCloseTo(20 / 3, 12);
    expect(r.df).toBe(1);
    expect(r.p).toBeCloseTo(chiSquareSurvival(20 / 3, 1), 12);
  });

  it('drops empty categories; nothing to test gives p = 1', () => {
    expect(chiSquareHomogeneity([[5, 0, 5], [5, 0, 5]])).toEqual({ statistic: 0, df: 1, p: 1 });
    expect(chiSquareHomogeneity([[5, 0], [7, 0]])).toEqual({ statistic: 0, df: 0, p: 1 });
  });
});

describe('proportion intervals (by hand, z = Φ⁻¹(0.975))', () => {
  const z2 = probit(0.975) ** 2;

  it('Wilson: 0/n gives [0, z²/(n + z²)]; x/n mirrors (n − x)/n', () => {
    const [l, u] = wilsonInterval(0, 10);
    expect(l).toBe(0);
    expect(u).toBeCloseTo(z2 / (10 + z2), 12);
    const [l7, u7] = wilsonInterval(7, 20);
    const [l13, u13] = wilsonInterval(13, 20);
    expect(l7).toBeCloseTo(1 - u13, 12);
    expect(u7).toBeCloseTo(1 - l13, 12);
    // Centre (p + z²/2n) / (1 + z²/n) for 5/10 is 0.5 exactly.
    const [a, b] = wilsonInterval(5, 10);
    expect((a + b) / 2).toBeCloseTo(0.5, 12);
  });

  it('Newcombe method 10: 0/10 → 10/10 gives d = 1 and [1 − √2·u, 1] with u = z²/(10 + z²)', () => {
    const u = z2 / (10 + z2);
    const { diff, ci } = differenceInterval(0, 10, 10, 10);
    expect(diff).toBe(1);
    expect(ci[0]).toBeCloseTo(1 - Math.SQRT2 * u, 12);
    expect(ci[1]).toBeCloseTo(1, 12);
  });

  it('equal proportions give an interval around 0', () => {
    const { diff, ci } = differenceInterval(30, 100, 30, 100);
    expect(diff).toBe(0);
    expect(ci[0]).toBeCloseTo(-ci[1], 12);
  });
});

describe('classifier two-sample test', () => {
  const cloud = (n: number, shift: number, seed: number) => {
    let s = seed;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    return Array.from({ length: n }, () => [r() + shift, r(), r()]);
  };

  it('tells shifted clouds apart and not identical ones', () => {
    const apart = classifierTwoSampleTest(cloud(60, 3, 1), cloud(60, 0, 2), { permutations: 99 })!;
    expect(apart.accuracy).toBeGreaterThan(0.95);
    expect(apart.p).toBeLessThan(0.05);
    const same = classifierTwoSampleTest(cloud(60, 0, 3), cloud(60, 0, 4), { permutations: 99 })!;
    expect(same.p).toBeGreaterThan(0.05);
    expect(classifierTwoSampleTest([[1, 2, 3]], cloud(5, 0, 1))).toBeNull();
  });

  it('is deterministic for a seed', () => {
    expect(classifierTwoSampleTest(cloud(30, 1, 1), cloud(30, 0, 2), { seed: 4 })).toEqual(classifierTwoSampleTest(cloud(30, 1, 1), cloud(30, 0, 2), { seed: 4 }));
  });

  it("on the paper's data the features separate GRPO from SFT failures of the same task", async () => {
    const recs = await loadProblemRecords('data/failure_profiles.csv');
    const vec = (cell: string) => recs.filter((r) => r.cell === cell).map((r) => FEATURE_NAMES.map((f) => r.features[f] as number));
    for (const [a, b] of [['grpo1p7b|cruxeval', 'sft1p7b|cruxeval'], ['grpo1p7b|gpqa', 'sft1p7b|gpqa']] as const) {
      const t = classifierTwoSampleTest(vec(a), vec(b), { permutations: 99 })!;
      expect(t.accuracy, `${a} vs ${b}`).toBeGreaterThan(0.95);
      expect(t.majority).toBeLessThan(0.55);
      expect(t.p).toBeLessThan(0.05);
    }
  });
});

import { rescueAtBudget } from '../../src/core/index.js';

describe('rescue at budget', () => {
  it('counts a unit rescued from its first successful attempt on (by hand)', () => {
    const e = (rollout: number, attempt: number, success: boolean) => ({ problem_id: 'p', rollout, operator: 'retry', attempt, success });
    // rollout 0: success at attempt 0; rollout 1: fail, success at 1; rollout 2: three failures.
    const curve = rescueAtBudget([e(0, 0, true), e(1, 0, false), e(1, 1, true), e(2, 0, false), e(2, 1, false), e(2, 2, false)]);
    expect(curve).toEqual([
      { operator: 'retry', budget: 1, rescue: 1 / 3 },
      { operator: 'retry', budget: 2, rescue: 2 / 3 },
      { operator: 'retry', budget: 3, rescue: 2 / 3 },
    ]);
  });
});
