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

/**
 * nearestCentroidPredictions for a two-sample test's relabellings, counted rather than listed:
 * labels 0/1 over the same rows, always `n0` zeros and `n1` ones. The fold of each class's q-th
 * row (in index order) then depends only on n0, n1, the folds and the seed (the per-class seeded
 * shuffle is the same every time), so it is dealt once here; each call makes one pass adding the
 * rows to their training sums (in row order, as nearestCentroidPredictions adds them) and one
 * predicting, in arrays allocated once. The predictions are nearestCentroidPredictions' exactly.
 */
export class TwoClassCentroidCV {
  private readonly foldOfPosition: Int32Array;
  private readonly fold: Int32Array;
  private readonly sums: Float64Array;
  private readonly trainingCounts: Int32Array;
  private readonly order: Int32Array;
  private readonly seen: Int32Array;

  constructor(
    private readonly flat: Float64Array,
    private readonly dims: number,
    private readonly n0: number,
    private readonly n1: number,
    private readonly folds: number,
    seed: number,
  ) {
    if (!(Number.isInteger(folds) && folds >= 1)) throw new RangeError(`folds must be a whole number ≥ 1, got ${folds}`);
    if (!(n0 >= 1 && n1 >= 1)) throw new RangeError(`both classes need rows (got ${n0} and ${n1})`);
    const random = seededRandom(seed);
    // As nearestCentroidPredictions deals them: class 0's positions shuffled, then class 1's, from
    // one stream. Class 1's q-th row is at n0 + q.
    this.foldOfPosition = new Int32Array(n0 + n1);
    for (const [from, m] of [[0, n0], [n0, n1]] as const) {
      const position = new Int32Array(m);
      for (let q = 0; q < m; q++) position[q] = q;
      for (let i = m - 1; i > 0; i--) {
        const j = Math.floor(random.uniform() * (i + 1));
        const t = position[i]!;
        position[i] = position[j]!;
        position[j] = t;
      }
      for (let r = 0; r < m; r++) this.foldOfPosition[from + position[r]!] = r % folds;
    }
    // Rows training fold f: all of a class but those dealt to f.
    this.trainingCounts = new Int32Array(folds * 2);
    for (let f = 0; f < folds; f++) (this.trainingCounts[f * 2] = n0), (this.trainingCounts[f * 2 + 1] = n1);
    for (let p = 0; p < n0 + n1; p++) this.trainingCounts[this.foldOfPosition[p]! * 2 + (p < n0 ? 0 : 1)]!--;
    this.fold = new Int32Array(n0 + n1);
    this.sums = new Float64Array(folds * 2 * dims);
    this.order = new Int32Array(folds * 2);
    this.seen = new Int32Array(folds);
    this.grouped = dims === 3 && folds <= 5 && flat.length === 3 * (n0 + n1) && flat.every(Number.isFinite) ? new GroupedRows(n0 + n1) : null;
  }

  /** The fast path's buffers: three finite features and at most five folds (the gate's test), else null. */
  private readonly grouped: GroupedRows | null;

