import { seededRandom } from '../random/seededRandom.js';
import { zScores } from '../routing/zScore.js';

export interface TwoSampleTestResult {
  nA: number;
  nB: number;
  /** Cross-validated accuracy of telling sample A from sample B. */
  accuracy: number;
  /** Accuracy of always guessing the larger sample. */
  majority: number;
  /** Permutation p-value: P(accuracy with shuffled labels ≥ observed). */
  p: number;
  folds: number;
  permutations: number;
}

/**
 * A classifier two-sample test: can a nearest-centroid classifier on z-scored features tell
 * sample A's rows from sample B's better than guessing the majority? Accuracy is k-fold
 * cross-validated (stratified, seeded); the p-value compares it with the same procedure on
 * randomly relabelled rows, (1 + #{perm ≥ observed}) / (1 + permutations). Deterministic for a seed.
 */
export function classifierTwoSampleTest(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  options: { folds?: number; permutations?: number; seed?: number } = {},
): TwoSampleTestResult | null {
  if (a.length < 2 || b.length < 2) return null;
  const dims = a[0]!.length;
  const raw = [...a, ...b];
  const cols = Array.from({ length: dims }, (_, d) => zScores(raw.map((x) => x[d]!)));
  const X = raw.map((_, i) => cols.map((c) => c[i]!));
  const labels: number[] = raw.map((_, i) => (i < a.length ? 0 : 1));
  const folds = Math.max(2, Math.min(options.folds ?? 5, a.length, b.length));
  const permutations = options.permutations ?? 200;
  const seed = options.seed ?? 1;

  const observed = cvAccuracy(X, labels, folds, seed);
  const random = seededRandom(seed ^ 0x5bd1e995);
  let atLeast = 0;
  const shuffled = [...labels];
  for (let p = 0; p < permutations; p++) {
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    if (cvAccuracy(X, shuffled, folds, seed) >= observed - 1e-12) atLeast++;
  }
  return {
    nA: a.length,
    nB: b.length,
    accuracy: observed,
    majority: Math.max(a.length, b.length) / raw.length,
    p: (1 + atLeast) / (1 + permutations),
    folds,
    permutations,
  };
}

/** Stratified k-fold accuracy of the nearest-centroid classifier. */
function cvAccuracy(X: number[][], labels: number[], folds: number, seed: number): number {
  const fold = new Array<number>(labels.length);
  const random = seededRandom(seed);
  for (const cls of [0, 1]) {
    const idx = labels.flatMap((l, i) => (l === cls ? [i] : []));
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, k) => (fold[row] = k % folds));
  }
  let correct = 0;
  const dims = X[0]!.length;
  for (let f = 0; f < folds; f++) {
    const centroid = [new Array<number>(dims).fill(0), new Array<number>(dims).fill(0)];
    const count = [0, 0];
    X.forEach((x, i) => {
      if (fold[i] === f) return;
      count[labels[i]!]!++;
      x.forEach((v, d) => (centroid[labels[i]!]![d]! += v));
    });
    if (count[0] === 0 || count[1] === 0) continue;
    for (const c of [0, 1]) centroid[c] = centroid[c]!.map((v) => v / count[c]!);
    X.forEach((x, i) => {
      if (fold[i] !== f) return;
      const d0 = x.reduce((s, v, d) => s + (v - centroid[0]![d]!) ** 2, 0);
      const d1 = x.reduce((s, v, d) => s + (v - centroid[1]![d]!) ** 2, 0);
      if ((d1 < d0 ? 1 : 0) === labels[i]) correct++;
    });
  }
  return correct / labels.length;
}
