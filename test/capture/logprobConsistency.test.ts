import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareLogprobs, describeLogprobMismatch } from '../../src/capture/logprobConsistency.js';
import type { TopKSlice } from '../../src/core/tokens/tokenSignals.js';

const ln = Math.log;
/** One position over a 4-token vocabulary, p = [1/2, 1/4, 1/8, 1/8]. */
const raw: TopKSlice = { ids: [1, 2, 3, 4], logprobs: [ln(0.5), ln(0.25), ln(0.125), ln(0.125)] };
/** The same at T = 0.5 over the whole vocabulary: p² / Σp² = [0.25, 0.0625, 0.015625, 0.015625] / 0.34375. */
const processedHalf: TopKSlice = { ids: [1, 2, 3, 4], logprobs: [0.25, 0.0625, 0.015625, 0.015625].map((q) => ln(q / 0.34375)) };

describe('compareLogprobs (hand-computed)', () => {
  it('raw against raw: slope 1, offset 0', () => {
    const c = compareLogprobs([raw], [1], [raw], 0.5);
    expect(c).toEqual({ verdict: 'raw', slope: 1, offset: 0, positions: 1, gaps: 3 });
  });

  it('processed at T = 0.5 against raw: every gap doubled (slope 1/T = 2), taken token +0.3747 nats', () => {
    const c = compareLogprobs([processedHalf], [1], [raw], 0.5);
    expect(c.verdict).toBe('processed');
    expect(c.slope).toBeCloseTo(2, 12);
    expect(c.offset).toBeCloseTo(ln(0.25 / 0.34375) - ln(0.5), 12); // 0.374693…
    expect(c.offset).toBeCloseTo(0.3747, 4);
  });

  it('logits (log-probs + the position\'s log-normalizer): slope 1, offset = the normalizer', () => {
    const logits: TopKSlice = { ids: raw.ids, logprobs: Array.from(raw.logprobs, (lp) => lp + 7.25) };
    const c = compareLogprobs([logits], [1], [raw], 0.6);
    expect(c.verdict).toBe('logits');
    expect(c.slope).toBeCloseTo(1, 12);
    expect(c.offset).toBeCloseTo(7.25, 12);
  });

  it('a different model on the other side: mismatch; too little to compare: inconclusive', () => {
    const reversed: TopKSlice = { ids: [4, 3, 2, 1], logprobs: raw.logprobs };
    expect(compareLogprobs([reversed], [1], [raw], 0.6).verdict).toBe('mismatch');
    const single: TopKSlice = { ids: [1], logprobs: [-0.1] };
    expect(compareLogprobs([single], [1], [single], 0.6)).toMatchObject({ verdict: 'inconclusive', slope: null, positions: 1 });
  });

  it('ignores servers\' −9999 stand-ins for −∞ and near-ties', () => {
    const withInf: TopKSlice = { ids: [1, 2, 3, 4, 5], logprobs: [...Array.from(raw.logprobs), -9999] };
    expect(compareLogprobs([withInf], [1], [{ ids: [1, 2, 3, 4, 5], logprobs: [...Array.from(raw.logprobs), -12] }], 0.6).verdict).toBe('raw');
  });

  it('the message says what was found and what to change', () => {
    const c = compareLogprobs([processedHalf], [1], [raw], 0.5);
    const m = describeLogprobMismatch(c, 0.5, 'http://127.0.0.1:8000/v1 (model s)');
    expect(m).toMatch(/slope 2\.00 \(raw: 1; processed at T = 0\.5: 2\.00\), median offset 0\.37 nats \(raw: 0\), over 1 positions/);
    expect(m).toMatch(/after temperature scaling \(vLLM --logprobs-mode processed_logprobs, or the V0 engine\).*--logprobs-mode raw_logprobs/);
  });
});

/** A random position: `v` tokens with log-probs from random logits, normalized over the vocabulary. */
const position = (v: number) =>
  fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: v, maxLength: v }).map((logits) => {
    const lse = Math.log(logits.reduce((s, z) => s + Math.exp(z), 0));
    return logits.map((z) => z - lse);
  });
const topK = (lps: number[], k: number, taken: number): TopKSlice => {
  const order = lps.map((_, i) => i).sort((a, b) => lps[b]! - lps[a]!).slice(0, k);
  if (!order.includes(taken)) order.push(taken);
  return { ids: order, logprobs: order.map((i) => lps[i]!) };
};
const atTemperature = (lps: number[], t: number) => {
  const lse = Math.log(lps.reduce((s, lp) => s + Math.exp(lp / t), 0));
  return lps.map((lp) => lp / t - lse);
};

describe('compareLogprobs (properties over random distributions)', () => {
  it('raw log-probs with bf16-sized noise (±0.01) read as raw; processed at T ∈ [0.3, 0.75] read as processed', () => {
    fc.assert(
      fc.property(fc.array(position(40), { minLength: 4, maxLength: 12 }), fc.double({ min: 0.3, max: 0.75, noNaN: true }), fc.integer({ min: 0, max: 1e9 }), (positions, t, noiseSeed) => {
        // A flat distribution is the same at every temperature: nothing to tell apart. Language
        // models' top-20 spans several nats; ask for that in at least two positions.
        fc.pre(positions.filter((lps) => { const top = [...lps].sort((a, b) => b - a); return top[0]! - top[19]! > 2; }).length >= 2);
        let s = noiseSeed;
        const noise = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
        const tokens = positions.map((lps) => lps.indexOf(Math.max(...lps)));
        const scored = positions.map((lps, i) => topK(lps, 20, tokens[i]!));
        const noisy = positions.map((lps, i) => topK(lps.map((lp) => lp + noise()), 20, tokens[i]!));
        expect(compareLogprobs(noisy, tokens, scored, t).verdict).toBe('raw');
        const processed = positions.map((lps, i) => topK(atTemperature(lps, t), 20, tokens[i]!));
        expect(compareLogprobs(processed, tokens, scored, t).verdict).toBe('processed');
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
