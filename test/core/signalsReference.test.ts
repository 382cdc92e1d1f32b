import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rolloutFeatureDefaults, summarizeRollout, TokenSignalComputer, type RolloutSummary, type StepInput, type TokenSignals } from '../../src/core/index.js';
import { referenceSignals, referenceSummary } from './referenceSignals.js';
import { rawSlice, rawStep } from './sliceArbitraries.js';

/** |x − y| ≤ tol·max(1, |y|), equal infinities and NaNs. */
function close(x: number | null, y: number | null, tol: number): boolean {
  if (x === null || y === null) return x === y;
  if (Number.isNaN(y)) return Number.isNaN(x);
  if (!Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));
}

const options = fc.record({
  temperature: fc.constantFrom(0.3, 0.6, 1, 1.7),
  kCov: fc.integer({ min: 1, max: 5 }),
  confidenceTopK: fc.integer({ min: 1, max: 5 }),
  normalization: fc.constantFrom('fullVocabulary' as const, 'renormalizeTopK' as const),
});

const FIELDS: (keyof TokenSignals)[] = ['deltaPath', 'deltaPathLow', 'deltaPathHigh', 'gcov', 'gcovLow', 'gcovHigh', 'j', 'kl', 'logitVar', 'entropy', 'takenLogprob', 'confidence'];

describe('TokenSignalComputer = the Map-based reference (property, unsorted slices)', () => {
  it('every signal and its bounds, ranks present or absent, taken token sometimes missing', () => {
    fc.assert(
      fc.property(rawStep({ maxEntries: 8 }), options, (step, o) => {
        const opts = { ...rolloutFeatureDefaults(), ...o };
        const got = new TokenSignalComputer(opts).compute(step);
        const want = referenceSignals(step, opts);
        expect(got.paired).toBe(want.paired);
        for (const f of FIELDS) {
          if (!close(got[f] as number, want[f] as number, 1e-9)) throw new Error(`${f}: got ${got[f]}, reference ${want[f]}`);
        }
        expect(got.j > 0).toBe(want.j > 0);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('every summary field of random traces (gaps, missing ancestors, short traces, any windows)', () => {
    const maybeStep: fc.Arbitrary<StepInput> = fc.oneof(
      { weight: 8, arbitrary: rawStep({ maxEntries: 6 }) },
      { weight: 1, arbitrary: rawSlice({ maxEntries: 6 }).map((specialist) => ({ token: specialist.ids[0]!, specialist })) },
      { weight: 1, arbitrary: fc.constant({ token: 0, specialist: { ids: [], logprobs: [] } }) },
    );
    const windows = fc.record({ junctionWindow: fc.integer({ min: 0, max: 10 }), confidenceWindow: fc.integer({ min: 1, max: 20 }) });
    fc.assert(
      fc.property(fc.array(maybeStep, { minLength: 1, maxLength: 40 }), options, windows, (steps, o, w) => {
        const opts = { ...rolloutFeatureDefaults(), ...o, ...w };
        const got = summarizeRollout(steps, opts);
        const want = referenceSummary(steps, opts);
        for (const k of Object.keys(want) as (keyof RolloutSummary)[]) {
          if (!close(got[k], want[k], 1e-9)) throw new Error(`${k}: got ${got[k]}, reference ${want[k]}`);
        }
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});