  /**
   * Out-of-fold hits per class for `labels` (n0 zeros, n1 ones, in any order): [correct 0s,
   * correct 1s]. The gate's case (three finite features, at most five folds) is hitsGrouped;
   * any other is the plain loop here.
   */
  hits(labels: Int32Array): [number, number] {
    if (this.grouped && labels.length === this.n0 + this.n1 && zerosAndOnes(labels)) return this.hitsGrouped(labels, this.grouped);
    const { flat, dims, folds, fold, sums, order, seen } = this;
    // How many rows of each class train each fold: the same for every labelling (the deal depends only on the class sizes).
    const counts = this.trainingCounts;
    const n = this.n0 + this.n1;
    if (labels.length !== n) throw new RangeError(`labels must have ${n} entries, got ${labels.length}`);
    const foldOfPosition = this.foldOfPosition;
    let q0 = 0;
    let q1 = this.n0;
    for (let i = 0; i < n; i++) fold[i] = labels[i] === 0 ? foldOfPosition[q0++]! : foldOfPosition[q1++]!;
    if (q0 !== this.n0) throw new RangeError(`labels must hold ${this.n0} zeros and ${this.n1} ones`);
    // Per fold f: the classes in the order their first training row appears (ties go to the first).
    seen.fill(0);
    for (let f = 0; f < folds; f++) {
      let i = 0;
      while (i < n && fold[i] === f) i++;
      const first = labels[i] === 0 ? 0 : 1;
      if (i < n) order[f * 2 + seen[f]!++] = first;
      if (counts[f * 2 + 1 - first]! > 0) order[f * 2 + seen[f]!++] = 1 - first;
    }
    sums.fill(0);
    const stride = 2 * dims; // from fold f's sums of a class to fold f + 1's
    for (let i = 0; i < n; i++) {
      const own = fold[i]!;
      const row = i * dims;
      let at = (labels[i] === 0 ? 0 : 1) * dims;
      for (let f = 0; f < folds; f++, at += stride) if (f !== own) for (let d = 0; d < dims; d++) sums[at + d]! += flat[row + d]!;
    }
    for (let fc = 0; fc < folds * 2; fc++) if (counts[fc]! > 0) for (let d = 0; d < dims; d++) sums[fc * dims + d] = sums[fc * dims + d]! / counts[fc]!;
    let hit0 = 0;
    let hit1 = 0;
    for (let i = 0; i < n; i++) {
      const f = fold[i]!;
      const m = seen[f]!;
      const row = i * dims;
      if (m === 0) continue;
      let best = order[f * 2]!;
      let bestD = Infinity;
      for (let k = 0; k < m; k++) {
        const c = order[f * 2 + k]!;
        const at = (f * 2 + c) * dims;
        let dist = 0;
        for (let d = 0; d < dims; d++) {
          const t = flat[row + d]! - sums[at + d]!;
          dist += t * t; // = t ** 2 exactly (V8's pow is fdlibm's, which returns t * t for an exponent of 2), without the call
        }
        if (dist < bestD) (bestD = dist), (best = c);
      }
      if (best === labels[i]) best === 0 ? hit0++ : hit1++;
    }
    return [hit0, hit1];
  }

