import type { ReportRowInput } from '../analysis/buildEvalReport.js';

/**
 * Where the gate's regimes come from. A learned policy's estimates (what each eval's own report
 * and columns show) when every row with a failed rollout, in both evals, was routed by the same
 * policy file; otherwise the paper's rule, recomputed on the baseline's z-scale for both, and why.
 */
export type GateEstimator = { source: 'policy'; policy: string } | { source: 'paper_rule'; why: string };

type Row = Pick<ReportRowInput, 'n_passed' | 'n_rollouts' | 'estimate'>;

export function gateEstimator(baseline: readonly Row[], candidate: readonly Row[]): GateEstimator {
  const failing = (rows: readonly Row[]) => rows.filter((r) => r.n_passed < r.n_rollouts);
  const policiesOf = (rows: readonly Row[]) => new Set(failing(rows).map((r) => (r.estimate?.source === 'policy' ? (r.estimate.policy ?? '') : null)));
  const b = policiesOf(baseline);
  const c = policiesOf(candidate);
  if (b.size === 0 || c.size === 0) return { source: 'paper_rule', why: 'an eval has no row with a failed rollout' };
  if (b.has(null) || c.has(null)) return { source: 'paper_rule', why: 'not every failing row of both evals was routed by a learned policy' };
  const all = new Set([...b, ...c]);
  if (all.size > 1 || all.has('')) return { source: 'paper_rule', why: `the evals were routed by different policy files (${[...all].map((p) => p || 'unnamed').join(', ')})` };
  return { source: 'policy', policy: [...all][0]! };
}
