import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  rolloutFeatureDefaults,
  summarizeRollout,
  syntheticRollouts,
  TokenSignalComputer,
  type RolloutSummary,
  type StepInput,
  type TokenSignals,
  vllmView,
} from '../../src/core/index.js';
import { L, makePool, P, STRIDE } from '../../scripts/bench/pool.mjs';
import { summarizeRollout as part1Summary } from './part1/rolloutFeatureAccumulator.js';
import { TokenSignalComputer as Part1Computer } from './part1/tokenSignals.js';
import { rawSlice, rawStep } from './sliceArbitraries.js';

/**
 * The optimized code must give the numbers of the Part-1 implementation (frozen in ./part1): every
 * signal and every summary field within 1e-12 relative (of max(1, |value|)), J > 0 never flipped.
 */
const TOL = 1e-12;
function same(x: number | null, y: number | null): boolean {
  if (x === null || y === null) return x === y;
  if (Number.isNaN(y)) return Number.isNaN(x);
  if (!Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= TOL * Math.max(1, Math.abs(y));
}
function expectSameSummary(got: RolloutSummary, want: RolloutSummary, where: string): void {
  for (const k of Object.keys(want) as (keyof RolloutSummary)[]) {
    if (!same(got[k], want[k])) throw new Error(`${where}: ${k} = ${got[k]}, Part-1 ${want[k]}`);
  }
}

const options = fc.record({
  temperature: fc.constantFrom(0.3, 0.6, 1, 1.7),
  kCov: fc.integer({ min: 1, max: 5 }),
  confidenceTopK: fc.integer({ min: 1, max: 5 }),
  normalization: fc.constantFrom('fullVocabulary' as const, 'renormalizeTopK' as const),
});

describe('pinned to the Part-1 numbers', () => {
  it('per token: every signal and bound of random unsorted slices (ranks or not, missing tokens)', () => {
    const FIELDS: (keyof TokenSignals)[] = ['deltaPath', 'deltaPathLow', 'deltaPathHigh', 'gcov', 'gcovLow', 'gcovHigh', 'j', 'kl', 'logitVar', 'entropy', 'takenLogprob', 'confidence'];
    fc.assert(
      fc.property(rawStep({ maxEntries: 10 }), options, (step, o) => {
        const got = new TokenSignalComputer(o).compute(step);
        const want = new Part1Computer(o).compute(step);
        expect(got.paired).toBe(want.paired);
        for (const f of FIELDS) if (!same(got[f] as number, want[f] as number)) throw new Error(`${f}: ${got[f]} vs Part-1 ${want[f]}`);
        expect(got.j > 0).toBe(want.j > 0);
      }),
      { numRuns: 3000, seed: 31 },
    );
  });

  it('per rollout: random traces with gaps, missing ancestors and any windows', () => {
    const maybeStep: fc.Arbitrary<StepInput> = fc.oneof(
      { weight: 8, arbitrary: rawStep({ maxEntries: 8 }) },
      { weight: 1, arbitrary: rawSlice({ maxEntries: 8 }).map((specialist) => ({ token: specialist.ids[0]!, specialist })) },
      { weight: 1, arbitrary: fc.constant({ token: 0, specialist: { ids: [], logprobs: [] } }) },
    );
    fc.assert(
      fc.property(fc.array(maybeStep, { minLength: 1, maxLength: 50 }), options, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 20 }), (steps, o, junctionWindow, confidenceWindow) => {
        const opts = { ...rolloutFeatureDefaults(), ...o, junctionWindow, confidenceWindow };
        expectSameSummary(summarizeRollout(steps, opts), part1Summary(steps, opts), 'random trace');
      }),
      { numRuns: 500, seed: 32 },
    );
  });

  it('per rollout: the benchmark pool (K = 100 + 20, raw, 20 rollouts of 1000 positions)', () => {
    const pool = makePool();
    for (let r = 0; r < 20; r++) {
      const steps = Array.from({ length: L }, (_, t) => pool[((r * L + t) * STRIDE) % P]!);
      expectSameSummary(summarizeRollout(steps), part1Summary(steps), `pool rollout ${r}`);
    }
  });

  it('per rollout: full-vocabulary synthetic positions as vLLM returns them (ranks, appended tokens), in canonical and reversed order', () => {
    const view = vllmView(20, 20);
    const reverse = <T>(xs: ArrayLike<T>) => Array.from(xs).reverse();
    for (const full of syntheticRollouts({ rollouts: 6, positions: 60, seed: 9 })) {
      const steps = full.map(view);
      const reversed = steps.map((s) => ({
        token: s.token,
        specialist: { ids: reverse(s.specialist.ids), logprobs: reverse(s.specialist.logprobs), ranks: reverse(s.specialist.ranks!) },
        ancestor: { ids: reverse(s.ancestor!.ids), logprobs: reverse(s.ancestor!.logprobs) },
      }));
      for (const normalization of ['fullVocabulary', 'renormalizeTopK'] as const) {
        expectSameSummary(summarizeRollout(steps, { normalization }), part1Summary(steps, { normalization }), `synthetic ${normalization}`);
        expectSameSummary(summarizeRollout(reversed, { normalization, kCov: 10 }), part1Summary(reversed, { normalization, kCov: 10 }), `synthetic reversed ${normalization}`);
      }
    }
  });
});
