import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rolloutFeatureDefaults, summarizeRollout, type RolloutSummary, type StepInput } from '../../src/core/index.js';
import { wasmWeights } from '../../src/core/tokens/wasmWeights.js';
import { WEIGHTS_WASM_BASE64 } from '../../src/core/tokens/weightsWasm.js';
import { compileWeights } from '../../scripts/build-wasm.mjs';
import { L, makePool, P, STRIDE } from '../../scripts/bench/pool.mjs';
import { rawSlice, rawStep } from './sliceArbitraries.js';

/** Distance in units in the last place (of b). */
function ulps(a: number, b: number): number {
  const f = new Float64Array([b]);
  const i = new BigInt64Array(f.buffer);
  i[0]! += 1n;
  return Math.abs(a - b) / (f[0]! - b);
}

describe('the WebAssembly weights pass', () => {
  it('is available here (Node 20 has WebAssembly SIMD)', () => {
    expect(wasmWeights).not.toBeNull();
  });

  it('ships the compilation of the committed weights.wat (scripts/build-wasm.mjs)', async () => {
    expect(await compileWeights()).toBe(WEIGHTS_WASM_BASE64);
  });

  it('its exp is within 2 ulp of Math.exp over the arguments the kernel uses, and 0 below −745.2', () => {
    let seed = 1;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const ranges: [number, number][] = [[-745, 0], [-40, 0], [-1, 1e-6], [-1e-9, 1e-9], [-708.5, -700]];
    let worst = 0;
    for (const [lo, hi] of ranges) {
      const xs = Float64Array.from({ length: 200_000 }, () => lo + (hi - lo) * rnd());
      const ys = wasmWeights!.exp(xs);
      xs.forEach((x, i) => {
        const want = Math.exp(x);
        if (want > 1e-300) worst = Math.max(worst, ulps(ys[i]!, want));
      });
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(Array.from(wasmWeights!.exp(Float64Array.from([-745.3, -1000, -Infinity, 0])))).toEqual([0, 0, 0, 1]);
  });

  it('its copy of Math.exp (V8’s fdlibm exp) gives Math.exp’s bits: any argument, the branch bounds and their neighbours', () => {
    let seed = 3;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    const anyDouble = () => ((words[0] = (rnd() * 2 ** 32) >>> 0), (words[1] = (rnd() * 2 ** 32) >>> 0), bits[0]!);
    const xs: number[] = [];
    for (const [lo, hi] of [[-760, 720], [-745.2, -700], [-40, 0], [-2, 2], [-1e-6, 1e-6]] as const) for (let i = 0; i < 100_000; i++) xs.push(lo + (hi - lo) * rnd());
    for (let i = 0; i < 100_000; i++) xs.push(anyDouble());
    // fdlibm's bounds (|x| at 0.5·ln2, 1.5·ln2, 2^−28, the thresholds, 1, k = −1021/−1022, k = 1024) and the 40 doubles either side.
    const bounds = [0.5 * Math.LN2, 1.5 * Math.LN2, 2 ** -28, 709.782712893384, 745.1332191019412, 1, 1021 * Math.LN2, 1022 * Math.LN2, 1021.5 * Math.LN2, 709.089565712824];
    const step = new BigInt64Array(bits.buffer);
    for (const b of bounds) {
      for (const sign of [1, -1]) {
        bits[0] = sign * b;
        const at = step[0]!;
        for (let d = -40n; d <= 40n; d++) (step[0] = at + d), xs.push(bits[0]!);
      }
    }
    xs.push(0, -0, Infinity, -Infinity, NaN, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE);
    const got = wasmWeights!.exactExp(Float64Array.from(xs));
    const wrong = xs.filter((x, i) => !Object.is(got[i], Math.exp(x)));
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  const same = (got: RolloutSummary, want: RolloutSummary, tol: number) => {
    for (const k of Object.keys(want) as (keyof RolloutSummary)[]) {
      const x = got[k];
      const y = want[k];
      if (!(x === y || (typeof x === 'number' && typeof y === 'number' && Math.abs(x - y) <= tol * Math.max(1, Math.abs(y))))) throw new Error(`${k}: ${x} vs ${y}`);
    }
  };

  it('gives the summaries of the Math.exp path within 1e-13 (random traces, both normalizations; the bench pool)', () => {
    const maybeStep: fc.Arbitrary<StepInput> = fc.oneof(
      { weight: 8, arbitrary: rawStep({ maxEntries: 9 }) },
      { weight: 1, arbitrary: rawSlice({ maxEntries: 9 }).map((specialist) => ({ token: specialist.ids[0]!, specialist })) },
    );
    fc.assert(
      fc.property(fc.array(maybeStep, { minLength: 1, maxLength: 30 }), fc.constantFrom('fullVocabulary' as const, 'renormalizeTopK' as const), fc.constantFrom(0.6, 1, 1.4), (steps, normalization, temperature) => {
        const opts = { ...rolloutFeatureDefaults(), normalization, temperature, kCov: 3, confidenceTopK: 3, confidenceWindow: 4 };
        same(summarizeRollout(steps, opts), summarizeRollout(steps, { ...opts, wasm: false }), 1e-13);
      }),
      { numRuns: 400, seed: 51 },
    );
    const pool = makePool();
    for (let r = 0; r < 5; r++) {
      const steps = Array.from({ length: L }, (_, t) => pool[((r * L + t) * STRIDE) % P]!);
      same(summarizeRollout(steps), summarizeRollout(steps, { wasm: false }), 1e-13);
    }
  });
});
