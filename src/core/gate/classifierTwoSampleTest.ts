import { type Random, seededRandom } from '../random/seededRandom.js';
import { zScores } from '../routing/zScore.js';
import { accuracyOf, balancedAccuracyOf, nearestCentroidPredictions, TwoClassCentroidCV } from '../stats/nearestCentroidCV.js';

export interface TwoSampleTestResult {
  /** Rows of each sample the test ran on (after thinning, see `totalA` / `totalB`). */
  nA: number;
  nB: number;
  /** Rows of each sample before thinning. */
  totalA: number;
  totalB: number;
  /**
   * Cross-validated balanced accuracy of telling sample A from sample B: the mean of the two
   * per-sample recalls. Chance is 0.5 whatever the sizes; this is what the p-value tests.
   */
  balancedAccuracy: number;
  /** Plain cross-validated accuracy (for reference: under no difference it sits below `majority` at unequal sizes). */
  accuracy: number;
  /** Accuracy of always guessing the larger sample. */
  majority: number;
  /** Permutation p-value: P(balanced accuracy with shuffled labels ≥ observed). */
  p: number;
  folds: number;
  permutations: number;
}

/**
 * A classifier two-sample test: can a nearest-centroid classifier on z-scored features tell
 * sample A's rows from sample B's better than chance? The statistic is the k-fold cross-validated
 * (stratified, seeded) balanced accuracy — plain accuracy is misleading at unequal sizes (under
 * the null a nearest-centroid rule splits its guesses about evenly, so at 50 vs 170 its accuracy
 * sits ~26 points under the majority share). The p-value compares it with the same procedure
 * on randomly relabelled rows, (1 + #{perm ≥ observed}) / (1 + permutations). Deterministic for
 * a seed. Samples over `maxPerSample` (5,000) rows are thinned first to a seeded uniform
 * subsample of that size (an even stride would alias with a periodic test order, e.g. prompts ×
 * tests or repeated blocks, and tell identical populations apart); the result states both sizes.
 */
export function classifierTwoSampleTest(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  options: { folds?: number; permutations?: number; seed?: number; maxPerSample?: number } = {},
): TwoSampleTestResult | null {
  if (a.length < 2 || b.length < 2) return null;
  const totalA = a.length;
  const totalB = b.length;
  const seed = options.seed ?? 1;
  // Large samples: a seeded uniform subsample of each (the test stays valid on it).
  const cap = options.maxPerSample ?? 5000;
  const thinning = seededRandom(seed ^ 0x2545f491);
  a = uniformSubsample(a, cap, thinning);
  b = uniformSubsample(b, cap, thinning);
  const dims = a[0]!.length;
  const raw = [...a, ...b];
  const cols = Array.from({ length: dims }, (_, d) => zScores(raw.map((x) => x[d]!)));
  // Row-major z-scores, laid out once for the hundreds of cross-validations below.
  const X = new Float64Array(raw.length * dims);
  raw.forEach((_, i) => cols.forEach((c, d) => (X[i * dims + d] = c[i]!)));
  // Sample A's rows are labelled 0, sample B's 1.
  const labels = new Int32Array(raw.length).fill(1, a.length);
  const folds = Math.max(2, Math.min(options.folds ?? 5, a.length, b.length));
  const permutations = options.permutations ?? 200;

  const predicted = Array.from(nearestCentroidPredictions(X, dims, labels, folds, seed));
  const observed = balancedAccuracyOf(predicted, Array.from(labels));
  const random = seededRandom(seed ^ 0x5bd1e995);
  let atLeast = 0;
  const shuffled = labels.slice();
  const relabelled = new TwoClassCentroidCV(X, dims, a.length, b.length, folds, seed);
  for (let p = 0; p < permutations; p++) {
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      const t = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = t;
    }
    const [hit0, hit1] = relabelled.hits(shuffled);
    // balancedAccuracyOf for labels 0 and 1: the same number.
    if ((hit0 / a.length + hit1 / b.length) / 2 >= observed - 1e-12) atLeast++;
  }
  return {
    nA: a.length,
    nB: b.length,
    totalA,
    totalB,
    balancedAccuracy: observed,
    accuracy: accuracyOf(predicted, Array.from(labels)),
    majority: Math.max(a.length, b.length) / raw.length,
    p: (1 + atLeast) / (1 + permutations),
    folds,
    permutations,
  };
}

/** `cap` rows drawn uniformly without replacement (partial Fisher–Yates), kept in their original order; all rows when there are at most `cap`. */
function uniformSubsample<T>(xs: readonly T[], cap: number, random: Random): readonly T[] {
  if (xs.length <= cap) return xs;
  const index = Array.from(xs.keys());
  for (let i = 0; i < cap; i++) {
    const j = i + Math.floor(random.uniform() * (xs.length - i));
    [index[i], index[j]] = [index[j]!, index[i]!];
  }
  return index
    .slice(0, cap)
    .sort((x, y) => x - y)
    .map((i) => xs[i]!);
}
