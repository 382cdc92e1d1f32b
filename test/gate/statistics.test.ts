import fc from 'fast-check';
import { errorFunction, mean, standardDeviation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity, chiSquareSurvival, classifierTwoSampleTest, differenceInterval, FEATURE_NAMES, featureScale, seededRandom, wilsonInterval, zOnScale, zScores } from '../../src/core/index.js';
import { pairedTestsNeeded, proportionTestsNeeded } from '../../src/core/gate/testsNeeded.js';
import { balancedAccuracyOf } from '../../src/core/stats/nearestCentroidCV.js';
import { normalQuantile } from '../../src/core/stats/normalQuantile.js';
import { scaledMoments, standardize } from '../../src/core/stats/scaledMoments.js';
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

describe('the normal quantile (AS 241)', () => {
  it('matches table values to 1e-12 (simple-statistics probit is off by 3e-3 at 0.975)', () => {
    // Φ⁻¹ from standard tables (R qnorm to 16 digits).
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(() => normalQuantile(1.5)).toThrow(/0 ≤ p ≤ 1/);
  });

  it('is the inverse of Φ (property, through erf)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (p) => {
        const x = normalQuantile(p);
        // Φ(x) = (1 + erf(x/√2)) / 2; simple-statistics' erf is good to ~1e-7.
        expect((1 + errorFunction(x / Math.SQRT2)) / 2).toBeCloseTo(p, 6);
      }),
    );
  });
});

describe('moments that cannot overflow', () => {
  it('±1e308 give finite moments where Σx overflows', () => {
    expect(Number.isFinite(mean([1e308, 1e308]))).toBe(false); // the textbook sum overflows, for contrast
    expect(scaledMoments([1e308, -1e308])).toEqual({ mean: 0, sd: 1e308, scale: 1e308 });
    expect(scaledMoments([1e308, 1e308, 1e308]).mean).toBe(1e308);
    expect(scaledMoments([])).toMatchObject({ mean: NaN });
    expect(scaledMoments([0, 0])).toEqual({ mean: 0, sd: 0, scale: 0 });
    expect(() => scaledMoments([1, Infinity])).toThrow(/value #1 is Infinity/);
  });

  it('zScores of [1e308, −1e308, 0] are finite and keep their order; every z was 0 before', () => {
    const z = zScores([1e308, -1e308, 0]);
    // mean 0, population SD 1e308·√(2/3): z = ±√(3/2), 0.
    expect(z[0]).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(z[1]).toBeCloseTo(-Math.sqrt(1.5), 12);
    expect(z[2]).toBe(0);
  });

  it('agrees with the textbook formulas on ordinary values (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 40 }), (xs) => {
        const m = scaledMoments(xs);
        expect(m.mean).toBeCloseTo(mean(xs), 6);
        expect(m.sd).toBeCloseTo(standardDeviation(xs), 6);
      }),
    );
  });

  it('a scale from ±1e308 features z-scores without overflow; a z beyond the largest double is an error', () => {
    const scale = featureScale([
      { features: { spread: 1e308, concentration: 1, logit_dispersion: -1e308 } },
      { features: { spread: -1e308, concentration: 2, logit_dispersion: 1e308 } },
    ])!;
    expect(scale.mean.spread).toBe(0);
    expect(scale.sd.spread).toBe(1e308);
    expect(zOnScale({ spread: 1e308, concentration: 2, logit_dispersion: 0 }, scale)).toEqual({ spread: 1, concentration: 1, logit_dispersion: 0 });
    expect(standardize(5, 5, 0)).toBe(0);
    expect(() => standardize(1e308, -1e308, 1e-300)).toThrow(/beyond the largest number/);
  });
});

describe('tests needed to decide at the observed effect', () => {
  const z = normalQuantile(0.975);
  it('two proportions: n = z²(p₁q₁ + p₂q₂)/d², by hand for 4 → 7 of 40 (10% → 17.5%)', () => {
    // z² (0.1·0.9 + 0.175·0.825) / 0.075² = 3.8415 · 0.234375 / 0.005625 = 160.06 → 161
    expect(proportionTestsNeeded(0.1, 0.175)).toEqual({ n: Math.ceil((z * z * 0.234375) / 0.005625), formula: 'n = z²(p₁q₁ + p₂q₂)/d²' });
    expect(proportionTestsNeeded(0.1, 0.175)!.n).toBe(161);
    expect(proportionTestsNeeded(0.3, 0.3)).toBeNull();
  });

  it('paired: n = (z·s_d/d)², by hand', () => {
    expect(pairedTestsNeeded(-0.075, 0.3)!.n).toBe(Math.ceil(((z * 0.3) / 0.075) ** 2)); // 61.46 → 62
    expect(pairedTestsNeeded(-0.075, 0.3)!.n).toBe(62);
    expect(pairedTestsNeeded(0, 0.3)).toBeNull();
  });
});

