import { describe, expect, it } from 'vitest';
import { InvalidLogprobError, logSumExpScaled, TokenSignalComputer, temperedLogProbs } from '../../src/core/index.js';
import { HAND, handTrace } from './handTrace.js';

const ln = Math.log;

describe('temperature scaling and renormalization over the top-K', () => {
  it('renormalizes p^T ∝ p^(1/T) over the returned top-K', () => {
    // T = 0.5 squares the probabilities: 0.36, 0.09, 0.01 → divided by 0.46.
    const lp = temperedLogProbs([ln(0.6), ln(0.3), ln(0.1)], 0.5);
    expect(lp.map(Math.exp)).toEqual([36 / 46, 9 / 46, 1 / 46].map((x) => expect.closeTo(x, 12)));
  });

  it('logsumexp is stable for very negative inputs and −∞ for an empty slice', () => {
    expect(logSumExpScaled([-1000, -1000], 0.5)).toBeCloseTo(-2000 + ln(2), 9);
    expect(logSumExpScaled([], 1)).toBe(-Infinity);
  });
});

describe('per-token signals: the 3-token, K=3 example worked by hand (T=0.5, k_cov=2)', () => {
  const computer = new TokenSignalComputer({ temperature: 0.5, kCov: 2 });
  const steps = handTrace();

  it('position 0: Δpath > 0, G_cov < 0, so J = Δpath', () => {
    const s = computer.compute(steps[0]!);
    expect(s.paired).toBe(true);
    expect(s.deltaPath).toBeCloseTo(HAND.delta0, 10);
    expect(s.gcov).toBeCloseTo(HAND.gcov0, 8);
    expect(s.gcov).toBeLessThan(0);
    expect(s.j).toBeCloseTo(HAND.delta0, 10);
    expect(s.entropy).toBeCloseTo(HAND.entropy0, 10);
    expect(s.logitVar).toBeCloseTo(HAND.var0, 10);
    expect(s.kl).toBeCloseTo(HAND.kl0, 6);
  });

  it('position 1: identical S and A give Δpath = G_cov = J = 0 exactly, KL ≈ 0', () => {
    // Exactly: a rounding-level positive J would be counted by spread (#{J > 0}).
    const s = computer.compute(steps[1]!);
    expect(s.deltaPath).toBe(0);
    expect(s.gcov).toBe(0);
    expect(s.j).toBe(0);
    expect(s.kl).toBeCloseTo(0, 12);
    expect(s.logitVar).toBeCloseTo(HAND.var1, 10);
  });

  it('position 2: a demoted step — both Δpath and G_cov positive', () => {
    const s = computer.compute(steps[2]!);
    expect(s.deltaPath).toBeCloseTo(HAND.delta2, 10);
    expect(s.gcov).toBeCloseTo(HAND.gcov2, 6);
    expect(s.j).toBeCloseTo(HAND.delta2 + HAND.gcov2, 6);
    expect(s.logitVar).toBeCloseTo(HAND.var2, 10);
  });

  it('a token outside a top-K gets the floor log-prob −1000 before scaling', () => {
    // Taken token 9 is in neither top-K: log p_S^T = −1000/T − lse_S, log p_A^T = −1000/T − lse_A.
    const s = new TokenSignalComputer({ temperature: 0.5, kCov: 2 }).compute({
      token: 9,
      specialist: { ids: [0, 1], logprobs: [ln(0.5), ln(0.5)] },
      ancestor: { ids: [0, 1], logprobs: [ln(0.9), ln(0.1)] },
    });
    const lseS = ln(0.25 + 0.25);
    const lseA = ln(0.81 + 0.01);
    expect(s.deltaPath).toBeCloseTo(-2000 - lseS - (-2000 - lseA), 9);
    expect(s.takenLogprob).toBeCloseTo(ln(0.5), 12); // lowest returned log-prob, not the floor
  });

  it('k_cov uses the ancestor top-k by log-prob even when the server returns them unsorted', () => {
    const sorted = new TokenSignalComputer({ temperature: 0.5, kCov: 2 }).compute(steps[2]!).gcov;
    const a = steps[2]!.ancestor!;
    const unsorted = new TokenSignalComputer({ temperature: 0.5, kCov: 2 }).compute({
      ...steps[2]!,
      ancestor: { ids: [a.ids[2]!, a.ids[0]!, a.ids[1]!], logprobs: [a.logprobs[2]!, a.logprobs[0]!, a.logprobs[1]!] },
    }).gcov;
    expect(unsorted).toBeCloseTo(sorted, 12);
  });

  it('without ancestor scores, only specialist-only signals are defined', () => {
    const s = new TokenSignalComputer({ temperature: 0.5 }).compute({ token: 0, specialist: steps[0]!.specialist });
    expect(s.paired).toBe(false);
    expect(s.j).toBeNaN();
    expect(s.entropy).toBeCloseTo(HAND.entropy0, 10);
  });

  it('DeepConf confidence is −mean of the top log-probs', () => {
    const s = new TokenSignalComputer({ confidenceTopK: 2 }).compute(steps[0]!);
    expect(s.confidence).toBeCloseTo(-(ln(0.6) + ln(0.3)) / 2, 12);
  });

  it('NaN or positive log-probs are rejected with the position named; −∞ is a zero-probability token', () => {
    const c = new TokenSignalComputer();
    expect(() => c.compute({ token: 0, specialist: { ids: [0, 1], logprobs: [NaN, -1] } }, 7)).toThrow(InvalidLogprobError);
    expect(() => c.compute({ token: 0, specialist: { ids: [0, 1], logprobs: [NaN, -1] } }, 7)).toThrow(/position 7: specialist log-prob #0 is NaN/);
    expect(() => c.compute({ token: 0, specialist: { ids: [0], logprobs: [0.5] } })).toThrow(/≤ 0/);
    const s = c.compute({ token: 0, specialist: { ids: [0, 1], logprobs: [0, -Infinity] } });
    expect(s.entropy).toBeCloseTo(0, 12);
    expect(s.logitVar).toBeCloseTo(0, 12);
  });
});