  /**
   * hits for three finite features, at most five folds and labels all 0 or 1, the same numbers
   * found without a branch on the (shuffled, unpredictable) labels. Each class's rows are copied,
   * in row order, to a block of their own; there each fold's training sum is Σ x·w over the block,
   * w = 0 for the fold's own rows and 1 otherwise. x·1 = x, and x·0 = ±0 leaves a sum unchanged
   * (a sum from +0 is never −0), so every sum takes the same additions in the same order as hits'.
   */
  private hitsGrouped(labels: Int32Array, g: GroupedRows): [number, number] {
    const { flat, n0, folds, fold, sums, seen, foldOfPosition } = this;
    const n = n0 + this.n1;
    const { x, foldAt } = g;
    const outside = OUTSIDE;
    // Each row's fold (its class's next dealt fold) and its copy at its class's next position.
    let q0 = 0;
    let q1 = n0;
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      const p = q0 + c * (q1 - q0);
      q0 += 1 - c;
      q1 += c;
      const f = foldOfPosition[p]!;
      fold[i] = f;
      foldAt[p] = f;
      x[p] = flat[3 * i]!;
      x[n + p] = flat[3 * i + 1]!;
      x[2 * n + p] = flat[3 * i + 2]!;
    }
    if (q0 !== n0) throw new RangeError(`labels must hold ${n0} zeros and ${this.n1} ones`);
    for (let c = 0; c < 2; c++) {
      const from = c === 0 ? 0 : n0;
      const to = c === 0 ? n0 : n;
      for (let d = 0; d < 3; d++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let s4 = 0;
        const at = d * n;
        for (let p = from; p < to; p++) {
          const v = x[at + p]!;
          const w = foldAt[p]! * 5;
          s0 += v * outside[w]!;
          s1 += v * outside[w + 1]!;
          s2 += v * outside[w + 2]!;
          s3 += v * outside[w + 3]!;
          s4 += v * outside[w + 4]!;
        }
        const total = [s0, s1, s2, s3, s4];
        for (let f = 0; f < folds; f++) sums[(f * 2 + c) * 3 + d] = total[f]!;
      }
    }
    const counts = this.trainingCounts;
    for (let fc = 0; fc < folds * 2; fc++) if (counts[fc]! > 0) for (let d = 0; d < 3; d++) sums[fc * 3 + d] = sums[fc * 3 + d]! / counts[fc]!;
    // Per fold: the class of its first training row, then the other (as hits orders them), as centroid offsets.
    const { nearFirst, nearSecond, classFirst } = g;
    for (let f = 0; f < folds; f++) {
      let i = 0;
      while (i < n && fold[i] === f) i++;
      // No training row at all (i = n): neither class trains the fold, whose rows are then not predicted.
      const first = i < n ? labels[i]! : 0;
      seen[f] = (i < n ? 1 : 0) + (counts[f * 2 + 1 - first]! > 0 ? 1 : 0);
      classFirst[f] = first;
      nearFirst[f] = (f * 2 + first) * 3;
      nearSecond[f] = (f * 2 + 1 - first) * 3;
    }
    let hit0 = 0;
    let hit1 = 0;
    for (let i = 0; i < n; i++) {
      const f = fold[i]!;
      const m = seen[f]!;
      if (m === 0) continue;
      const a = nearFirst[f]!;
      const b = nearSecond[f]!;
      const x0 = flat[3 * i]!;
      const x1 = flat[3 * i + 1]!;
      const x2 = flat[3 * i + 2]!;
      const s0 = x0 - sums[a]!;
      const s1 = x1 - sums[a + 1]!;
      const s2 = x2 - sums[a + 2]!;
      const t0 = x0 - sums[b]!;
      const t1 = x1 - sums[b + 1]!;
      const t2 = x2 - sums[b + 2]!;
      const first = s0 * s0 + s1 * s1 + s2 * s2;
      const second = t0 * t0 + t1 * t1 + t2 * t2;
      // hits' rule: the first class unless the second trains the fold too and is strictly nearer
      // (a NaN or infinite first distance counts as infinity, as the loop's `dist < bestD` from ∞ takes it).
      const c0 = classFirst[f]!;
      const best = m === 2 && second < (first < Infinity ? first : Infinity) ? 1 - c0 : c0;
      const label = labels[i]!;
      hit1 += best & label;
      hit0 += (best | label) ^ 1;
    }
    return [hit0, hit1];
  }
}

/** OUTSIDE[g·5 + f]: 1 when a row of fold g trains fold f (g ≠ f), else 0. */
const OUTSIDE = Float64Array.from({ length: 25 }, (_, k) => (Math.floor(k / 5) === k % 5 ? 0 : 1));

/** Whether every label is 0 or 1. */
function zerosAndOnes(labels: Int32Array): boolean {
  let other = 0;
  for (let i = 0; i < labels.length; i++) other |= labels[i]! & ~1;
  return other === 0;
}

/** Buffers of hitsGrouped, allocated once per test. */
class GroupedRows {
  /** Rows grouped by class (class 0's block first), one feature after another: x[d·n + position]. */
  readonly x: Float64Array;
  /** The fold of the row at each grouped position. */
  readonly foldAt: Int32Array;
  /** Per fold: its first class, and the offsets in `sums` of its first and second class's centroids. */
  readonly classFirst = new Int32Array(5);
  readonly nearFirst = new Int32Array(5);
  readonly nearSecond = new Int32Array(5);
  constructor(n: number) {
    this.x = new Float64Array(3 * n);
    this.foldAt = new Int32Array(n);
  }
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
