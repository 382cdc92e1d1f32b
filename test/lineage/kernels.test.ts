import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINARY_MODULE_PATH, compileKernels, kernelsModuleSource, WAT_PATH } from '../../scripts/build-wasm.mjs';
import { instantiateKernels } from '../../src/lineage/kernels.js';

/** Kernels over a 1 MiB memory, with helpers to place float32 arrays in it. */
function bench() {
  const k = instantiateKernels(1 << 20);
  const f32 = new Float32Array(k.memory.buffer);
  let top = 16;
  const put = (values: ArrayLike<number>): number => {
    const at = top;
    f32.set(values, at / 4);
    top += Math.ceil((values.length * 4) / 16) * 16;
    return at;
  };
  const alloc = (n: number) => put(new Float32Array(n));
  const get = (at: number, n: number) => Array.from(f32.subarray(at / 4, at / 4 + n));
  return { k, put, alloc, get };
}

const f32 = Math.fround;
const floats = (n: number, scale = 1) => fc.array(fc.float({ min: f32(-scale), max: f32(scale), noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });

describe('kernels.wasm', () => {
  it('the committed binary is a fresh compile of kernels.wat', async () => {
    const bytes = await compileKernels(readFileSync(WAT_PATH, 'utf8'));
    expect(readFileSync(BINARY_MODULE_PATH, 'utf8')).toBe(kernelsModuleSource(bytes));
  });

  it('linear: y = x·Wᵀ + b against a float64 reference, and accumulate adds to y', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.constantFrom(4, 8, 12), fc.constantFrom(4, 8, 16), fc.integer({ min: 0, max: 1000 }), (rows, inDim, outDim, s) => {
        const rand = (i: number) => f32(Math.sin(s * 7.1 + i * 1.3) * 2);
        const x = Array.from({ length: rows * inDim }, (_, i) => rand(i));
        const w = Array.from({ length: outDim * inDim }, (_, i) => rand(1000 + i));
        const b = Array.from({ length: outDim }, (_, i) => rand(5000 + i));
        const y0 = Array.from({ length: rows * outDim }, (_, i) => rand(9000 + i));
        const { k, put, get } = bench();
        const [px, pw, pb] = [put(x), put(w), put(b)];
        const py = put(y0);
        const pz = put(y0);
        k.linear(px, rows, inDim, pw, pb, outDim, py, 0);
        k.linear(px, rows, inDim, pw, pb, outDim, pz, 1);
        const y = get(py, rows * outDim);
        const z = get(pz, rows * outDim);
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < outDim; o++) {
            let want = b[o]!;
            for (let i = 0; i < inDim; i++) want += x[r * inDim + i]! * w[o * inDim + i]!;
            expect(y[r * outDim + o]).toBeCloseTo(want, 4);
            expect(z[r * outDim + o]).toBeCloseTo(y0[r * outDim + o]! + want, 4);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('linear: a row gives the same bits alone, in a pair, or as the odd row of three', () => {
    fc.assert(
      fc.property(floats(3 * 8), floats(8 * 8), (x, w) => {
        const { k, put, alloc, get } = bench();
        const [px, pw] = [put(x), put(w)];
        const all = alloc(3 * 8);
        k.linear(px, 3, 8, pw, 0, 8, all, 0);
        for (let r = 0; r < 3; r++) {
          const one = alloc(8);
          k.linear(px + r * 32, 1, 8, pw, 0, 8, one, 0);
          expect(get(one, 8)).toEqual(get(all + r * 32, 8));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('exp: within 3e-7 relative of Math.exp on [-87, 88.3], clamped outside', () => {
    const xs = Array.from({ length: 4000 }, (_, i) => f32(-87 + (175.3 * i) / 3999));
    const { k, put, get } = bench();
    const at = put(xs);
    k.exp(at, xs.length);
    const ys = get(at, xs.length);
    let worst = 0;
    xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(ys[i]! / Math.exp(x) - 1))));
    expect(worst).toBeLessThan(3e-7);
    const edge = put([-1000, -Infinity, 0, 1000]);
    k.exp(edge, 4);
    const [a, b, c, d] = get(edge, 4);
    expect(a).toBeCloseTo(Math.exp(-87.3), 40);
    expect(b).toBe(a);
    expect(c).toBe(1);
    expect(Number.isFinite(d)).toBe(true);
  });

  it('gelu: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) within 1e-6 (absolute, or relative for |y| > 1)', () => {
    const xs = Array.from({ length: 2000 }, (_, i) => f32(-12 + (24 * i) / 1999));
    const { k, put, get } = bench();
    const at = put(xs);
    k.gelu(at, xs.length);
    const ys = get(at, xs.length);
    xs.forEach((x, i) => {
      const want = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(Math.abs(ys[i]! - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
    });
  });

  it('layerNorm: (x − mean)/√(var + eps)·γ + β per row, biased variance', () => {
    fc.assert(
      fc.property(floats(2 * 8, 10), floats(8), floats(8), (x, g, b) => {
        const { k, put, alloc, get } = bench();
        const out = alloc(16);
        k.layerNorm(put(x), 2, 8, put(g), put(b), out, 1e-5);
        const y = get(out, 16);
        for (let r = 0; r < 2; r++) {
          const row = x.slice(r * 8, r * 8 + 8);
          const mean = row.reduce((s, v) => s + v, 0) / 8;
          const v = row.reduce((s, u) => s + (u - mean) ** 2, 0) / 8;
          row.forEach((u, i) => expect(y[r * 8 + i]).toBeCloseTo(((u - mean) / Math.sqrt(v + 1e-5)) * g[i]! + b[i]!, 3));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('attend: softmax(q·kᵀ·scale)·v per head over the first n cached positions', () => {
    const heads = 2;
    const hd = 16;
    const d = heads * hd;
    for (const n of [1, 3, 4, 5, 9]) {
      const rand = (i: number) => f32(Math.cos(i * 0.77 + n) * 3);
      const q = Array.from({ length: d }, (_, i) => rand(i));
      // 12 cached rows (n rounded up to 4 may be read); only the first n may count; NaN past them
      const keys = Array.from({ length: 12 * d }, (_, i) => (i < n * d ? rand(100 + i) : NaN));
      const vals = Array.from({ length: 12 * d }, (_, i) => (i < n * d ? rand(900 + i) : NaN));
      const { k, put, alloc, get } = bench();
      const out = alloc(d);
      k.attend(put(q), put(keys), put(vals), n, heads, hd, d, 0.5, alloc(12), out);
      expect(get(out, d).every(Number.isFinite)).toBe(true);
      const y = get(out, d);
      for (let h = 0; h < heads; h++) {
        const s = Array.from({ length: n }, (_, t) => 0.5 * Array.from({ length: hd }, (_, i) => q[h * hd + i]! * keys[t * d + h * hd + i]!).reduce((a, c) => a + c, 0));
        const m = Math.max(...s);
        const e = s.map((v) => Math.exp(v - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < hd; i++) {
          const want = e.reduce((acc, w, t) => acc + (w / z) * vals[t * d + h * hd + i]!, 0);
          expect(y[h * hd + i]).toBeCloseTo(want, 5);
        }
      }
    }
  });
});
