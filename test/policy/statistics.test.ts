import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracy, balancedAccuracy } from '../../src/core/policy/balancedAccuracy.js';
import { bootstrapInterval } from '../../src/core/policy/bootstrapInterval.js';
import { cohenKappa } from '../../src/core/policy/cohenKappa.js';
import { confusionMatrix } from '../../src/core/policy/confusionMatrix.js';

const repeat = <T>(x: T, n: number): T[] => Array.from({ length: n }, () => x);

describe("Cohen's κ", () => {
  it('the textbook 2×2 table: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4', () => {
    // p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5.
    const a = [...repeat('yes', 25), ...repeat('no', 25)];
    const b = [...repeat('yes', 20), ...repeat('no', 5), ...repeat('yes', 10), ...repeat('no', 15)];
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 12);
  });

  it('three classes by hand: p_o = 0.6, p_e = 0.35 → κ = 0.25/0.65', () => {
    // a: x x x y y z z z z z; b: x x y y z z z z x y
    const a = ['x', 'x', 'x', 'y', 'y', 'z', 'z', 'z', 'z', 'z'];
    const b = ['x', 'x', 'y', 'y', 'z', 'z', 'z', 'z', 'x', 'y'];
    // agree: 0,1,3,5,6,7 → 6/10. shares a: x .3 y .2 z .5; b: x .3 y .3 z .4 → p_e = .09 + .06 + .2 = .35
    expect(cohenKappa(a, b)).toBeCloseTo((0.6 - 0.35) / (1 - 0.35), 12);
  });

  it('perfect agreement is 1, chance-level is about 0, undefined when both raters are constant', () => {
    expect(cohenKappa(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(1);
    expect(cohenKappa(['a', 'a', 'b', 'b'], ['a', 'b', 'a', 'b'])).toBeCloseTo(0, 12);
    expect(cohenKappa(['a', 'a'], ['a', 'a'])).toBeNaN();
    expect(() => cohenKappa(['a'], [])).toThrow(/1 labels but rater b has 0/);
  });

  it('is symmetric and at most 1 (property)', () => {
    const labels = fc.array(fc.tuple(fc.constantFrom('r', 's', 'b'), fc.constantFrom('r', 's', 'b')), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(labels, (pairs) => {
        const a = pairs.map((p) => p[0]);
        const b = pairs.map((p) => p[1]);
        const k = cohenKappa(a, b);
        if (Number.isNaN(k)) return Number.isNaN(cohenKappa(b, a));
        return Math.abs(k - cohenKappa(b, a)) < 1e-12 && k <= 1 + 1e-12;
      }),
    );
  });
});

describe('balanced accuracy and the confusion matrix', () => {
  it('by hand: recalls 2/3, 1/2, 1 → 13/18', () => {
    const truth = ['a', 'a', 'a', 'b', 'b', 'c'];
    const pred = ['a', 'a', 'b', 'b', 'c', 'c'];
    expect(balancedAccuracy(truth, pred)).toBeCloseTo(13 / 18, 12);
    expect(accuracy(truth, pred)).toBeCloseTo(4 / 6, 12);
    expect(confusionMatrix(truth, pred, ['a', 'b', 'c'])).toEqual({ a: { a: 2, b: 1, c: 0 }, b: { a: 0, b: 1, c: 1 }, c: { a: 0, b: 0, c: 1 } });
  });

  it('a prediction outside the classes ("unjudged") counts as wrong and gets its own column', () => {
    expect(balancedAccuracy(['a', 'b'], ['a', 'unjudged'])).toBe(0.5);
    expect(confusionMatrix(['a', 'b'], ['a', 'unjudged'], ['a', 'b'], ['a', 'b', 'unjudged'])).toEqual({ a: { a: 1, b: 0, unjudged: 0 }, b: { a: 0, b: 0, unjudged: 1 } });
    expect(() => confusionMatrix(['a'], ['z'], ['a'])).toThrow(/prediction #0 is "z"/);
  });

  it('one class for every row scores 1/|classes present| whatever the shares (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('r', 's', 'b'), { minLength: 1, maxLength: 80 }), fc.constantFrom('r', 's', 'b'), (truth, constant) => {
        const present = new Set(truth).size;
        const expected = truth.includes(constant) ? 1 / present : 0;
        return Math.abs(balancedAccuracy(truth, truth.map(() => constant)) - expected) < 1e-12;
      }),
    );
  });
});

describe('bootstrap interval', () => {
  it('a constant sample has a zero-width interval at its value; empty input is NaN', () => {
    expect(bootstrapInterval([0.3, 0.3, 0.3], { seed: 4 })).toEqual({ mean: 0.3, lo: 0.3, hi: 0.3, n: 3 });
    expect(bootstrapInterval([]).n).toBe(0);
    expect(bootstrapInterval([]).mean).toBeNaN();
    expect(() => bootstrapInterval([1, NaN])).toThrow(/value #1 is NaN/);
  });

  it('matches the normal approximation p ± 1.96·sqrt(p(1−p)/n) for 120 successes in 400', () => {
    // p = 0.3, SE = sqrt(0.21/400) = 0.022913; 95%: 0.25509 … 0.34491.
    const values = [...repeat(1, 120), ...repeat(0, 280)];
    const e = bootstrapInterval(values, { seed: 7, resamples: 4000 });
    expect(e.mean).toBe(0.3);
    expect(e.lo).toBeGreaterThan(0.2551 - 0.006);
    expect(e.lo).toBeLessThan(0.2551 + 0.006);
    expect(e.hi).toBeGreaterThan(0.3449 - 0.006);
    expect(e.hi).toBeLessThan(0.3449 + 0.006);
  });

  it('two values 0 and 1: resampled means are 0, ½, 1 with chances ¼, ½, ¼, so the 95% interval is [0, 1] and the 50% one [0.5, 0.5]', () => {
    expect(bootstrapInterval([0, 1], { seed: 3, resamples: 5000 })).toMatchObject({ mean: 0.5, lo: 0, hi: 1 });
    expect(bootstrapInterval([0, 1], { seed: 3, resamples: 5000, level: 0.5 })).toMatchObject({ lo: 0.5, hi: 0.5 });
  });

  it('is reproducible for a seed and varies with it', () => {
    const values = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
    expect(bootstrapInterval(values, { seed: 1 })).toEqual(bootstrapInterval(values, { seed: 1 }));
    expect(bootstrapInterval(values, { seed: 1 }).lo).not.toBe(bootstrapInterval(values, { seed: 2 }).lo);
  });
});
