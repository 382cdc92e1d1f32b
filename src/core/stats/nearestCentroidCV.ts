import { seededRandom } from '../random/seededRandom.js';

/**
 * k-fold cross-validated nearest-centroid classification: rows are split into `folds` folds
 * stratified by class (a seeded shuffle within each class), each fold is predicted from the
 * class centroids (Euclidean) of the other folds. Returns the out-of-fold predictions; a class
 * absent from a training split is never predicted for that fold. Deterministic for a seed.
 */
export function nearestCentroidCV(X: readonly (readonly number[])[], labels: readonly number[], folds: number, seed: number): number[] {
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const fold = new Array<number>(labels.length);
  const random = seededRandom(seed);
  for (const cls of classes) {
    const idx = labels.flatMap((l, i) => (l === cls ? [i] : []));
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, k) => (fold[row] = k % folds));
  }
  const dims = X[0]?.length ?? 0;
  const predicted = new Array<number>(labels.length).fill(-1);
  for (let f = 0; f < folds; f++) {
    const sums = new Map<number, number[]>();
    const counts = new Map<number, number>();
    X.forEach((x, i) => {
      if (fold[i] === f) return;
      const c = labels[i]!;
      const s = sums.get(c) ?? new Array<number>(dims).fill(0);
      x.forEach((v, d) => (s[d]! += v));
      sums.set(c, s);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    });
    const centroids = [...sums].map(([c, s]) => ({ c, at: s.map((v) => v / counts.get(c)!) }));
    X.forEach((x, i) => {
      if (fold[i] !== f || centroids.length === 0) return;
      let best = centroids[0]!;
      let bestD = Infinity;
      for (const cen of centroids) {
        const d = x.reduce((acc, v, k) => acc + (v - cen.at[k]!) ** 2, 0);
        if (d < bestD) (bestD = d), (best = cen);
      }
      predicted[i] = best.c;
    });
  }
  return predicted;
}

/** Share of predictions equal to the labels. */
export function accuracyOf(predicted: readonly number[], labels: readonly number[]): number {
  return labels.length === 0 ? NaN : predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

/**
 * Balanced accuracy: the mean over classes of each class's recall, (1/K) Σ_c #{ŷ = c ∧ y = c} / #{y = c}.
 * Chance level is 1/K whatever the class sizes, unlike plain accuracy against the majority class.
 *
 * @example balancedAccuracyOf([0, 0, 0, 1], [0, 0, 1, 1]) // (2/2 + 1/2) / 2 = 0.75
 */
export function balancedAccuracyOf(predicted: readonly number[], labels: readonly number[]): number {
  const total = new Map<number, number>();
  const hit = new Map<number, number>();
  labels.forEach((y, i) => {
    total.set(y, (total.get(y) ?? 0) + 1);
    if (predicted[i] === y) hit.set(y, (hit.get(y) ?? 0) + 1);
  });
  if (total.size === 0) return NaN;
  let sum = 0;
  for (const [y, n] of total) sum += (hit.get(y) ?? 0) / n;
  return sum / total.size;
}
