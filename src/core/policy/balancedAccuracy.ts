/**
 * Balanced accuracy: the mean over the true classes of their recall, (1/|C|) Σ_c TP_c / N_c,
 * over the classes that occur in `truth` (a class with no true rows has no recall). A
 * prediction outside the classes (e.g. "unjudged") counts as wrong. NaN for empty input.
 * Predicting one class for every row scores 1/|C|, whatever the class shares.
 *
 * @example balancedAccuracy(['a','a','a','b'], ['a','a','a','a']) // (1 + 0) / 2 = 0.5
 */
export function balancedAccuracy(truth: readonly string[], predicted: readonly string[]): number {
  if (truth.length !== predicted.length) throw new RangeError(`truth has ${truth.length} labels but predicted has ${predicted.length}`);
  const total = new Map<string, number>();
  const hit = new Map<string, number>();
  truth.forEach((t, i) => {
    total.set(t, (total.get(t) ?? 0) + 1);
    if (predicted[i] === t) hit.set(t, (hit.get(t) ?? 0) + 1);
  });
  if (total.size === 0) return NaN;
  let sum = 0;
  for (const [c, n] of total) sum += (hit.get(c) ?? 0) / n;
  return sum / total.size;
}

/** Share of predictions equal to the truth; NaN for empty input. */
export function accuracy(truth: readonly string[], predicted: readonly string[]): number {
  if (truth.length !== predicted.length) throw new RangeError(`truth has ${truth.length} labels but predicted has ${predicted.length}`);
  return truth.length === 0 ? NaN : truth.filter((t, i) => predicted[i] === t).length / truth.length;
}
