import { seededRandom } from '../random/seededRandom.js';

/**
 * k-fold assignment for cross-validation, by group and stratified: every row of a group (the
 * same problem) lands in the same fold, so a problem is never both fitted on and held out;
 * groups are dealt round-robin to folds after a seeded shuffle within each stratum (a group's
 * stratum is its first row's), so each fold gets a share of every stratum. Returns the fold
 * (0…k−1) of each row. Throws when there are fewer groups than folds.
 */
export function crossValidationFolds(groups: readonly string[], strata: readonly string[], folds: number, seed: number): number[] {
  if (groups.length !== strata.length) throw new RangeError(`${groups.length} groups but ${strata.length} strata`);
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`cross-validation needs at least 2 folds, got ${folds}`);
  const stratumOf = new Map<string, string>();
  groups.forEach((g, i) => {
    if (!stratumOf.has(g)) stratumOf.set(g, strata[i]!);
  });
  if (stratumOf.size < folds) throw new RangeError(`${folds} folds need at least ${folds} distinct problems, got ${stratumOf.size}`);
  const byStratum = new Map<string, string[]>();
  for (const [g, s] of stratumOf) byStratum.set(s, [...(byStratum.get(s) ?? []), g]);
  const random = seededRandom(seed);
  const foldOf = new Map<string, number>();
  let next = 0;
  for (const s of [...byStratum.keys()].sort()) {
    const members = byStratum.get(s)!;
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random.uniform() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    for (const g of members) foldOf.set(g, next++ % folds);
  }
  return groups.map((g) => foldOf.get(g)!);
}

/**
 * Out-of-fold predictions: for each fold f, `fit` sees only the rows outside f (a fresh array,
 * in row order) and `predict` is applied to each row of f. Returns one prediction per row, in
 * row order. The fitted model never sees a held-out row.
 */
export function crossValidate<R, M, P>(
  rows: readonly R[],
  folds: readonly number[],
  fit: (train: R[], fold: number) => M,
  predict: (model: M, row: R) => P,
): P[] {
  if (rows.length !== folds.length) throw new RangeError(`${rows.length} rows but ${folds.length} fold assignments`);
  const out = new Array<P>(rows.length);
  for (const f of [...new Set(folds)].sort((a, b) => a - b)) {
    const model = fit(rows.filter((_, i) => folds[i] !== f), f);
    rows.forEach((row, i) => {
      if (folds[i] === f) out[i] = predict(model, row);
    });
  }
  return out;
}
