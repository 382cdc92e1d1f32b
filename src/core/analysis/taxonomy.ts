import { LABELS, type Label } from '../contracts/operators.js';

export interface Taxonomy {
  n: number;
  counts: Record<Label, number>;
  /** counts / n (NaN-free: 0 when n = 0). */
  shares: Record<Label, number>;
}

/** Counts and shares of each Eq. 2 label. */
export function taxonomy(labels: readonly Label[]): Taxonomy {
  const counts = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<Label, number>;
  for (const l of labels) counts[l]++;
  const n = labels.length;
  const shares = Object.fromEntries(LABELS.map((l) => [l, n > 0 ? counts[l] / n : 0])) as Record<Label, number>;
  return { n, counts, shares };
}
