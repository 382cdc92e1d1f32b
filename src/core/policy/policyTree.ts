import { quantile } from 'simple-statistics';
import { z } from 'zod';
import type { ProbeSignal } from '../contracts/probeRecord.js';
import { type TreeNode, treeNodeSchema } from './decisionTree.js';
import { signalValue, type RowSignals } from './signals.js';

/** The route that spends nothing more on a row. */
export const STOP = 'stop';

/** A leaf of a policy tree: the route, and what it was chosen from (the training rows here). */
export const PolicyLeafSchema = z.object({
  /** An operator, or `stop`. */
  route: z.string().min(1),
  /** Training rows in this leaf. */
  n: z.number().int().nonnegative(),
  /** Mean label-split rescue of every operator over those rows. */
  rescue: z.record(z.string(), z.number()),
});
export type PolicyLeaf = z.infer<typeof PolicyLeafSchema>;
export const PolicyNodeSchema = treeNodeSchema(PolicyLeafSchema);
export type PolicyNode = TreeNode<PolicyLeaf>;

/** One training row: its signals and the label-split rescue rate of every operator. */
export interface PolicyTrainingRow {
  signals: RowSignals;
  rescue: Readonly<Record<string, number>>;
}

export interface PolicyTreeOptions {
  /** Depth of the tree, 0 (one route for all) to 2 (at most four leaves). Default 2. */
  maxDepth?: number;
  /** Fewest training rows a leaf may hold. Default 5. */
  minLeaf?: number;
  /** Candidate thresholds per signal: its quantiles at k/(q+1), k = 1…q. Default 24. */
  thresholds?: number;
  /**
   * The price of routing a row to an operator, in rescue: an operator earns rescue − stopBelow
   * per row and `stop` earns 0, so a leaf whose best operator rescues under this share stops.
   * Default 0.05 (Eq. 2's minimum gain).
   */
  stopBelow?: number;
  /**
   * Cost-complexity: each split must add at least this share of the training rows in rescued
   * rows (default 0.01: one point of overall rescue), so noise does not buy extra leaves.
   */
  splitCost?: number;
}

const EPS = 1e-9;

/**
 * A policy tree (policy learning with a shallow tree, as R's policytree): among all trees of
 * depth ≤ maxDepth with splits `signal < threshold` on the given signals and leaves of ≥
 * minLeaf rows, the one that maximizes
 *   Σ_leaves max( max_op Σ_{rows in leaf} (rescue(row, op) − stopBelow), 0 ) − splitCost·n·splits,
 * where rescue is the label-split rate: each leaf routes to the operator with the best mean
 * rescue over its rows, or to `stop` when even that is under stopBelow; a split must pay for
 * itself (cost-complexity, as CART's pruning). The search is exact over the threshold grid (a
 * depth-2 tree's children are independent given the root split); a deeper tree is used only when
 * strictly better; sibling leaves with the same route merge. Ties between operators go to the
 * earlier one in `operators`. Written here because ml-cart's trees split by class impurity or
 * squared error on one target; none maximizes a per-leaf choice among several rewards.
 * Throws on an empty training set, an unknown depth, or a row missing a signal or a rate.
 */
