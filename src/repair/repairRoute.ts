import { applyPolicy } from '../core/policy/applyPolicy.js';
import type { Policy } from '../core/policy/policySchema.js';
import { STOP } from '../core/policy/policyTree.js';
import type { RowSignals } from '../core/policy/signals.js';

/** Where a row's repair route comes from: a calibrated policy, or one operator for every failing row. */
export type RouteChoice = { kind: 'policy'; policy: Policy } | { kind: 'fixed'; route: string };

/** A row's repair route. */
export interface RepairRoute {
  /** An operator name, `stop` (spend nothing), or null (no rollout failed: nothing to repair). */
  route: string | null;
  /** The policy's regime estimate (null for a fixed route). */
  regime: string | null;
  /** One line: why this route. */
  why: string;
}

/**
 * The route a row's repair takes. With a policy, exactly `applyPolicy` — what the gradeRollouts
 * assertion applies with the same policy.json, so the row's route column and its repair agree
 * (a row lacking a signal the policy reads takes the policy's fallback, and `why` says so).
 * With a fixed route, that route for every row with a failed rollout. A row whose rollouts all
 * passed has no route. Pure.
 *
 * @example repairRoute({ kind: 'fixed', route: 'dense_steer' }, { n_rollouts: 12, n_passed: 3 })
 * // { route: 'dense_steer', regime: null, why: 'fixed route dense_steer (repair.route) for every row with a failed rollout: 9 of 12 failed' }
 */
export function repairRoute(choice: RouteChoice, signals: RowSignals): RepairRoute {
  if (choice.kind === 'policy') {
    const d = applyPolicy(choice.policy, signals);
    return { route: d.route, regime: d.regime, why: d.why };
  }
  const n = signals.n_rollouts ?? 0;
  const c = signals.n_passed ?? 0;
  if (n > 0 && c >= n) return { route: null, regime: null, why: `solved: all ${n} rollouts passed, nothing to repair` };
  const what = choice.route === STOP ? 'stop (repair.route): spend nothing on any row' : `fixed route ${choice.route} (repair.route) for every row with a failed rollout`;
  return { route: choice.route, regime: null, why: `${what}: ${n - c} of ${n} failed` };
}
