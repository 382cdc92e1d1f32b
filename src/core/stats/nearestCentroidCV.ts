import { seededRandom } from '../random/seededRandom.js';

/**
 * k-fold cross-validated nearest-centroid classification: rows are split into `folds` folds
 * stratified by class (a seeded shuffle within each class), each fold is predicted from the
 * class centroids (Euclidean) of the other folds. Returns the out-of-fold predictions; a class
 * absent from a training split is never predicted for that fold. Deterministic for a seed.
 * (Flat typed arrays: the gate's permutation test runs it hundreds of times on thousands of rows.)
 */
export function nearestCentroidCV(X: readonly (readonly number[])[], labels: readonly number[], folds: number, seed: number): number[] {
  const dims = X[0]?.length ?? 0;
  const flat = new Float64Array(labels.length * dims);
  for (let i = 0; i < labels.length; i++) for (let d = 0; d < dims; d++) flat[i * dims + d] = X[i]![d]!;
  return nearestCentroidCVFlat(flat, dims, labels, folds, seed);
}

/** nearestCentroidCV on rows already laid out row-major in one Float64Array (`dims` values a row). */
export function nearestCentroidCVFlat(flat: Float64Array, dims: number, labels: readonly number[], folds: number, seed: number): number[] {
  const n = labels.length;
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const classOf = new Int32Array(n);
  const index = new Map(classes.map((c, k) => [c, k]));
  for (let i = 0; i < n; i++) classOf[i] = index.get(labels[i]!)!;
  const fold = new Int32Array(n);
  const random = seededRandom(seed);
  const idx = new Int32Array(n);
  for (let k = 0; k < classes.length; k++) {
    // This class's rows in index order, shuffled (seeded), dealt round-robin into the folds.
    let m = 0;
    for (let i = 0; i < n; i++) if (classOf[i] === k) idx[m++] = i;
    for (let i = m - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    for (let r = 0; r < m; r++) fold[idx[r]!] = r % folds;
  }
  const K = classes.length;
  const sums = new Float64Array(K * dims);
  const counts = new Int32Array(K);
  const centroid = new Float64Array(K * dims);
  const order = new Int32Array(K);
  const predicted = new Array<number>(n).fill(-1);
  for (let f = 0; f < folds; f++) {
    sums.fill(0);
    counts.fill(0);
    // Classes in the order their first training row appears (ties go to the first, as before).
    let seen = 0;
    for (let i = 0; i < n; i++) {
      if (fold[i] === f) continue;
      const c = classOf[i]!;
      if (counts[c] === 0) order[seen++] = c;
      counts[c]!++;
      for (let d = 0; d < dims; d++) sums[c * dims + d]! += flat[i * dims + d]!;
    }
    if (seen === 0) continue;
    for (let k = 0; k < seen; k++) {
      const c = order[k]!;
      for (let d = 0; d < dims; d++) centroid[c * dims + d] = sums[c * dims + d]! / counts[c]!;
    }
    for (let i = 0; i < n; i++) {
      if (fold[i] !== f) continue;
      let best = order[0]!;
      let bestD = Infinity;
      for (let k = 0; k < seen; k++) {
        const c = order[k]!;
        let dist = 0;
        for (let d = 0; d < dims; d++) dist += (flat[i * dims + d]! - centroid[c * dims + d]!) ** 2;
        if (dist < bestD) (bestD = dist), (best = c);
      }
      predicted[i] = classes[best]!;
    }
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
