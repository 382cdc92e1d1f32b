import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareTruncation,
  rolloutFeatureDefaults,
  summarizeRollout,
  syntheticRollouts,
  TokenSignalComputer,
  type FullStep,
  type RolloutSummary,
  type StepInput,
  type TopKSlice,
  vllmTopK,
  vllmView,
} from '../../src/core/index.js';
import { rawStep } from './sliceArbitraries.js';

// 30 rollouts × 64 positions of full-vocabulary (V = 1000) distributions, seen as a default vLLM
// server returns them: 20 log-probs per position for each model, the taken token added at its rank.
const shape = { vocabulary: 1000, rollouts: 30, positions: 64, temperature: 0.6, seed: 1 };

describe('fidelity under truncated top-K: features from raw top-20 vs from the full distributions', () => {
  const rollouts = [...syntheticRollouts(shape)];
  const fidelity = compareTruncation(rollouts, vllmView(20, 20), { temperature: 0.6, kCov: 20 });
  const p = fidelity.positions;

  it('the truth is not degenerate: both signs of G_cov, J = 0 at a share of positions', () => {
    expect(p.n).toBe(30 * 64);
    expect(p.positiveGcovTruth).toBeGreaterThan(0.3);
    expect(p.positiveGcovTruth).toBeLessThan(0.7);
    expect(p.positiveJTruth).toBeLessThan(0.8);
    expect(p.negativeGcovTruth).toBeGreaterThan(300);
  });

  it('share of J > 0, share of G_cov > 0 and mean spread agree within 0.01; J > 0 agrees at ≥ 98% of positions', () => {
    expect(Math.abs(p.positiveJSeen - p.positiveJTruth)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(p.positiveGcovSeen - p.positiveGcovTruth)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(fidelity.meanSpreadSeen - fidelity.meanSpreadTruth)).toBeLessThanOrEqual(0.01);
    expect(fidelity.maxAbsSpreadDelta).toBeLessThanOrEqual(0.05);
    expect(p.positiveJAgreement).toBeGreaterThanOrEqual(0.98);
  });

  it('G_cov is negative where the truth is (≥ 95% of those positions), and the truth lies inside the exposed bounds everywhere', () => {
    expect(p.negativeGcovKept).toBeGreaterThanOrEqual(0.95);
    expect(p.outsideBounds).toBe(0);
  });

  it("renormalizing over the top-K (today's default before this fix) fails the same checks", () => {
    const old = compareTruncation(rollouts, vllmView(20, 20), { temperature: 0.6, kCov: 20, normalization: 'renormalizeTopK' });
    expect(old.positions.negativeGcovKept).toBeLessThan(0.1);
    expect(old.positions.positiveGcovSeen - old.positions.positiveGcovTruth).toBeGreaterThan(0.05);
    expect(old.positions.positiveJAgreement).toBeLessThan(0.95);
  });

  it('at T = 1 the normalizer is exact: Δpath has no error, G_cov only that of A_t tokens S did not return', () => {
    const atOne = [...syntheticRollouts({ ...shape, rollouts: 8, temperature: 1 })];
    const f = compareTruncation(atOne, vllmView(20, 20), { temperature: 1, kCov: 20 });
    expect(f.positions.maxAbsDeltaPathError).toBeLessThan(1e-12);
    expect(f.positions.outsideBounds).toBe(0);
    // With S's top-100 every A_t token is returned here, so G_cov is exact too.
    const wide = compareTruncation(atOne, vllmView(100, 20), { temperature: 1, kCov: 20 });
    expect(wide.positions.maxAbsGcovError).toBeLessThan(1e-12);
  });
});

/** Entries of a slice in another order (ranks, when present, move with their entries). */
function permute(slice: TopKSlice, order: readonly number[]): TopKSlice {
  return {
    ids: order.map((i) => slice.ids[i]!),
    logprobs: order.map((i) => slice.logprobs[i]!),
    ...(slice.ranks ? { ranks: order.map((i) => slice.ranks![i]!) } : {}),
  };
}

const reversed = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);

