import { DecisionTreeClassifier, type CartNode } from 'ml-cart';
import { z } from 'zod';
import { LABELS, LabelSchema, type Label } from '../contracts/operators.js';
import type { ProbeSignal } from '../contracts/probeRecord.js';
import { type TreeNode, treeNodeSchema } from './decisionTree.js';
import { signalValue, type RowSignals } from './signals.js';

/** A leaf of the regime tree: its regime and the training rows' labels behind it. */
export const RegimeLeafSchema = z.object({
  regime: LabelSchema,
  n: z.number().int().nonnegative(),
  counts: z.record(LabelSchema, z.number().int().nonnegative()),
});
export type RegimeLeaf = z.infer<typeof RegimeLeafSchema>;
export const RegimeNodeSchema = treeNodeSchema(RegimeLeafSchema);
export type RegimeNode = TreeNode<RegimeLeaf>;

export interface RegimeTreeOptions {
  /** Depth, 0 to 2 (default 2). */
  maxDepth?: number;
  /** Fewest training rows a leaf may hold (default 5). */
  minLeaf?: number;
}

/**
 * A small classification tree from row signals to the Eq. 2 label. The splits are ml-cart's
 * CART (Gini gain, thresholds at midpoints, depth ≤ maxDepth); a split leaving fewer than
 * `minLeaf` training rows on a side is pruned. Each leaf predicts the label with the largest
 * share of its own class's training rows, argmax_c n_leaf(c) / n(c) (prior-corrected, so a
 * rare regime is not drowned by the common one: the target is balanced accuracy); sibling
 * leaves with one regime merge. Throws on an empty training set or a missing signal.
 */
export function fitRegimeTree(rows: readonly { signals: RowSignals; label: Label }[], signals: readonly ProbeSignal[], options: RegimeTreeOptions = {}): RegimeNode {
  const { maxDepth = 2, minLeaf = 5 } = options;
  if (rows.length === 0) throw new RangeError('a regime tree needs at least one training row');
  const X = rows.map((r, i) =>
    signals.map((s) => {
      const v = signalValue(r.signals, s);
      if (v === null) throw new RangeError(`training row #${i} has no "${s}"; fit only on signals measured on every row`);
      return v;
    }),
  );
  const y = rows.map((r) => LABELS.indexOf(r.label));
  const classTotal = LABELS.map((_, c) => y.filter((v) => v === c).length);
  const leafOf = (members: number[]): RegimeNode => {
    const counts = Object.fromEntries(LABELS.map((l, c) => [l, members.filter((i) => y[i] === c).length])) as Record<Label, number>;
    let best = -1;
    let bestShare = -1;
    LABELS.forEach((l, c) => {
      if (classTotal[c] === 0) return;
      const share = counts[l] / classTotal[c]!;
      if (share > bestShare + 1e-12) (best = c), (bestShare = share);
    });
    return { leaf: { regime: LABELS[best]!, n: members.length, counts } };
  };
  const all = rows.map((_, i) => i);
  if (signals.length === 0 || maxDepth === 0 || new Set(y).size < 2) return leafOf(all);

  const cart = new DecisionTreeClassifier({ maxDepth, minNumSamples: 2 * minLeaf - 1 });
  cart.train(X, y);
  const convert = (node: CartNode | undefined, members: number[]): RegimeNode => {
    if (!node?.left || !node.right || node.splitColumn === undefined || node.splitValue === undefined) return leafOf(members);
    const col = node.splitColumn;
    const t = node.splitValue;
    const below = members.filter((i) => X[i]![col]! < t);
    const above = members.filter((i) => !(X[i]![col]! < t));
    if (below.length < minLeaf || above.length < minLeaf) return leafOf(members);
    const b = convert(node.left, below);
    const a = convert(node.right, above);
    if ('leaf' in b && 'leaf' in a && b.leaf.regime === a.leaf.regime) return leafOf(members);
    return { signal: signals[col]!, threshold: t, below: b, above: a };
  };
  return convert(cart.root, all);
}
