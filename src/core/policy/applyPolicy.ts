import type { Label } from '../contracts/operators.js';
import { describePath, landOn } from './decisionTree.js';
import { paperRuleDecision } from './paperRule.js';
import type { Policy } from './policySchema.js';
import { STOP } from './policyTree.js';
import type { RowSignals } from './signals.js';

/** A row's regime and route under a calibrated policy. */
export interface PolicyDecision {
  /** The estimated Eq. 2 label; `solved` when no rollout failed; `unknown` when the regime model lacks a signal. */
  regime: Label | 'solved' | 'unknown';
  /** An operator, `stop`, or null (solved: nothing to route). */
  route: string | null;
  /** Cross-validated precision of this regime on the probe, or null (unknown, solved, never predicted). */
  precision: number | null;
  /** Probed rows the model predicted this regime for (the base of `precision`). */
  precisionN: number;
  /** True when a needed signal was missing and a fallback was used. */
  fellBack: boolean;
  /** One line, regime → route first, then why. */
  why: string;
}

const pct = (x: number | undefined) => (x === undefined ? '—' : `${Math.round(100 * x)}%`);

/**
 * Applies a calibrated policy (policy.json) to one row's signals: the regime from the policy's
 * regime model, with its cross-validated precision, and the route from its route model. Where
 * a signal the model reads is missing, the route falls back to the probe's best fixed operator
 * and the regime is `unknown`, and `why` says which signal was missing. Pure.
 *
 * @example applyPolicy(policy, { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 0.9 })
 * // { regime: 'steerable', route: 'dense_steer', precision: 0.71, precisionN: 34, fellBack: false,
 * //   why: 'steerable (precision 0.71 on 34 probed rows) → dense_steer: ancestor_pass_rate ≥ 0.5, where dense_steer rescued 55% of 31 probed rows' }
 */
export function applyPolicy(policy: Policy, signals: RowSignals): PolicyDecision {
  const n = signals.n_rollouts;
  const c = signals.n_passed;
  if (typeof n === 'number' && typeof c === 'number' && n > 0 && c >= n) {
    return { regime: 'solved', route: null, precision: null, precisionN: 0, fellBack: false, why: `solved: all ${n} rollouts passed` };
  }

  // Regime.
  let regime: PolicyDecision['regime'];
  let regimeNote = '';
  const model = policy.regime.model;
  if (model.kind === 'tree') {
    const landing = landOn(model.tree, signals);
    if ('missing' in landing) {
      regime = 'unknown';
      regimeNote = `the regime model needs ${landing.missing}, which this row lacks`;
    } else regime = landing.leaf.regime;
  } else if (model.kind === 'paper_rule') {
    const d = paperRuleDecision(model.scale, signals);
    regime = d.regime === 'unjudged' ? 'unknown' : d.regime;
    if (d.regime === 'unjudged') regimeNote = 'the paper\'s estimate cannot judge this row (it needs the rollout counts and the three features)';
  } else regime = model.regime;
  const p = regime === 'unknown' ? undefined : policy.regime.precision[regime];
  const precision = p?.precision ?? null;
  const precisionN = p?.n ?? 0;
  const regimeText = precision === null ? regime : `${regime} (precision ${precision.toFixed(2)} on ${precisionN} probed rows)`;

  // Route.
  let route: string;
  let reason: string;
  let fellBack = regime === 'unknown' && model.kind === 'tree';
  const r = policy.route;
  if (r.kind === 'tree') {
    const landing = landOn(r.tree, signals);
    if ('missing' in landing) {
      route = r.fallback;
      fellBack = true;
      reason = `the learned policy needs ${landing.missing}, which this row lacks: fallback ${r.fallback}, the best single operator on the probe`;
    } else {
      const leaf = landing.leaf;
      route = leaf.route;
      const where = landing.path.length > 0 ? `${describePath(landing.path)}, where` : 'on the probe';
      if (route === STOP) {
        const [bestOp, bestRate] = Object.entries(leaf.rescue).sort((a, b) => b[1] - a[1])[0] ?? ['—', 0];
        reason = `${where} no operator rescued ${pct(policy.settings.stop_below)} of ${leaf.n} probed rows (best: ${bestOp} ${pct(bestRate)})`;
      } else reason = `${where} ${route} rescued ${pct(leaf.rescue[route])} of ${leaf.n} probed rows`;
    }
  } else if (r.kind === 'paper_rule') {
    const d = paperRuleDecision(r.scale, signals);
    route = d.route;
    if (d.regime === 'unjudged' && d.route === 'retry') fellBack = true;
    reason = `paper's rule: ${d.why}`;
  } else {
    route = r.operator;
    const best = policy.candidates.find((x) => x.kind === 'fixed' && x.operator === r.operator)?.rescue_all.mean;
    reason = `${r.operator} for every failure: it rescued ${pct(best ?? undefined)} of the probed rows and no learned routing beat it`;
  }
  const note = regimeNote ? ` (${regimeNote})` : '';
  return { regime, route, precision, precisionN, fellBack, why: `${regimeText} → ${route}: ${reason}${note}` };
}