describe('exact zeros: S and A sharing their support give spread exactly 0', () => {
  // Simulator-like supports of 1–5 tokens and full-vocabulary distributions seen through a top-20,
  // with S and A identical but listed in different orders (and ranks on one side only).
  function sharedRollouts(): StepInput[][] {
    const out: StepInput[][] = [];
    for (const steps of syntheticRollouts({ ...shape, rollouts: 6, positions: 40, seed: 5 })) {
      out.push(
        steps.map((st: FullStep, t): StepInput => {
          const small = t % 2 === 0;
          const size = 1 + (t % 5);
          const dist = small
            ? { ids: Array.from(st.specialist.ids).slice(0, size), logprobs: renormalized(Array.from(st.specialist.logprobs).slice(0, size)) }
            : st.specialist;
          const token = small ? dist.ids[t % size]! : st.token;
          const s = vllmTopK(dist, 20, token);
          const { ranks: _r, ...a } = permute(s, reversed(s.ids.length));
          return { token, specialist: s, ancestor: a };
        }),
      );
    }
    return out;
  }

  it('every rollout: spread 0, max J 0, mean G_cov within rounding of 0', () => {
    for (const steps of sharedRollouts()) {
      const s = summarizeRollout(steps, { temperature: 0.6 });
      expect(s.spread).toBe(0);
      expect(s.maxJ).toBe(0);
      expect(Math.abs(s.meanGcov!)).toBeLessThan(1e-14);
    }
  });

  it('without the tolerance, rounding would count as demotion pressure here', () => {
    const spreads = sharedRollouts().map((steps) => summarizeRollout(steps, { temperature: 0.6, jTolerance: 0 }).spread!);
    expect(Math.max(...spreads)).toBeGreaterThan(0);
  });
});

function renormalized(lps: number[]): number[] {
  const m = Math.max(...lps);
  const z = m + Math.log(lps.reduce((s, x) => s + Math.exp(x - m), 0));
  return lps.map((x) => x - z);
}

describe('results do not depend on the order of a slice’s entries (property)', () => {
  const FIELDS = ['deltaPath', 'gcov', 'j', 'kl', 'logitVar', 'entropy', 'takenLogprob', 'confidence', 'gcovLow', 'gcovHigh', 'deltaPathLow', 'deltaPathHigh'] as const;
  const shuffled = (step: StepInput, keys: number[]): StepInput => {
    const order = (n: number, salt: number) => Array.from({ length: n }, (_, i) => i).sort((x, y) => ((keys[(x + salt) % keys.length]! - keys[(y + salt) % keys.length]!) || x - y));
    return {
      token: step.token,
      specialist: permute(step.specialist, order(step.specialist.ids.length, 0)),
      ancestor: step.ancestor && permute(step.ancestor, order(step.ancestor.ids.length, 3)),
    };
  };

  it('per token: every signal within 1e-12, J > 0 never flips', () => {
    fc.assert(
      fc.property(rawStep({ maxEntries: 10 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }), fc.constantFrom(0.6, 1, 1.5), fc.integer({ min: 1, max: 6 }), (step, keys, T, kCov) => {
        const a = { ...new TokenSignalComputer({ temperature: T, kCov, confidenceTopK: 3 }).compute(step) };
        const b = new TokenSignalComputer({ temperature: T, kCov, confidenceTopK: 3 }).compute(shuffled(step, keys));
        for (const f of FIELDS) {
          const x = a[f];
          const y = b[f];
          if (!(x === y || Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x)))) throw new Error(`${f}: ${x} vs ${y}`);
        }
        expect(a.j > 0).toBe(b.j > 0);
      }),
      { numRuns: 2000, seed: 21 },
    );
  });

  it('per rollout: every summary field within 1e-12', () => {
    fc.assert(
      fc.property(fc.array(rawStep({ maxEntries: 8 }), { minLength: 1, maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }), (steps, keys) => {
        const opts = { ...rolloutFeatureDefaults(), kCov: 3, confidenceTopK: 3, confidenceWindow: 4 };
        const a = summarizeRollout(steps, opts);
        const b = summarizeRollout(steps.map((s) => shuffled(s, keys)), opts);
        for (const k of Object.keys(a) as (keyof RolloutSummary)[]) {
          const x = a[k];
          const y = b[k];
          if (!(x === y || (typeof x === 'number' && typeof y === 'number' && Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x))))) throw new Error(`${k}: ${x} vs ${y}`);
        }
      }),
      { numRuns: 300, seed: 22 },
    );
  });
});
