import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifierTwoSampleTest, seededRandom } from '../../src/core/index.js';
import { zScores } from '../../src/core/routing/zScore.js';
import { balancedAccuracyOf, nearestCentroidCV, nearestCentroidPredictions, TwoClassCentroidCV } from '../../src/core/stats/nearestCentroidCV.js';

/**
 * The straightforward k-fold nearest-centroid CV the two-pass version must equal exactly: folds
 * dealt per class from a seeded shuffle, then per fold the centroids of the other folds' rows
 * (summed in row order) and each held-out row's nearest centroid (classes in order of their first
 * training row, ties to the first).
 */
function referenceCV(X: number[][], rawLabels: number[], folds: number, seed: number): number[] {
  // Labels compared as a Set compares them: NaN is one class, −0 is 0.
  const labels = rawLabels.map((y) => (y === 0 ? 0 : y));
  const same = (x: number, y: number) => x === y || (x !== x && y !== y);
  const n = labels.length;
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const fold = new Array<number>(n).fill(0);
  const random = seededRandom(seed);
  for (const c of classes) {
    const idx = labels.flatMap((y, i) => (same(y, c) ? [i] : []));
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((i, r) => (fold[i] = r % folds));
  }
  const predicted = new Array<number>(n).fill(-1);
  for (let f = 0; f < folds; f++) {
    const order: number[] = [];
    const sums = new Map<number, number[]>();
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (fold[i] === f) continue;
      const c = labels[i]!;
      if (!sums.has(c)) (order.push(c), sums.set(c, X[i]!.map(() => 0)), counts.set(c, 0));
      counts.set(c, counts.get(c)! + 1);
      X[i]!.forEach((x, d) => (sums.get(c)![d]! += x));
    }
    for (let i = 0; i < n; i++) {
      if (fold[i] !== f || order.length === 0) continue;
      let best = order[0]!;
      let bestD = Infinity;
      for (const c of order) {
        const centroid = sums.get(c)!.map((s) => s / counts.get(c)!);
        let dist = 0;
        X[i]!.forEach((x, d) => (dist += (x - centroid[d]!) ** 2));
        if (dist < bestD) (bestD = dist), (best = c);
      }
      predicted[i] = best;
    }
  }
  return predicted;
}

const values = fc.oneof(fc.constantFrom(0, 1, -1, 0.5), fc.double({ min: -1e3, max: 1e3, noNaN: true }));

