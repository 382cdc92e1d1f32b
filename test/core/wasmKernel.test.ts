import { describe, expect, it } from 'vitest';
import { type FlatTrace, RolloutFeatureAccumulator, type RolloutSummary, type StepInput, summarizeFlatTrace, summarizeRollout, TokenSignalComputer, type TopKSlice } from '../../src/core/index.js';
import { STAGE_ENTRIES, wasmWeights } from '../../src/core/tokens/wasmWeights.js';

// The kernel's scan, id table and paired pass run in WebAssembly (weights.wat) and read a flat
// trace's entries from one staged copy per block of positions. These pin that path to the
// JavaScript one: the same refusals, the same summaries, whatever the block and layout sizes.

/** A deterministic 32-bit LCG in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/** A raw top-K slice of n distinct ids (any order), summing to 1 − m with m ∈ [0, 0.3). */
function slice(rnd: () => number, n: number, vocabulary: number, sorted: boolean): TopKSlice {
  const used = new Set<number>();
  const ids: number[] = [];
  while (ids.length < n) {
    const id = Math.floor(rnd() * vocabulary);
    if (!used.has(id)) used.add(id), ids.push(id);
  }
  const lps: number[] = [];
  let acc = 0;
  for (let i = 0; i < n; i++) lps.push((acc -= rnd() * 0.5 + 0.01));
  const total = lps.reduce((s, x) => s + Math.exp(x), 0);
  const shift = Math.log(1 - 0.3 * rnd()) - Math.log(total);
  const logprobs = lps.map((x) => x + shift);
  if (sorted) return { ids, logprobs };
  const order = ids.map((_, i) => i).sort(() => rnd() - 0.5);
  return { ids: order.map((i) => ids[i]!), logprobs: order.map((i) => logprobs[i]!) };
}

/** Steps of every kind: usual slices, some unsorted, some without ancestor or scores, a few large ones. */
function steps(count: number, seed: number, sizes: (t: number) => number = () => 100): StepInput[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, (_, t) => {
    const n = sizes(t);
    if (t % 97 === 13) return { token: 0, specialist: { ids: [], logprobs: [] } };
    const specialist = slice(rnd, n, 4 * n + 50, t % 11 !== 5);
    const token = rnd() < 0.8 ? specialist.ids[0]! : Math.floor(rnd() * 4 * n);
    if (t % 23 === 7) return { token, specialist };
    return { token, specialist, ancestor: slice(rnd, Math.max(1, Math.round(n / 5)), 4 * n + 50, t % 13 !== 4) };
  });
}

/** Object steps as a flat trace (CSR). */
function toFlat(list: readonly StepInput[]): FlatTrace {
  const pack = (get: (s: StepInput) => TopKSlice | undefined) => {
    const offsets = new Int32Array(list.length + 1);
    list.forEach((s, t) => (offsets[t + 1] = offsets[t]! + (get(s)?.ids.length ?? 0)));
    const ids = new Int32Array(offsets[list.length]!);
    const logprobs = new Float64Array(ids.length);
    list.forEach((s, t) => {
      const sl = get(s);
      if (sl) ids.set(Array.from(sl.ids), offsets[t]!), logprobs.set(Array.from(sl.logprobs), offsets[t]!);
    });
    return { ids, logprobs, offsets };
  };
  return { tokens: Int32Array.from(list, (s) => s.token), specialist: pack((s) => s.specialist), ancestor: pack((s) => s.ancestor) };
}

const near = (got: RolloutSummary, want: RolloutSummary, tol: number) => {
  for (const k of Object.keys(want) as (keyof RolloutSummary)[]) {
    const x = got[k];
    const y = want[k];
    if (!(x === y || (typeof x === 'number' && typeof y === 'number' && Math.abs(x - y) <= tol * Math.max(1, Math.abs(y))))) throw new Error(`${k}: ${x} vs ${y}`);
  }
};

