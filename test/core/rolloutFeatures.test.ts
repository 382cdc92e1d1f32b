import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  problemFeatures,
  RolloutFeatureAccumulator,
  summarizeRollout,
  TokenSignalComputer,
  type RolloutSummary,
  type TokenStep,
} from '../../src/core/index.js';
import { HAND, HAND_J, handTrace } from './handTrace.js';
import { rawStep } from './sliceArbitraries.js';

const opts = { temperature: 0.5, kCov: 2 };

describe('per-rollout features on the hand-worked trace', () => {
  it('spread, concentration and the junction', () => {
    const s = summarizeRollout(handTrace(), { ...opts, junctionWindow: 8 });
    const meanJ = (HAND_J[0]! + HAND_J[1]! + HAND_J[2]!) / 3;
    expect(s.pairedPositions).toBe(3);
    expect(s.spread).toBeCloseTo(2 / 3, 12); // J_0 > 0, J_1 = 0, J_2 > 0
    expect(s.junction).toBe(2);
    expect(s.maxJ).toBeCloseTo(HAND_J[2]!, 6);
    expect(s.concentration).toBeCloseTo(Math.log10(HAND_J[2]! / meanJ), 6);
  });

  it('logit dispersion averages logit_var over [j*−w, j*+w], clipped to the trace', () => {
    const at = (w: number) => summarizeRollout(handTrace(), { ...opts, junctionWindow: w }).logitDispersion;
    expect(at(0)).toBeCloseTo(Math.log10(HAND.var2), 10);
    expect(at(1)).toBeCloseTo(Math.log10((HAND.var1 + HAND.var2) / 2), 10);
    expect(at(8)).toBeCloseTo(Math.log10((HAND.var0 + HAND.var1 + HAND.var2) / 3), 10);
  });

  it('trailing and unscored positions are skipped (padding trim), features unchanged', () => {
    const padded: TokenStep[] = [...handTrace(), { token: 0, specialist: { ids: [], logprobs: [] } }, { token: 0, specialist: { ids: [], logprobs: [] } }];
    const a = summarizeRollout(handTrace(), opts);
    const b = summarizeRollout(padded, opts);
    expect(b.skippedPositions).toBe(2);
    expect({ ...b, skippedPositions: 0 }).toEqual(a);
  });

  it('the junction is the first maximum of J on ties', () => {
    const t = handTrace();
    const s = summarizeRollout([t[2]!, t[1]!, t[2]!], opts);
    expect(s.junction).toBe(0);
  });

  it('J ≡ 0 gives spread 0 and a finite concentration of 0 (floored, not −∞)', () => {
    const t = handTrace();
    const s = summarizeRollout([t[1]!, t[1]!], opts);
    expect(s.spread).toBe(0);
    expect(s.concentration).toBe(0);
  });

  it('no ancestor scores: trajectory features null, specialist-only signals present', () => {
    const s = summarizeRollout(handTrace().map(({ ancestor: _a, ...rest }) => rest), opts);
    expect(s.pairedPositions).toBe(0);
    expect(s.spread).toBeNull();
    expect(s.concentration).toBeNull();
    expect(s.logitDispersion).toBeNull();
    expect(s.meanEntropy).toBeCloseTo((HAND.entropy0 + summarizeRollout([handTrace()[1]!], opts).meanEntropy! + summarizeRollout([handTrace()[2]!], opts).meanEntropy!) / 3, 10);
  });

  it('lowest sliding-window confidence and the dispersion at that window', () => {
    const s = summarizeRollout(handTrace(), { ...opts, confidenceWindow: 2, confidenceTopK: 3 });
    const ln = Math.log;
    const conf = [
      -(ln(0.6) + ln(0.3) + ln(0.1)) / 3,
      -(ln(0.5) + ln(0.25) + ln(0.25)) / 3,
      -(ln(0.9) + ln(0.05) + ln(0.05)) / 3,
    ];
    const windows = [(conf[0]! + conf[1]!) / 2, (conf[1]! + conf[2]!) / 2];
    const lowest = windows[0]! <= windows[1]! ? 0 : 1;
    expect(s.minWindowConfidence).toBeCloseTo(Math.min(...windows), 12);
    const vars = [HAND.var0, HAND.var1, HAND.var2];
    expect(s.dispersionAtMinConfidence).toBeCloseTo(Math.log10((vars[lowest]! + vars[lowest + 1]!) / 2), 10);
  });

  it('a trace shorter than the confidence window is one window: its mean confidence and mean logit_var', () => {
    const s = summarizeRollout(handTrace(), { ...opts, confidenceWindow: 16, confidenceTopK: 3 });
    const ln = Math.log;
    const conf = [
      -(ln(0.6) + ln(0.3) + ln(0.1)) / 3,
      -(ln(0.5) + ln(0.25) + ln(0.25)) / 3,
      -(ln(0.9) + ln(0.05) + ln(0.05)) / 3,
    ];
    expect(s.minWindowConfidence).toBeCloseTo((conf[0]! + conf[1]! + conf[2]!) / 3, 12);
    expect(s.dispersionAtMinConfidence).toBeCloseTo(Math.log10((HAND.var0 + HAND.var1 + HAND.var2) / 3), 12);
  });
});

