import { seededRandom } from '../random/seededRandom.js';

/**
 * k-fold cross-validated nearest-centroid classification: rows are split into `folds` folds
 * stratified by class (a seeded shuffle within each class), each fold is predicted from the
 * class centroids (Euclidean) of the other folds. Returns the out-of-fold predictions; a class
 * absent from a training split is never predicted for that fold. Deterministic for a seed.
 * (Flat typed arrays: the gate's permutation test runs it hundreds of times on thousands of rows.)
 */
export function nearestCentroidCV(X: readonly (readonly number[])[], labels: ArrayLike<number>, folds: number, seed: number): number[] {
  const dims = X[0]?.length ?? 0;
  const flat = new Float64Array(labels.length * dims);
  for (let i = 0; i < labels.length; i++) for (let d = 0; d < dims; d++) flat[i * dims + d] = X[i]![d]!;
  return nearestCentroidCVFlat(flat, dims, labels, folds, seed);
}

/** nearestCentroidCV on rows already laid out row-major in one Float64Array (`dims` values a row). */
export function nearestCentroidCVFlat(flat: Float64Array, dims: number, labels: ArrayLike<number>, folds: number, seed: number): number[] {
  return Array.from(nearestCentroidPredictions(flat, dims, labels, folds, seed));
}

/**
 * The out-of-fold predictions of nearestCentroidCV, in a Float64Array (−1 where no class was
 * trained). Two passes over the rows: the first adds each row to the class sums of every fold it
 * trains (so each fold's sums are added in row order, as one pass per fold would), the second
 * predicts each row from its own fold's centroids.
 */
export function nearestCentroidPredictions(flat: Float64Array, dims: number, labels: ArrayLike<number>, folds: number, seed: number): Float64Array {
  if (!(Number.isInteger(folds) && folds >= 1)) throw new RangeError(`folds must be a whole number ≥ 1, got ${folds}`);
  const n = labels.length;
  // The classes in ascending order, and each row's class index.
  let classes: number[];
  const classOf = new Int32Array(n);
  if (labels instanceof Int32Array) {
    // Whole numbers only (no NaN, no −0): a short scan (the two-sample test's 0/1 labels, relabelled hundreds of times).
    classes = [];
    for (let i = 0, last = NaN; i < n; i++) {
      const y = labels[i]!;
      if (y !== last && !classes.includes(y)) classes.push(y);
      last = y;
    }
    classes.sort((a, b) => a - b);
    for (let i = 0; i < n; i++) classOf[i] = classes.length === 2 ? (labels[i] === classes[0] ? 0 : 1) : classes.indexOf(labels[i]!);
  } else {
    // Any numbers, compared as a Set does (NaN is one class; −0 and 0 are one).
    classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
    const index = new Map(classes.map((c, k) => [c, k]));
    for (let i = 0; i < n; i++) classOf[i] = index.get(labels[i]!)!;
  }
  const K = classes.length;
  const fold = new Int32Array(n);
  const random = seededRandom(seed);
  const idx = new Int32Array(n);
  for (let k = 0; k < K; k++) {
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
  // Per fold f and class c: the sum and count of c's rows outside f, and the classes in the order
  // their first row outside f appears (ties go to the first, as before).
  const sums = new Float64Array(folds * K * dims);
  const counts = new Int32Array(folds * K);
  const order = new Int32Array(folds * K);
  const seen = new Int32Array(folds);
  for (let i = 0; i < n; i++) {
    const own = fold[i]!;
    const c = classOf[i]!;
    for (let f = 0; f < folds; f++) {
      if (f === own) continue;
      const fc = f * K + c;
      if (counts[fc] === 0) order[f * K + seen[f]!++] = c;
      counts[fc]!++;
      for (let d = 0; d < dims; d++) sums[fc * dims + d]! += flat[i * dims + d]!;
    }
  }
  const centroid = sums; // divided in place: each sum is read only as its centroid from here on
  for (let fc = 0; fc < folds * K; fc++) if (counts[fc]! > 0) for (let d = 0; d < dims; d++) centroid[fc * dims + d] = sums[fc * dims + d]! / counts[fc]!;
  const predicted = new Float64Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const f = fold[i]!;
    const m = seen[f]!;
    if (m === 0) continue;
    let best = order[f * K]!;
    let bestD = Infinity;
    for (let k = 0; k < m; k++) {
      const c = order[f * K + k]!;
      const at = (f * K + c) * dims;
      let dist = 0;
      for (let d = 0; d < dims; d++) dist += (flat[i * dims + d]! - centroid[at + d]!) ** 2;
      if (dist < bestD) (bestD = dist), (best = c);
    }
    predicted[i] = classes[best]!;
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