/** The message a computer throws for a step, or null. */
function refusal(step: StepInput, wasm: boolean): string | null {
  try {
    new TokenSignalComputer({ wasm }).compute(step, 7);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('the WebAssembly kernel (scan, id table, paired pass, staging)', () => {
  it('is the path taken here', () => {
    expect(wasmWeights).not.toBeNull();
  });

  it('refuses what the JavaScript kernel refuses, with the same message', () => {
    const ok = { ids: [1, 2, 3], logprobs: [-0.5, -1.5, -2.5] };
    const bad: StepInput[] = [
      { token: 1, specialist: { ids: [1, 2, 3], logprobs: [-0.5, NaN, -2.5] } },
      { token: 1, specialist: { ids: [1, 2, 3], logprobs: [-0.5, -1, 0.1] } },
      { token: 1, specialist: { ids: [1, 2, 1], logprobs: [-0.5, -1.5, -2.5] } },
      // The first problem met from the end is the one named, in both kernels.
      { token: 1, specialist: { ids: [1, 1, 3], logprobs: [NaN, -1.5, -2.5] } },
      { token: 1, specialist: ok, ancestor: { ids: [4, 4], logprobs: [-1, -2] } },
      { token: 1, specialist: ok, ancestor: { ids: [4, 5], logprobs: [-1, Infinity] } },
      { token: 1, specialist: { ...ok, ranks: [1, 0, 3] } },
      { token: 1, specialist: ok, ancestor: { ids: [4, 5], logprobs: [-1, -2], ranks: [1, -2] } },
      { token: 1, specialist: { ids: [1, 2], logprobs: [-0.01, -0.02] } }, // sums above 1: not raw
    ];
    for (const step of bad) {
      const js = refusal(step, false);
      expect(js).not.toBeNull();
      expect(refusal(step, true)).toBe(js);
    }
    expect(refusal({ token: 1, specialist: ok, ancestor: { ids: [3, 9], logprobs: [-1, -3] } }, true)).toBeNull();
  });

  it('flat traces read in staged blocks give exactly the object steps’ summaries (several blocks, slices past the first layout)', () => {
    // ~100 entries a position: 700 positions span 70k entries, three blocks of at most STAGE_ENTRIES.
    const long = steps(700, 5);
    expect(toFlat(long).specialist.ids.length).toBeGreaterThan(2 * STAGE_ENTRIES);
    const flat = summarizeFlatTrace(toFlat(long));
    expect(flat).toEqual(summarizeRollout(long));
    near(flat, summarizeRollout(long, { wasm: false }), 1e-13);
    // Slices of 300 and 1,000 entries midway grow the module's layout (its id tables, staging) mid-trace.
    const grown = steps(120, 9, (t) => (t === 40 ? 300 : t === 80 ? 1000 : 60));
    const g = summarizeFlatTrace(toFlat(grown));
    expect(g).toEqual(summarizeRollout(grown));
    near(g, summarizeRollout(grown, { wasm: false }), 1e-13);
    // Ranges of the trace, pushed in turn, make the whole.
    const trace = toFlat(long);
    const acc = new RolloutFeatureAccumulator();
    acc.pushFlat(trace, 0, 333).pushFlat(trace, 333, 334).pushFlat(trace, 334, 700);
    expect(acc.finish()).toEqual(flat);
  });

  it('reads the arrays afresh on every pushFlat: edited in place, or after a refused position', () => {
    const list = steps(300, 17);
    const trace = toFlat(list);
    const acc = new RolloutFeatureAccumulator();
    const before = acc.reset().pushFlat(trace).finish();
    // Edit in place (same arrays, new contents): the next read must see the edit.
    const lp = trace.specialist.logprobs;
    const saved = lp.slice();
    for (let i = 0; i < lp.length; i++) lp[i] = lp[i]! - 0.25;
    const edited = acc.reset().pushFlat(trace).finish();
    expect(edited).toEqual(summarizeFlatTrace({ ...trace, specialist: { ...trace.specialist, logprobs: lp.slice() } }));
    expect(edited).not.toEqual(before);
    // A refused position stops the read; fixed in place, the same arrays read correctly again.
    const at = trace.specialist.offsets[150]! + 3;
    lp.set(saved);
    lp[at] = NaN;
    expect(() => acc.reset().pushFlat(trace)).toThrow(/position 150: specialist log-prob #3 is NaN/);
    lp[at] = saved[at]!;
    expect(acc.reset().pushFlat(trace).finish()).toEqual(before);
  });
});

describe('the weights pass (weights.wat: $expv written out twice in $weigh, and in $weighNormal without what a normal result never needs)', () => {
  it('gives exp of (c − vmax)/T and Σ exp(c) bit for bit as $expv does, at any length and temperature', () => {
    const w = wasmWeights!;
    const rnd = lcg(77);
    for (const n of [1, 2, 3, 20, 101, 300]) {
      for (const invT of [1 / 0.6, 1, 1 / 1.4, 3]) {
        const ids = Int32Array.from({ length: n }, (_, i) => i * 7 + 1);
        // Log-probs from tiny to below the floor, so some weights are subnormal or 0.
        const lps = Float64Array.from({ length: n }, (_, i) => (i % 17 === 3 ? -1200 : -rnd() * (i % 5 === 0 ? 900 : 30)));
        expect(w.scanWeigh(0, ids, lps, 0, n, 1, -1000, invT, true)).toBe(true);
        // Read before w.exp below, which reuses the slot.
        const got = Array.from(w.weights(0).slice(0, n));
        const { mass1, vmax: gotVmax, massExact } = w;
        const c = Float64Array.from(lps, (x) => Math.max(x, -1000));
        const vmax = Math.max(...c);
        // A slice whose largest probability is ≥ 0.99 has its mass summed with Math.exp's bits (the test below).
        expect(massExact).toBe(vmax >= Math.log(0.99));
        const pad = (xs: Float64Array) => (xs.length % 2 === 0 ? xs : Float64Array.from([...xs, 0]));
        const want = w.exp(pad(Float64Array.from(c, (x) => (x - vmax) * invT))).slice(0, n);
        const expC = w.exp(pad(c)).slice(0, n);
        expect(got).toEqual(Array.from(want));
        let mass = 0;
        for (let i = n - 1; i >= 0; i--) mass += massExact ? Math.exp(c[i]!) : expC[i]!;
        expect(mass1).toBe(mass);
        expect(gotVmax).toBe(vmax);
      }
    }
  });

  it('takes $weighNormal only where every exp is normal, with the same bits as $expv on either side of −708', () => {
    const w = wasmWeights!;
    const rnd = lcg(91);
    // The smallest log-prob at, just inside and just outside the bound, for weights (÷T) and for Σ exp(c).
    for (const lo of [-0.5, -30, -236, -236.1, -700, -707.99, -708, -708.01, -720, -745.1, -760]) {
      for (const invT of [1 / 0.6, 1, 3]) {
        for (const n of [1, 2, 3, 20, 101]) {
          const ids = Int32Array.from({ length: n }, (_, i) => i * 5 + 2);
          const lps = Float64Array.from({ length: n }, () => lo * rnd());
          lps[Math.floor(rnd() * n)] = lo;
          for (const withMass of [true, false]) {
            expect(w.scanWeigh(0, ids, lps, 0, n, 2, -1000, invT, withMass)).toBe(true);
            const got = Array.from(w.weights(0).slice(0, n));
            const { mass1, returned, sumWV, massExact } = w;
            const vmax = Math.max(...lps);
            expect(massExact).toBe(withMass && vmax >= Math.log(0.99));
            const pad = (xs: Float64Array) => (xs.length % 2 === 0 ? xs : Float64Array.from([...xs, 0]));
            const want = Array.from(w.exp(pad(Float64Array.from(lps, (x) => (x - vmax) * invT))).slice(0, n));
            const expC = w.exp(pad(lps)).slice(0, n);
            expect(got, `lo ${lo}, 1/T ${invT}, n ${n}`).toEqual(want);
            let mass = 0;
            let total = 0;
            let weighted = 0;
            for (let i = n - 1; i >= 0; i--) (mass += massExact ? Math.exp(lps[i]!) : expC[i]!), (total += want[i]!), (weighted += want[i]! * lps[i]!);
            expect([returned, sumWV]).toEqual([total, weighted]);
            if (withMass) expect(mass1, `lo ${lo}, 1/T ${invT}, n ${n}`).toBe(mass);
          }
        }
      }
    }
  });

  it('sums Σ exp(c) with Math.exp’s bits where the largest probability is ≥ 0.99, and re-sums a small unreturned mass so', () => {
    const w = wasmWeights!;
    const rnd = lcg(5);
    const jsMass = (c: ArrayLike<number>, n: number) => {
      let m = 0;
      for (let i = n - 1; i >= 0; i--) m += Math.exp(c[i]!);
      return m;
    };
    // Lengths around the module's four-entry steps and its one-to-three-entry end.
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 101]) {
      for (const top of [-1e-7, -0.005, Math.log(0.99), -0.0101, -0.4]) {
        const ids = Int32Array.from({ length: n }, (_, i) => i * 3 + 1);
        // The top entry, then tiny ones (a confident model's slice), some below the floor.
        const lps = Float64Array.from({ length: n }, (_, i) => (i === 0 ? top : i % 7 === 3 ? -1500 : top - 5 - 40 * rnd()));
        expect(w.scanWeigh(0, ids, lps, 0, n, 1, -1000, 1, true)).toBe(true);
        const c = Float64Array.from(lps, (x) => Math.max(x, -1000));
        expect(w.massExact, `n ${n}, top ${top}`).toBe(top >= Math.log(0.99));
        if (w.massExact) expect(w.mass1, `n ${n}, top ${top}`).toBe(jsMass(c, n));
        // What finishSlice asks for where the module's own exp summed a small unreturned mass.
        expect(w.exactMass(0, n), `n ${n}, top ${top}`).toBe(jsMass(c, n));
      }
    }
    // Through the kernel: traces of confident slices (tails of 1e-9 to 1e-2, some over 0.99 at the top, some not) give the JavaScript kernel's summaries.
    const confident: StepInput[] = Array.from({ length: 300 }, (_, t) => {
      const n = 20 + (t % 7);
      const ids = Array.from({ length: n }, (_, i) => i * 11 + (t % 5));
      const lps = Array.from({ length: n }, (_, i) => (i === 0 ? 0 : -(t % 3 === 0 ? 3 : 6) - i - 4 * rnd()));
      const total = lps.reduce((a, x) => a + Math.exp(x), 0);
      const shift = Math.log(1 - 10 ** (-9 + 7 * rnd())) - Math.log(total);
      const specialist = { ids, logprobs: lps.map((x) => x + shift) };
      return { token: ids[0]!, specialist, ancestor: { ids: ids.slice(0, 8), logprobs: specialist.logprobs.slice(0, 8).map((x) => x - 0.5) } };
    });
    near(summarizeRollout(confident), summarizeRollout(confident, { wasm: false }), 1e-13);
  });
});
