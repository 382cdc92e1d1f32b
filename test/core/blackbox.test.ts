import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerDistribution, normalizeAnswer, passAtK, passHatK, specialistSignals, type RolloutSummary } from '../../src/core/index.js';

const choose = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

describe('unbiased pass@k', () => {
  it('matches known values', () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - choose(7, 5) / choose(10, 5), 12); // 1 − 21/252
    expect(passAtK(10, 0, 5)).toBe(0);
    expect(passAtK(10, 6, 5)).toBe(1); // n − c = 4 < k
    expect(passAtK(5, 5, 5)).toBe(1);
  });

  it('equals 1 − C(n−c,k)/C(n,k) and is monotone in k (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: n }))), ([n, c, k]) => {
        const p = passAtK(n, c, k);
        expect(p).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 9);
        if (k > 1) expect(p).toBeGreaterThanOrEqual(passAtK(n, c, k - 1) - 1e-12);
      }),
      { seed: 3 },
    );
  });

  it('n < k is a clear error, as are impossible counts', () => {
    expect(() => passAtK(3, 1, 5)).toThrow(/needs at least k = 5 samples but only n = 3/);
    expect(() => passAtK(3, 4, 1)).toThrow(/cannot exceed n/);
    expect(() => passAtK(3, 1, 0)).toThrow(/k must be ≥ 1/);
  });
});

describe('pass^k', () => {
  it('is C(c,k)/C(n,k)', () => {
    expect(passHatK(10, 3, 2)).toBeCloseTo(1 / 15, 12);
    expect(passHatK(10, 3, 4)).toBe(0);
    expect(passHatK(10, 10, 4)).toBe(1);
    expect(passHatK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(() => passHatK(2, 1, 3)).toThrow(RangeError);
  });
});

describe('answer distribution of failed rollouts', () => {
  it('normalizes equivalent spellings to one mode', () => {
    expect(normalizeAnswer(' 391.0 ')).toBe('391');
    expect(normalizeAnswer('1,000')).toBe('1000');
    expect(normalizeAnswer('Paris.')).toBe('paris');
    expect(normalizeAnswer(null)).toBe('<none>');
    expect(normalizeAnswer('   ')).toBe('<none>');
  });

  it('entropy in nats and the wrong-mode share', () => {
    const d = answerDistribution(['12', '12.0', '13', null]);
    // modes: 12 (2), 13 (1), <none> (1) → H = −(½ln½ + 2·¼ln¼) = 1.5 ln 2
    expect(d.modes).toBe(3);
    expect(d.entropy).toBeCloseTo(1.5 * Math.log(2), 12);
    expect(d.topShare).toBe(0.5);
    expect(d.topAnswer).toBe('12');
    expect(answerDistribution(['7', '7']).entropy).toBe(0);
    expect(answerDistribution([]).n).toBe(0);
  });
});

describe('specialist-only signals', () => {
  it('average over rollouts, ignoring missing ones', () => {
    const r = (e: number | null) => ({ meanEntropy: e, meanLogprob: -1, minWindowConfidence: 2, dispersionAtMinConfidence: null }) as RolloutSummary;
    expect(specialistSignals([r(1), r(3), r(null)])).toEqual({
      mean_token_entropy: 2,
      mean_logprob: -1,
      min_window_confidence: 2,
      dispersion_at_min_confidence: null,
    });
  });
});