/** The simple (batch) way: per-token signals into arrays, then the formulas of method.md. */
function batchFeatures(steps: TokenStep[], w: number) {
  const c = new TokenSignalComputer({ temperature: 0.6, kCov: 2 });
  const J: number[] = [];
  const V: number[] = [];
  for (const s of steps) {
    if (s.specialist.ids.length === 0) continue;
    const sig = c.compute(s);
    if (sig.paired) {
      J.push(sig.j);
      V.push(sig.logitVar);
    }
  }
  const n = J.length;
  const maxJ = Math.max(...J);
  const j = J.indexOf(maxJ);
  const meanJ = J.reduce((a, b) => a + b, 0) / n;
  const win = V.slice(Math.max(0, j - w), Math.min(n, j + w + 1));
  return {
    spread: J.filter((x) => x > 0).length / n,
    concentration: Math.log10(Math.max(maxJ, 1e-8) / Math.max(meanJ, 1e-8)),
    logitDispersion: Math.log10(Math.max(win.reduce((a, b) => a + b, 0) / win.length, 1e-8)),
  };
}

const step: fc.Arbitrary<TokenStep> = rawStep({ maxEntries: 6, maxId: 30 }) as fc.Arbitrary<TokenStep>;

describe('streaming accumulator = batch computation (property)', () => {
  it('matches for random traces and windows', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 12 }), (steps, w) => {
        const s = summarizeRollout(steps, { temperature: 0.6, kCov: 2, junctionWindow: w });
        const b = batchFeatures(steps, w);
        expect(s.spread).toBeCloseTo(b.spread, 12);
        expect(s.concentration).toBeCloseTo(b.concentration, 9);
        expect(s.logitDispersion).toBeCloseTo(b.logitDispersion, 9);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('accumulator state is O(w): a 200k-position trace streams without storing steps', () => {
    const acc = new RolloutFeatureAccumulator({ junctionWindow: 8 });
    const t = handTrace();
    for (let i = 0; i < 200_000; i++) acc.push(t[i % 3]!);
    const s = acc.finish();
    expect(s.pairedPositions).toBe(200_000);
    // Positions i ≡ 0 or 2 (mod 3) have J > 0: 66,667 + 66,666 of 200,000.
    expect(s.spread).toBe(133_333 / 200_000);
    expect(s.junction).toBe(2);
    // Nothing grows with the trace: no arrays, only fixed-capacity windows.
    const fields = Object.values(acc as unknown as Record<string, unknown>);
    expect(fields.filter((v) => Array.isArray(v))).toEqual([]);
  });
});

describe('problem features: mean over failed rollouts', () => {
  const summary = (spread: number | null, concentration: number | null, logitDispersion: number | null) =>
    ({ spread, concentration, logitDispersion }) as RolloutSummary;

  it('averages each feature over the rollouts that have it', () => {
    const f = problemFeatures([summary(0.2, 1, -1), summary(0.4, 2, null), summary(null, 3, -3)]);
    expect(f.spread).toBeCloseTo(0.3, 12);
    expect(f.concentration).toBeCloseTo(2, 12);
    expect(f.logit_dispersion).toBeCloseTo(-2, 12);
  });

  it('is null when no failed rollout has the feature', () => {
    expect(problemFeatures([])).toEqual({ spread: null, concentration: null, logit_dispersion: null });
  });
});
