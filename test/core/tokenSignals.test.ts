import { describe, expect, it } from 'vitest';
import { InvalidLogprobError, logSumExpScaled, missingHigh, rawTail, tailContribution, TokenSignalComputer, temperedLogProbs, topEntries, TopKSchema } from '../../src/core/index.js';
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

describe('raw log-probs under truncation: the full normalizer (method.md, "Truncated top-K")', () => {
  // S's full distribution: ids 0,1,2 with p .6, .3, .1; the server returns the top-2.
  // A's full distribution: ids 0,2,1 with p .5, .3, .2; the server returns the top-2 (= k_cov).
  const S = { ids: [0, 1], logprobs: [ln(0.6), ln(0.3)] };
  const A = { ids: [0, 2], logprobs: [ln(0.5), ln(0.3)] };
  const at = (T: number, extra: Record<string, unknown> = {}) => new TokenSignalComputer({ temperature: T, kCov: 2, ...extra }).compute({ token: 0, specialist: S, ancestor: A });

  it('tail model: m = 1 − Σp, p_b = min(smallest returned p, m), q̂ = c·p_b', () => {
    expect(rawTail(0.9, 0.3, 0.5)).toEqual({ mass: expect.closeTo(0.1, 15), bound: expect.closeTo(0.1, 15), logEstimate: expect.closeTo(ln(0.05), 14) });
    expect(rawTail(0.7, 0.2, 0.5).bound).toBe(0.2);
    expect(rawTail(1, 0.2, 0.5)).toEqual({ mass: 0, bound: 0, logEstimate: -Infinity });
    // T = 0.5: tail m·q̂^{1/T−1} = 0.1·0.05, bounds [0, m·p_b] = [0, 0.01]; T = 1: exactly m; T = 2: at least m·p_b^{−1/2}.
    const t = rawTail(0.9, 0.3, 0.5);
    const half = tailContribution(t, 0.5, 0);
    expect(half.estimate).toBeCloseTo(0.005, 15);
    expect(half.low).toBe(0);
    expect(half.high).toBeCloseTo(0.01, 15);
    const one = tailContribution(t, 1, 0);
    expect([one.low, one.estimate, one.high].map((x) => x.toFixed(14))).toEqual(['0.10000000000000', '0.10000000000000', '0.10000000000000']);
    const two = tailContribution(t, 2, 0);
    expect(two.low).toBeCloseTo(0.1 * 0.1 ** -0.5, 12);
    expect(two.high).toBe(Infinity);
    // Two unreturned tokens hold at most min(2·p_b, m)·p_b^{1/T−1} at T ≤ 1.
    expect(missingHigh(2, t, 0.5, 0)).toBeCloseTo(0.1 * 0.1, 15);
  });

  it('T = 1: p^T is the raw probability itself, Δpath and the coverage masses exact up to S-missing tokens', () => {
    const s = at(1);
    // Δpath = ln .6 − ln .5; A_t = {0, 2}: A's mass .8; S's mass .6 + q̂(2) = .6 + .05.
    expect(s.deltaPath).toBeCloseTo(ln(0.6) - ln(0.5), 14);
    expect(s.gcov).toBeCloseTo(ln((0.8 + 1e-8) / (0.65 + 1e-8)), 12);
    // Bounds: S's mass on token 2 is in [0, min(p_b, m)] = [0, .1].
    expect(s.gcovLow).toBeCloseTo(ln((0.8 + 1e-8) / (0.7 + 1e-8)), 12);
    expect(s.gcovHigh).toBeCloseTo(ln((0.8 + 1e-8) / (0.6 + 1e-8)), 12);
    expect(s.deltaPathLow).toBeCloseTo(s.deltaPath, 12);
    expect(s.deltaPathHigh).toBeCloseTo(s.deltaPath, 12);
  });

  it('T = 0.5: Z_T = Σ p² + m·q̂ inside [Σ p², Σ p² + m·p_b]; the ancestor’s coverage mass is < 1 although K_A = k_cov', () => {
    const s = at(0.5);
    const zS = 0.36 + 0.09 + 0.1 * 0.05;
    const zA = 0.25 + 0.09 + 0.2 * 0.1; // A: m = .2, p_b = min(.3, .2) = .2, q̂ = .1
    const massA = 0.34 / zA;
    const massS = (0.36 + 0.05 ** 2) / zS; // token 2 at q̂_S = .05: q̂^{1/T} = .0025
    expect(massA).toBeLessThan(1);
    expect(s.deltaPath).toBeCloseTo(ln(0.36 / zS) - ln(0.25 / zA), 12);
    expect(s.gcov).toBeCloseTo(ln((massA + 1e-8) / (massS + 1e-8)), 12);
    expect(s.gcov).toBeGreaterThan(0); // A's top-2 hold 94% of A's T-mass, only 80% of S's
    // Δpath's bound: each log Z in [log Σ_returned, log(Σ_returned + m·p_b)].
    expect(s.deltaPathLow).toBeCloseTo(ln(0.36 / (0.45 + 0.1 * 0.1)) - ln(0.25 / 0.34), 12);
    expect(s.deltaPathHigh).toBeCloseTo(ln(0.36 / 0.45) - ln(0.25 / (0.34 + 0.2 * 0.2)), 12);
    expect(s.gcovLow).toBeLessThanOrEqual(s.gcov);
    expect(s.gcovHigh).toBeGreaterThanOrEqual(s.gcov);
  });

  it("'renormalizeTopK' is the reference's renormalization: with K_A = k_cov the ancestor's coverage mass is 1, G_cov ≥ 0", () => {
    const s = at(0.5, { normalization: 'renormalizeTopK' });
    // A renormalized over {0, 2}: mass 1. S renormalized over {0, 1}; token 2 at the floor.
    expect(s.gcov).toBeCloseTo(ln((1 + 1e-8) / (0.36 / 0.45 + Math.exp(-2000) + 1e-8)), 12);
    expect(s.gcov).toBeGreaterThan(0);
    expect(s.deltaPath).toBeCloseTo(ln(0.36 / 0.45) - ln(0.25 / 0.34), 12);
    expect([s.gcovLow, s.gcovHigh]).toEqual([s.gcov, s.gcov]);
  });

  it("vLLM's ranks: the actual token appended below the top-k is not in A_t and does not bound the tail", () => {
    // A's top-2 is {0: .5, 2: .3}; the taken token 7 (p .001, rank 9) comes back as a third entry.
    const a = { ids: [0, 2, 7], logprobs: [ln(0.5), ln(0.3), ln(0.001)], ranks: [1, 2, 9] };
    const s = { ids: [7, 0, 1], logprobs: [ln(0.001), ln(0.6), ln(0.3)], ranks: [40, 1, 2] };
    const withRanks = new TokenSignalComputer({ temperature: 1, kCov: 2 }).compute({ token: 7, specialist: s, ancestor: a });
    // T = 1: Δpath uses the appended log-probs as given; A_t = {0, 2}.
    expect(withRanks.deltaPath).toBeCloseTo(0, 14);
    // S: m = 1 − .901 = .099, p_b = min(.3, .099): token 2 missing from S at q̂ = .0495.
    expect(withRanks.gcov).toBeCloseTo(ln((0.8 + 1e-8) / (0.6 + 0.0495 + 1e-8)), 12);
    // Without ranks A_t is still the 2 largest, but the tail bound must not trust the appended
    // entry: the taken token is the smallest, so the next smallest bounds the tail (valid either way).
    const strip = ({ ranks: _r, ...rest }: typeof a) => rest;
    const noRanks = new TokenSignalComputer({ temperature: 1, kCov: 2 }).compute({ token: 7, specialist: strip(s), ancestor: strip(a) });
    expect(noRanks.gcov).toBeCloseTo(withRanks.gcov, 12);
    // With k_cov = 3 and ranks, A_t = ranks ≤ 3 = {0, 2}; without ranks it would take token 7 too.
    const k3 = new TokenSignalComputer({ temperature: 1, kCov: 3 }).compute({ token: 7, specialist: s, ancestor: a });
    expect(k3.gcov).toBeCloseTo(withRanks.gcov, 12);
  });

  it('exact zeros: J counts a positive part only above τ·max(1, |a|, |b|)', () => {
    // S and A agree up to 1e-15 in one log-prob: a real but rounding-sized difference.
    const s = { ids: [0, 1], logprobs: [ln(0.7), ln(0.3)] };
    const a = { ids: [0, 1], logprobs: [ln(0.7) - 1e-15, ln(0.3)] };
    const sig = new TokenSignalComputer({ temperature: 0.6 }).compute({ token: 0, specialist: s, ancestor: a });
    expect(sig.deltaPath).toBeGreaterThan(0);
    expect(sig.j).toBe(0);
    expect(new TokenSignalComputer({ temperature: 0.6, jTolerance: 0 }).compute({ token: 0, specialist: s, ancestor: a }).j).toBeGreaterThan(0);
  });

  it('refuses what it cannot read, naming the field and the fix', () => {
    const c = new TokenSignalComputer();
    const notRaw = { ids: [0, 1], logprobs: [ln(0.9), ln(0.9)] };
    expect(() => c.compute({ token: 0, specialist: notRaw }, 4)).toThrow(/position 4: specialist top-K probabilities sum to 1\.8.*normalization: 'renormalizeTopK'/);
    expect(new TokenSignalComputer({ normalization: 'renormalizeTopK' }).compute({ token: 0, specialist: notRaw }).entropy).toBeCloseTo(ln(2), 12);
    expect(() => c.compute({ token: 0, specialist: { ids: [3, 3], logprobs: [-1, -2] } })).toThrow(/lists token id 3 twice/);
    expect(() => c.compute({ token: 0, specialist: { ids: [3, 4], logprobs: [-1, -2], ranks: [1] } })).toThrow(/1 ranks for 2 log-probs/);
    expect(() => c.compute({ token: 0, specialist: { ids: [3, 4], logprobs: [-1, -2], ranks: [0, 1] } })).toThrow(/ranks are 1-based/);
    expect(() => new TokenSignalComputer({ normalization: 'raw' as never })).toThrow(/normalization must be 'fullVocabulary'/);
  });

  it('the top-K contract carries optional ranks, one per entry, ids once each', () => {
    expect(TopKSchema.safeParse({ ids: [1, 2], logprobs: [-0.1, -3], ranks: [1, 7] }).success).toBe(true);
    const e = (v: unknown) => TopKSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(e({ ids: [1, 2], logprobs: [-0.1, -3], ranks: [1] })).toEqual(['ranks: ranks must have one rank per token id, or be left out']);
    expect(e({ ids: [1, 1], logprobs: [-0.1, -3] })).toEqual(['ids: each token id may appear once in a top-K slice']);
    expect(e({ ids: [1], logprobs: [-0.1], ranks: [0] })?.[0]).toMatch(/^ranks.0: a rank is 1-based/);
  });
});

describe('which entries are the top k', () => {
  const out: number[] = [];
  it('by rank when given; else the k largest log-probs, ties by the smaller id, in any entry order', () => {
    expect(out.slice(0, topEntries([5, 6, 7], [-1, -2, -9], [1, 2, 30], 2, out))).toEqual([0, 1]);
    expect(out.slice(0, topEntries([7, 3, 9], [-2, -0.5, -0.5], undefined, 2, out))).toEqual([1, 2]);
    expect(out.slice(0, topEntries([9, 3, 7], [-0.5, -0.5, -2], undefined, 1, out))).toEqual([1]);
    expect(out.slice(0, topEntries([9, 3], [-0.5, -0.7], undefined, 5, out))).toEqual([0, 1]);
  });
});
