import type { FeatureName, Features } from '../contracts/problemRecord.js';
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from './routingPolicy.js';
import { zScores } from './zScore.js';

/** One failure's routing decision, with the evidence behind it. */
export interface RouteDecision {
  operator: string | null;
  /** The feature whose z won, or null when the fallback fired. */
  feature: FeatureName | null;
  /** z-score of every mapped feature, for explanation. */
  z: Partial<Record<FeatureName, number>>;
  /** A one-line why, e.g. "concentration z=+1.84 is the largest → sparse_steer". */
  reason: string;
}

/**
 * Routes each failure by the z-score argmax rule over the population given (method.md).
 * With `groupBy`, z-scores are computed within each group (e.g. a model×task cell) instead of
 * pooled. Reads only features, never repair outcomes. Throws if a mapped feature is missing
 * or non-finite, naming the item and the feature.
 */
export function route(
  items: readonly { features: Features }[],
  policy: RoutingPolicy = DEFAULT_ROUTING_POLICY,
  groupBy?: (index: number) => string,
): RouteDecision[] {
  const features = Object.keys(policy.mapping) as FeatureName[];
  items.forEach((item, i) => {
    for (const f of features) {
      const v = item.features[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(
          `item #${i}: feature "${f}" is ${v}; routing needs all of ${features.join(', ')} ` +
            `(it requires specialist and ancestor log-probs) — drop such items or remove "${f}" from the policy mapping`,
        );
      }
    }
  });

  const groups = new Map<string, number[]>();
  items.forEach((_, i) => {
    const key = groupBy ? groupBy(i) : '';
    const members = groups.get(key);
    if (members) members.push(i);
    else groups.set(key, [i]);
  });

  const z: Partial<Record<FeatureName, number>>[] = items.map(() => ({}));
  for (const members of groups.values()) {
    for (const f of features) {
      const scores = zScores(members.map((i) => items[i]!.features[f] as number));
      members.forEach((item, k) => (z[item]![f] = scores[k]!));
    }
  }
  return z.map((zi) => decide(zi, features, policy));
}

function decide(z: Partial<Record<FeatureName, number>>, features: FeatureName[], policy: RoutingPolicy): RouteDecision {
  let best = features[0]!;
  for (const f of features) if (z[f]! > z[best]!) best = f;
  const top = z[best]!;
  const shown = `${best} z=${formatZ(top)}`;
  if (policy.fallback !== null && top <= policy.fallbackBelow) {
    return {
      operator: policy.fallback,
      feature: null,
      z,
      reason: `no feature stands out (largest: ${shown} ≤ ${policy.fallbackBelow}) → fallback ${policy.fallback}`,
    };
  }
  const operator = policy.mapping[best]!;
  return { operator, feature: best, z, reason: `${shown} is the largest → ${operator}` };
}

function formatZ(z: number): string {
  return `${z >= 0 ? '+' : ''}${z.toFixed(2)}`;
}
