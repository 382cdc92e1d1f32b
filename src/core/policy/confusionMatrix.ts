/**
 * The confusion matrix of paired labels: matrix[t][p] = rows whose truth is t and prediction p.
 * Every class of `classes` (truth) × `predictedClasses` (default: the same) gets a cell, zeros
 * included. Throws when the arrays differ in length or hold a label outside the classes.
 *
 * @example confusionMatrix(['a','a','b'], ['a','b','b'], ['a','b']) // {a: {a: 1, b: 1}, b: {a: 0, b: 1}}
 */
export function confusionMatrix<T extends string, P extends string = T>(
  truth: readonly T[],
  predicted: readonly P[],
  classes: readonly T[],
  predictedClasses: readonly P[] = classes as unknown as readonly P[],
): Record<T, Record<P, number>> {
  if (truth.length !== predicted.length) throw new RangeError(`truth has ${truth.length} labels but predicted has ${predicted.length}`);
  const m = {} as Record<T, Record<P, number>>;
  for (const t of classes) {
    m[t] = {} as Record<P, number>;
    for (const p of predictedClasses) m[t][p] = 0;
  }
  truth.forEach((t, i) => {
    const p = predicted[i]!;
    if (m[t] === undefined) throw new RangeError(`truth #${i} is "${t}", not one of ${classes.join(', ')}`);
    if (m[t][p] === undefined) throw new RangeError(`prediction #${i} is "${p}", not one of ${predictedClasses.join(', ')}`);
    m[t][p] += 1;
  });
  return m;
}
