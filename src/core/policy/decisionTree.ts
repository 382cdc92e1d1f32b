import { z } from 'zod';
import { PROBE_SIGNALS, type ProbeSignal } from '../contracts/probeRecord.js';
import { signalValue, type RowSignals } from './signals.js';

/** A split on one signal: rows with value < threshold go `below`, the others `above`. */
export interface TreeSplit<L> {
  signal: ProbeSignal;
  threshold: number;
  below: TreeNode<L>;
  above: TreeNode<L>;
}
/** A binary decision tree over row signals whose leaves hold L. */
export type TreeNode<L> = { leaf: L } | TreeSplit<L>;

/** The zod schema of a tree whose leaves match `leaf`. */
export function treeNodeSchema<L>(leaf: z.ZodType<L>): z.ZodType<TreeNode<L>> {
  const node: z.ZodType<TreeNode<L>> = z.lazy(() =>
    z.union([
      z.object({ leaf }),
      z.object({ signal: z.enum(PROBE_SIGNALS), threshold: z.number(), below: node, above: node }),
    ]),
  ) as z.ZodType<TreeNode<L>>;
  return node;
}

/** One step of a row's way down a tree, e.g. `ancestor_pass_rate ≥ 0.4`. */
export interface TreeStep {
  signal: ProbeSignal;
  threshold: number;
  side: 'below' | 'above';
}

/** Where a row lands: its leaf and the path, or the first signal it lacks on the way. */
export type TreeLanding<L> = { leaf: L; path: TreeStep[] } | { missing: ProbeSignal; path: TreeStep[] };

export function landOn<L>(node: TreeNode<L>, row: RowSignals): TreeLanding<L> {
  const path: TreeStep[] = [];
  let at = node;
  while (!('leaf' in at)) {
    const v = signalValue(row, at.signal);
    if (v === null) return { missing: at.signal, path };
    const side = v < at.threshold ? 'below' : 'above';
    path.push({ signal: at.signal, threshold: at.threshold, side });
    at = at[side];
  }
  return { leaf: at.leaf, path };
}

/** The signals a tree reads, in first-use order. */
export function treeSignals<L>(node: TreeNode<L>): ProbeSignal[] {
  if ('leaf' in node) return [];
  return [...new Set([node.signal, ...treeSignals(node.below), ...treeSignals(node.above)])];
}

/** Leaves in left-to-right order. */
export function treeLeaves<L>(node: TreeNode<L>): L[] {
  return 'leaf' in node ? [node.leaf] : [...treeLeaves(node.below), ...treeLeaves(node.above)];
}

/** A path as people read it: `ancestor_pass_rate ≥ 0.4 and pass_rate < 0.1`. */
export function describePath(path: readonly TreeStep[]): string {
  return path.map((s) => `${s.signal} ${s.side === 'below' ? '<' : '≥'} ${formatThreshold(s.threshold)}`).join(' and ');
}

function formatThreshold(t: number): string {
  return Math.abs(t) >= 1000 || (Math.abs(t) < 0.001 && t !== 0) ? t.toExponential(2) : String(Number(t.toPrecision(3)));
}
