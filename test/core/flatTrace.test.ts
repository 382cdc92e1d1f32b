import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FlatTrace, RolloutFeatureAccumulator, rolloutFeatureDefaults, type StepInput, summarizeFlatTrace, summarizeRollout } from '../../src/core/index.js';
import { summarizeRollout as part1Summary } from './part1/rolloutFeatureAccumulator.js';
import { rawSlice, rawStep } from './sliceArbitraries.js';

/** Object steps as a flat trace (CSR); the ancestor's arrays only when some step has one. */
export function toFlat(steps: readonly StepInput[]): FlatTrace {
  const pack = (get: (s: StepInput) => StepInput['specialist'] | undefined) => {
    const offsets = new Int32Array(steps.length + 1);
    steps.forEach((s, t) => (offsets[t + 1] = offsets[t]! + (get(s)?.ids.length ?? 0)));
    const ids = new Int32Array(offsets[steps.length]!);
    const logprobs = new Float64Array(ids.length);
    const ranks = steps.some((s) => get(s)?.ranks) ? new Int32Array(ids.length) : undefined;
    steps.forEach((s, t) => {
      const slice = get(s);
      if (!slice) return;
      ids.set(Array.from(slice.ids), offsets[t]!);
      logprobs.set(Array.from(slice.logprobs), offsets[t]!);
      // A slice without ranks next to ranked ones: rank by position (its entries are its top block).
      if (ranks) ranks.set(slice.ranks ? Array.from(slice.ranks) : Array.from(slice.ids, (_, i) => i + 1), offsets[t]!);
    });
    return { ids, logprobs, ranks, offsets };
  };
  return { tokens: Int32Array.from(steps, (s) => s.token), specialist: pack((s) => s.specialist), ...(steps.some((s) => s.ancestor) ? { ancestor: pack((s) => s.ancestor) } : {}) };
}

const withoutRanks = (s: StepInput): StepInput => ({
  token: s.token,
  specialist: { ids: s.specialist.ids, logprobs: s.specialist.logprobs },
  ...(s.ancestor ? { ancestor: { ids: s.ancestor.ids, logprobs: s.ancestor.logprobs } } : {}),
});

describe('flat traces: the same summaries without an object per position', () => {
  it('summarizeFlatTrace = summarizeRollout = Part-1 on random traces (property)', () => {
    const maybeStep: fc.Arbitrary<StepInput> = fc.oneof(
      { weight: 8, arbitrary: rawStep({ maxEntries: 8, ranks: false }) },
      { weight: 1, arbitrary: rawSlice({ maxEntries: 8, ranks: false }).map((specialist) => ({ token: specialist.ids[0]!, specialist })) },
      { weight: 1, arbitrary: fc.constant({ token: 0, specialist: { ids: [], logprobs: [] } }) },
    );
    fc.assert(
      fc.property(fc.array(maybeStep, { minLength: 1, maxLength: 40 }), fc.constantFrom(0.6, 1), fc.integer({ min: 1, max: 4 }), (steps, temperature, kCov) => {
        const opts = { ...rolloutFeatureDefaults(), temperature, kCov, confidenceTopK: 3, confidenceWindow: 5 };
        const flat = summarizeFlatTrace(toFlat(steps), opts);
        expect(flat).toEqual(summarizeRollout(steps, opts));
        const want = part1Summary(steps.map(withoutRanks), opts);
        for (const [k, v] of Object.entries(want)) {
          const got = flat[k as keyof typeof flat];
          if (!(got === v || (typeof got === 'number' && typeof v === 'number' && Math.abs(got - v) <= 1e-12 * Math.max(1, Math.abs(v))))) throw new Error(`${k}: ${got} vs ${v}`);
        }
      }),
      { numRuns: 300, seed: 41 },
    );
  });

  it('one accumulator, reset between rollouts, gives each rollout’s own summary; pushFlat takes ranges', () => {
    const steps = fc.sample(rawStep({ maxEntries: 6 }), { numRuns: 30, seed: 3 });
    const acc = new RolloutFeatureAccumulator();
    const flat = toFlat(steps);
    const a = acc.pushFlat(flat, 0, 10).finish();
    const b = acc.reset().pushFlat(flat, 10, 30).finish();
    expect(a).toEqual(summarizeRollout(steps.slice(0, 10)));
    expect(b).toEqual(summarizeRollout(steps.slice(10))); // positions count from the reset
    expect(acc.reset().pushFlat(flat, 0, 10).finish()).toEqual(a);
  });

  it('a malformed flat trace is refused with the field and the fix named', () => {
    const ok = toFlat(fc.sample(rawStep({ maxEntries: 4, ranks: false }), { numRuns: 3, seed: 4 }));
    const bad = (f: (t: FlatTrace) => FlatTrace) => () => summarizeFlatTrace(f(ok));
    expect(bad((t) => ({ ...t, specialist: { ...t.specialist, offsets: t.specialist.offsets.subarray(1) } }))).toThrow(/specialist\.offsets has 3 entries for 3 positions; it needs n \+ 1/);
    expect(bad((t) => ({ ...t, ancestor: { ...t.ancestor!, logprobs: t.ancestor!.logprobs.subarray(1) } }))).toThrow(/ancestor\.logprobs has .* entries but ids has/);
    expect(bad((t) => ({ ...t, specialist: { ...t.specialist, offsets: Int32Array.from([0, 3, 2, t.specialist.ids.length]) } }))).toThrow(/must not decrease/);
    expect(() => new RolloutFeatureAccumulator().pushFlat(ok, 2, 9)).toThrow(/outside the trace's 3 positions/);
    // Plain arrays where typed arrays belong (JavaScript callers): the field and the fix named.
    const plain = (x: ArrayLike<number>) => Array.from(x) as unknown as Int32Array & Float64Array;
    expect(bad((t) => ({ ...t, specialist: { ...t.specialist, logprobs: plain(t.specialist.logprobs) } }))).toThrow(/specialist\.logprobs must be a Float64Array \(a flat trace is typed arrays: Float64Array\.from\(values\) makes one\)/);
    expect(bad((t) => ({ ...t, ancestor: { ...t.ancestor!, ids: plain(t.ancestor!.ids) } }))).toThrow(/ancestor\.ids must be an Int32Array/);
    expect(bad((t) => ({ ...t, specialist: { ...t.specialist, ranks: plain(t.specialist.ids) } }))).toThrow(/specialist\.ranks must be an Int32Array/);
    expect(bad((t) => ({ ...t, specialist: { ...t.specialist, offsets: plain(t.specialist.offsets) } }))).toThrow(/specialist\.offsets must be an Int32Array/);
  });
});