describe('nearest-centroid cross-validation (the gate\'s two-sample test runs it hundreds of times)', () => {
  it('equals the straightforward per-fold computation exactly: any classes (NaN and −0 too), folds, ties and repeated rows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((dims) => fc.array(fc.tuple(fc.array(values, { minLength: dims, maxLength: dims }), fc.constantFrom(0, 2, 5, 7, NaN, -0, 0.5)), { minLength: 2, maxLength: 60 })),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (rows, folds, seed) => {
          const X = rows.map((r) => r[0]);
          const labels = rows.map((r) => r[1]);
          expect(nearestCentroidCV(X, labels, folds, seed)).toEqual(referenceCV(X, labels, folds, seed));
        },
      ),
      { numRuns: 1500, seed: 3 },
    );
  });

  it('whole-number labels in an Int32Array (the two-sample test\'s) give the same predictions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(values, { minLength: 3, maxLength: 3 }), fc.constantFrom(0, 1, 2, 9)), { minLength: 2, maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (rows, folds, seed) => {
          const X = rows.map((r) => r[0]);
          const labels = rows.map((r) => r[1]);
          const flat = Float64Array.from(X.flat());
          expect(Array.from(nearestCentroidPredictions(flat, 3, Int32Array.from(labels), folds, seed))).toEqual(referenceCV(X, labels, folds, seed));
        },
      ),
      { numRuns: 1000, seed: 8 },
    );
  });

  it('the relabelling counter (dealt once, reused) hits exactly where nearestCentroidPredictions does: any dims, folds, ties, infinities and NaN (the plain loop, and the grouped path where all is finite)', () => {
    const odd = fc.oneof(values, fc.constantFrom(Infinity, -Infinity, NaN, 1e308, -1e308));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((dims) =>
          fc.tuple(
            fc.constant(dims),
            fc.array(fc.array(fc.oneof({ weight: 9, arbitrary: values }, { weight: 1, arbitrary: odd }), { minLength: dims, maxLength: dims }), { minLength: 2, maxLength: 50 }),
          ),
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        fc.array(fc.integer(), { minLength: 1, maxLength: 4 }),
        ([dims, X], folds, seed, shuffles) => {
          // Each relabelling keeps the class sizes: n0 zeros, then permutations of them.
          const n0 = 1 + (Math.abs(shuffles[0]!) % (X.length - 1));
          const flat = Float64Array.from(X.flat());
          const cv = new TwoClassCentroidCV(flat, dims, n0, X.length - n0, folds, seed);
          const labels = new Int32Array(X.length).fill(1, n0);
          const random = seededRandom(shuffles[0]!);
          for (let k = 0; k <= shuffles.length; k++) {
            const predicted = nearestCentroidPredictions(flat, dims, labels, folds, seed);
            const expected = [0, 1].map((c) => labels.filter((y, i) => y === c && predicted[i] === c).length);
            expect(cv.hits(labels)).toEqual(expected);
            for (let i = labels.length - 1; i > 0; i--) {
              const j = Math.floor(random.uniform() * (i + 1));
              [labels[i], labels[j]] = [labels[j]!, labels[i]!];
            }
          }
        },
      ),
      { numRuns: 1500, seed: 11 },
    );
    const cv = new TwoClassCentroidCV(new Float64Array(6), 2, 1, 2, 2, 1);
    expect(() => cv.hits(Int32Array.from([0, 0, 1]))).toThrow(/labels must hold 1 zeros and 2 ones/);
    expect(() => cv.hits(Int32Array.from([0, 1]))).toThrow(/labels must have 3 entries, got 2/);
    expect(() => new TwoClassCentroidCV(new Float64Array(6), 2, 0, 3, 2, 1)).toThrow(/both classes need rows/);
  });

  it('three finite features (the gate\'s case, counted without branching on the labels) hit where nearestCentroidPredictions does: ties, −0, tiny classes whose folds train one class or none', () => {
    const finite = fc.oneof(fc.constantFrom(0, -0, 1, -1, 0.5, 1e300, -1e300), fc.double({ min: -1e3, max: 1e3, noNaN: true }));
    fc.assert(
      fc.property(
        fc.array(fc.array(finite, { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        fc.integer({ min: 0, max: 100 }),
        (X, folds, seed, split) => {
          const n0 = 1 + (split % (X.length - 1));
          const flat = Float64Array.from(X.flat());
          const cv = new TwoClassCentroidCV(flat, 3, n0, X.length - n0, folds, seed);
          const labels = new Int32Array(X.length).fill(1, n0);
          const random = seededRandom(seed ^ split);
          for (let k = 0; k < 3; k++) {
            const predicted = nearestCentroidPredictions(flat, 3, labels, folds, seed);
            expect(cv.hits(labels)).toEqual([0, 1].map((c) => labels.filter((y, i) => y === c && predicted[i] === c).length));
            for (let i = labels.length - 1; i > 0; i--) {
              const j = Math.floor(random.uniform() * (i + 1));
              [labels[i], labels[j]] = [labels[j]!, labels[i]!];
            }
          }
        },
      ),
      { numRuns: 2000, seed: 17 },
    );
  });

  it('refuses folds that are not a whole number ≥ 1, naming them', () => {
    for (const folds of [0, 2.5, NaN]) expect(() => nearestCentroidCV([[1], [2]], [0, 1], folds, 1)).toThrow(/folds must be a whole number ≥ 1, got/);
  });

  it('the two-sample test\'s p-value and balanced accuracy are those of the reference procedure', () => {
    const random = seededRandom(9);
    const a = Array.from({ length: 40 }, () => [random.gaussian(), random.gaussian(), random.gaussian()]);
    const b = Array.from({ length: 30 }, () => [random.gaussian() + 0.4, random.gaussian(), random.gaussian()]);
    const got = classifierTwoSampleTest(a, b, { permutations: 99, seed: 4, folds: 5 })!;
    // The reference: each column z-scored over both samples, the reference CV on them, then on
    // relabelled rows (the same seeded shuffles).
    const raw = [...a, ...b];
    const labels: number[] = raw.map((_, i) => (i < a.length ? 0 : 1));
    const columns = [0, 1, 2].map((d) => zScores(raw.map((r) => r[d]!)));
    const Z = raw.map((_, i) => columns.map((c) => c[i]!));
    const observed = balancedAccuracyOf(referenceCV(Z, labels, 5, 4), labels);
    expect(got.balancedAccuracy).toBe(observed);
    const shuffleRandom = seededRandom(4 ^ 0x5bd1e995);
    const shuffled = [...labels];
    let atLeast = 0;
    for (let p = 0; p < 99; p++) {
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(shuffleRandom.uniform() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      if (balancedAccuracyOf(referenceCV(Z, shuffled, 5, 4), shuffled) >= observed - 1e-12) atLeast++;
    }
    expect(got.p).toBe((1 + atLeast) / 100);
  });
});
