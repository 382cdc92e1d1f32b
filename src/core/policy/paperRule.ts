import type { Label } from '../contracts/operators.js';
import { FEATURE_NAMES, type Features } from '../contracts/problemRecord.js';
import { type FeatureScale, featureScale, zOnScale } from '../regimes/featureScale.js';
import { prospectiveRegime } from '../regimes/prospectiveRegime.js';
import { DEFAULT_ROUTING_POLICY } from '../routing/routingPolicy.js';
import { STOP } from './policyTree.js';
import { signalValue, type RowSignals } from './signals.js';

/** The paper's rule applied to one row: an Eq. 2 regime estimate (or unjudged) and a route. */
export interface PaperRuleDecision {
  regime: Label | 'unjudged';
  route: string;
  why: string;
}

/** The row's three trajectory features, or null when any is missing. */
export function rowFeatures(row: RowSignals): Features | null {
  const f = Object.fromEntries(FEATURE_NAMES.map((name) => [name, signalValue(row, name)])) as Features;
  return FEATURE_NAMES.every((name) => f[name] !== null) ? f : null;
}

/** The z-scale of the paper's rule: the features' mean and SD over the given (training) failures. */
export function fitPaperRule(rows: readonly RowSignals[]): FeatureScale | null {
  return featureScale(rows.flatMap((r) => {
    const features = rowFeatures(r);
    return features ? [{ features }] : [];
  }));
}

/**
 * The paper's rule as a policy, on a fixed z-scale (the training fold's failures):
 * - with rollout counts, the prospective estimate (prospectiveRegime): resample → retry;
 *   beyond reach (nothing passed, no feature stands out) → stop; steerable → the operator of the
 *   largest z when it is > 0, else the fallback (sparse_steer_random);
 * - without counts (the paper's own table), the z rule alone, regime unjudged;
 * - without the three features or a scale, unjudged and routed to retry (what is done anyway).
 */
export function paperRuleDecision(scale: FeatureScale | null, row: RowSignals): PaperRuleDecision {
  const features = rowFeatures(row);
  const n = row.n_rollouts;
  const c = row.n_passed;
  if (typeof n === 'number' && typeof c === 'number' && c < n) {
    const e = prospectiveRegime({ nRollouts: n, nPassed: c, features }, { scale });
    if (e.regime === 'resample' || e.regime === 'steerable' || e.regime === 'beyond_reach') {
      return { regime: e.regime, route: e.route ?? STOP, why: e.why };
    }
    return { regime: 'unjudged', route: 'retry', why: `${e.why}; the rule cannot judge: retry` };
  }
  if (!features || !scale) {
    return { regime: 'unjudged', route: 'retry', why: `the rule needs ${features ? 'a z-scale' : 'spread, concentration and logit_dispersion'}: retry` };
  }
  const z = zOnScale(features, scale);
  const policy = DEFAULT_ROUTING_POLICY;
  const mapped = FEATURE_NAMES.filter((f) => policy.mapping[f] !== undefined);
  let best = mapped[0]!;
  for (const f of mapped) if (z[f] > z[best]) best = f;
  const shown = `${best} z=${z[best] >= 0 ? '+' : ''}${z[best].toFixed(2)}`;
  if (z[best] > policy.fallbackBelow) return { regime: 'unjudged', route: policy.mapping[best]!, why: `${shown} stands out → ${policy.mapping[best]}` };
  const fallback = policy.fallback ?? policy.mapping[best]!;
  return { regime: 'unjudged', route: fallback, why: `no feature stands out (largest: ${shown}) → fallback ${fallback}` };
}