describe('proportion intervals (by hand, z = Φ⁻¹(0.975))', () => {
  const z2 = normalQuantile(0.975) ** 2;

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
    expect(apart.balancedAccuracy).toBeGreaterThan(0.95);
    expect(apart.p).toBeLessThan(0.05);
    const same = classifierTwoSampleTest(cloud(60, 0, 3), cloud(60, 0, 4), { permutations: 99 })!;
    expect(same.p).toBeGreaterThan(0.05);
    expect(classifierTwoSampleTest([[1, 2, 3]], cloud(5, 0, 1))).toBeNull();
  });

  it('balanced accuracy by hand: the mean of the per-class recalls', () => {
    expect(balancedAccuracyOf([0, 0, 0, 1], [0, 0, 1, 1])).toBe(0.75); // (2/2 + 1/2) / 2
    expect(balancedAccuracyOf([0, 0, 0, 0, 0], [0, 0, 0, 0, 1])).toBe(0.5); // majority guess: chance, not 80%
  });

  it('under no difference at 50 vs 170, balanced accuracy sits at chance while plain accuracy sits far below the majority share', () => {
    const r = seededRandom(11);
    const draw = (n: number) => Array.from({ length: n }, () => [r.uniform(), r.uniform(), r.uniform()]);
    const runs = Array.from({ length: 30 }, (_, k) => classifierTwoSampleTest(draw(50), draw(170), { permutations: 19, seed: k })!);
    const balanced = mean(runs.map((t) => t.balancedAccuracy));
    const plain = mean(runs.map((t) => t.accuracy));
    expect(runs[0]!.majority).toBeCloseTo(170 / 220, 12);
    expect(Math.abs(balanced - 0.5)).toBeLessThan(0.05);
    // The nearest-centroid rule guesses either sample about half the time: plain accuracy ≈ 0.5, ~26 points under the 77% majority.
    expect(runs[0]!.majority - plain).toBeGreaterThan(0.15);
    // And the permutation p-value is not fooled: under the null it rejects about α of the time, not always.
    expect(runs.filter((t) => t.p < 0.05).length).toBeLessThan(6);
  });

  it('thinned samples state both sizes', () => {
    const t = classifierTwoSampleTest(cloud(30, 1, 1), cloud(12, 0, 2), { maxPerSample: 10, permutations: 19 })!;
    expect([t.nA, t.totalA, t.nB, t.totalB]).toEqual([10, 30, 10, 12]);
  });

  it('thinning does not alias with a periodic test order: two evals of the same 20 failures in shifted order are not told apart', () => {
    // A suite's failures often repeat in blocks (prompts × tests, repeats, categories in order);
    // an even stride of 12 over a period of 20 would keep 5 of the 20 failures in one eval and
    // the other 15's complement in the other, and "tell apart" two identical populations.
    const r = seededRandom(5);
    const points = Array.from({ length: 20 }, () => [r.uniform(), r.uniform(), r.uniform()]);
    const a = Array.from({ length: 6000 }, (_, i) => points[i % 20]!);
    const b = Array.from({ length: 6000 }, (_, i) => points[(i + 10) % 20]!);
    const t = classifierTwoSampleTest(a, b, { maxPerSample: 500, permutations: 99 })!;
    expect([t.nA, t.nB]).toEqual([500, 500]);
    expect(t.balancedAccuracy).toBeLessThan(0.6);
    expect(t.p).toBeGreaterThan(0.05);
  });

  it('is deterministic for a seed', () => {
    expect(classifierTwoSampleTest(cloud(30, 1, 1), cloud(30, 0, 2), { seed: 4 })).toEqual(classifierTwoSampleTest(cloud(30, 1, 1), cloud(30, 0, 2), { seed: 4 }));
  });

  it("on the paper's data the features separate GRPO from SFT failures of the same task", async () => {
    const recs = await loadProblemRecords('data/failure_profiles.csv');
    const vec = (cell: string) => recs.filter((r) => r.cell === cell).map((r) => FEATURE_NAMES.map((f) => r.features[f] as number));
    for (const [a, b] of [['grpo1p7b|cruxeval', 'sft1p7b|cruxeval'], ['grpo1p7b|gpqa', 'sft1p7b|gpqa']] as const) {
      const t = classifierTwoSampleTest(vec(a), vec(b), { permutations: 99 })!;
      expect(t.balancedAccuracy, `${a} vs ${b}`).toBeGreaterThan(0.95);
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