export function fitPolicyTree(
  rows: readonly PolicyTrainingRow[],
  signals: readonly ProbeSignal[],
  operators: readonly string[],
  options: PolicyTreeOptions = {},
): PolicyNode {
  const { maxDepth = 2, minLeaf = 5, thresholds = 24, stopBelow = 0.05, splitCost = 0.01 } = options;
  if (maxDepth > 2 || maxDepth < 0 || !Number.isInteger(maxDepth)) throw new RangeError(`a policy tree's depth is 0, 1 or 2, got ${maxDepth}`);
  const n = rows.length;
  if (n === 0) throw new RangeError('a policy tree needs at least one training row');
  if (operators.length === 0) throw new RangeError('a policy tree needs at least one operator');
  const X = signals.map((s) =>
    rows.map((r, i) => {
      const v = signalValue(r.signals, s);
      if (v === null) throw new RangeError(`training row #${i} has no "${s}"; fit only on signals measured on every row`);
      return v;
    }),
  );
  const R = rows.map((r, i) =>
    operators.map((op) => {
      const v = r.rescue[op];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`training row #${i} has no rescue rate for "${op}"`);
      return v;
    }),
  );
  const order = X.map((xs) => xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!));
  const grid = X.map((xs) => {
    const ps = Array.from({ length: thresholds }, (_, k) => (k + 1) / (thresholds + 1));
    const lowest = Math.min(...xs);
    return [...new Set(quantile(xs, ps))].filter((t) => t > lowest).sort((a, b) => a - b);
  });
  const O = operators.length;
  const lambda = splitCost * n;

  const sums = (members: readonly number[]) => {
    const s = new Array<number>(O).fill(0);
    for (const i of members) for (let o = 0; o < O; o++) s[o] = s[o]! + R[i]![o]!;
    return s;
  };
  /** The leaf's route (operator index, or −1 for stop) and its value, from the rescue sums of its m rows. */
  const bestOf = (s: readonly number[], m: number) => {
    let op = -1;
    let value = 0;
    for (let o = 0; o < O; o++) {
      const v = s[o]! - stopBelow * m;
      if (v > value + EPS) (op = o), (value = v);
    }
    return { op, value };
  };

  interface Candidate {
    value: number;
    node: PolicyNode;
  }
  const leaf = (members: number[]): Candidate => {
    const s = sums(members);
    const m = members.length;
    const { op, value } = bestOf(s, m);
    const rescue = Object.fromEntries(operators.map((name, o) => [name, m > 0 ? s[o]! / m : 0]));
    return { value, node: { leaf: { route: op < 0 ? STOP : operators[op]!, n: m, rescue } } };
  };

  /** Splits of the rows in `inSet` on signal f at each grid threshold that leaves ≥ minLeaf rows each side. */
  function* splitsOf(inSet: Uint8Array, f: number): Generator<{ t: number; below: number[]; above: number[] }> {
    const sorted = order[f]!.filter((i) => inSet[i] === 1);
    let k = 0;
    for (const t of grid[f]!) {
      while (k < sorted.length && X[f]![sorted[k]!]! < t) k++;
      if (k < minLeaf) continue;
      if (sorted.length - k < minLeaf) break;
      yield { t, below: sorted.slice(0, k), above: sorted.slice(k) };
    }
  }

  const membership = (members: readonly number[]) => {
    const inSet = new Uint8Array(n);
    for (const i of members) inSet[i] = 1;
    return inSet;
  };

  /** Best penalized value of a tree of depth ≤ 1 on `members`, by prefix sums (no node built). */
  const bestStumpValue = (members: number[]): number => {
    const total = sums(members);
    const m = members.length;
    let best = bestOf(total, m).value;
    if (m < 2 * minLeaf) return best;
    const inSet = membership(members);
    for (let f = 0; f < X.length; f++) {
      const sorted = order[f]!.filter((i) => inSet[i] === 1);
      const prefix = new Array<number>(O).fill(0);
      let k = 0;
      for (const t of grid[f]!) {
        while (k < sorted.length && X[f]![sorted[k]!]! < t) {
          const i = sorted[k++]!;
          for (let o = 0; o < O; o++) prefix[o] = prefix[o]! + R[i]![o]!;
        }
        if (k < minLeaf) continue;
        if (m - k < minLeaf) break;
        const v = bestOf(prefix, k).value + bestOf(total.map((x, o) => x - prefix[o]!), m - k).value - lambda;
        if (v > best + EPS) best = v;
      }
    }
    return best;
  };

  const childValue = (members: number[], depth: number): number => (depth === 0 ? bestOf(sums(members), members.length).value : bestStumpValue(members));

  /** The best split of `members` when each side then gets its best subtree of `childDepth`; values are penalized (− splitCost·n per split). */
  const bestSplit = (members: number[], childDepth: number) => {
    const inSet = membership(members);
    let best: { value: number; f: number; t: number; below: number[]; above: number[] } | null = null;
    for (let f = 0; f < X.length; f++) {
      for (const s of splitsOf(inSet, f)) {
        const value = childValue(s.below, childDepth) + childValue(s.above, childDepth) - lambda;
        if (value > (best?.value ?? -Infinity) + EPS) best = { value, f, ...s };
      }
    }
    return best;
  };

  /** The best tree of depth ≤ `depth`; a deeper tree is used only when it is strictly better. */
  const grow = (members: number[], depth: number): Candidate => {
    const here = leaf(members);
    if (depth === 0 || members.length < 2 * minLeaf) return here;
    const stump = bestSplit(members, 0);
    let chosen = stump && stump.value > here.value + EPS ? { split: stump, childDepth: 0 } : null;
    if (depth >= 2) {
      const deep = bestSplit(members, depth - 1);
      if (deep && deep.value > Math.max(here.value, stump?.value ?? -Infinity) + EPS) chosen = { split: deep, childDepth: depth - 1 };
    }
    if (!chosen) return here;
    const below = grow(chosen.split.below, chosen.childDepth);
    const above = grow(chosen.split.above, chosen.childDepth);
    if ('leaf' in below.node && 'leaf' in above.node && below.node.leaf.route === above.node.leaf.route) return here;
    return { value: below.value + above.value - lambda, node: { signal: signals[chosen.split.f]!, threshold: chosen.split.t, below: below.node, above: above.node } };
  };

  return grow(
    rows.map((_, i) => i),
    maxDepth,
  ).node;
}
