import { DEFAULTS } from '../defaults.js';
import { passAtK } from '../blackbox/passAtK.js';
import type { FeatureName, Features } from '../contracts/problemRecord.js';
import type { RoutingPolicy } from '../routing/routingPolicy.js';
import { DEFAULT_ROUTING_POLICY } from '../routing/routingPolicy.js';
import { type FeatureScale, zOnScale } from './featureScale.js';

/**
 * Regimes estimated before any repair is tried, from one test's K rollouts:
 * - solved: no rollout failed.
 * - resample: Eq. 2's retry condition fails — the estimated best-of-3 retry rescue r̂ = pass@3
 *   (unbiased, from K samples) leaves 1 − r̂ < 0.5. Route: retry.
 * - beyond_reach: retry is not enough, no rollout passed, and no feature stands out (largest
 *   z ≤ `beyondStandOut`, default 0.5): nothing in the failed traces points at an intervention.
 *   Route: stop.
 * - steerable: otherwise, when retry is not enough — routed by the paper's rule: the operator of
 *   the largest z when it exceeds the policy's threshold (0), else the policy's fallback.
 * - retry_insufficient: retry is not enough but steerability cannot be judged (no log-probs or no
 *   ancestor, or no population scale to z-score against).
 * Measured labels come from the rescue probe (Eq. 2); these are the prospective estimates.
 */
export const PROSPECTIVE_REGIMES = ['solved', 'resample', 'steerable', 'beyond_reach', 'retry_insufficient'] as const;
export type ProspectiveRegime = (typeof PROSPECTIVE_REGIMES)[number];

export interface RowEvidence {
  nRollouts: number;
  nPassed: number;
  /** Problem-level features over the failed rollouts, or null without log-probs/ancestor. */
  features: Features | null;
}

export interface RegimeEstimate {
  regime: ProspectiveRegime;
  /** retry | an operator | stop | null (nothing to recommend). */
  route: string | null;
  /** One line: why this regime and route. */
  why: string;
  /** Estimated best-of-3 retry rescue (pass@3), when there are failures. */
  retryRescue: number | null;
  z: Partial<Record<FeatureName, number>> | null;
}

export interface ProspectiveRegimeOptions {
  scale?: FeatureScale | null;
  policy?: RoutingPolicy;
  /** Why there is no scale, to say so in `why`. */
  noScaleReason?: string;
  /** Largest z at or under which nothing stands out, for the beyond-reach estimate. */
  beyondStandOut?: number;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

export function prospectiveRegime(e: RowEvidence, options: ProspectiveRegimeOptions = {}): RegimeEstimate {
  const policy = options.policy ?? DEFAULT_ROUTING_POLICY;
  const { nRollouts: n, nPassed: c } = e;
  if (n === 0) return { regime: 'retry_insufficient', route: null, why: 'no rollouts to judge', retryRescue: null, z: null };
  if (c === n) return { regime: 'solved', route: null, why: `all ${n} rollouts passed`, retryRescue: null, z: null };
  const r = passAtK(n, c, Math.min(3, n));
  const rate = `${c}/${n} rollouts passed`;
  if (1 - r < 0.5) {
    return { regime: 'resample', route: 'retry', why: `${rate}: about ${pct(r)} of best-of-3 retries succeed (pass@3) — resample`, retryRescue: r, z: null };
  }
  const head = `${rate}, best-of-3 retry ≈ ${pct(r)}`;
  if (!e.features || !Object.values(e.features).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return { regime: 'retry_insufficient', route: null, why: `${head}; steerability unknown: trajectory features need specialist log-probs and an ancestor`, retryRescue: r, z: null };
  }
  if (!options.scale) {
    return { regime: 'retry_insufficient', route: null, why: `${head}; ${options.noScaleReason ?? 'no population scale to z-score the features against'}`, retryRescue: r, z: null };
  }
  const zAll = zOnScale(e.features, options.scale);
  const mapped = Object.keys(policy.mapping) as FeatureName[];
  let best = mapped[0]!;
  for (const f of mapped) if (zAll[f] > zAll[best]) best = f;
  const shown = `${best} z=${zAll[best] >= 0 ? '+' : ''}${zAll[best].toFixed(2)}`;
  const standOut = options.beyondStandOut ?? DEFAULTS.beyondStandOut;
  if (c === 0 && zAll[best] <= standOut) {
    return { regime: 'beyond_reach', route: 'stop', why: `${head}; no rollout passed and no feature stands out (largest: ${shown} ≤ ${standOut}) — stop spending`, retryRescue: r, z: zAll };
  }
  if (zAll[best] > policy.fallbackBelow) {
    const op = policy.mapping[best]!;
    return { regime: 'steerable', route: op, why: `${head}; ${shown} stands out → ${op}`, retryRescue: r, z: zAll };
  }
  const fallback = policy.fallback ?? policy.mapping[best]!;
  return { regime: 'steerable', route: fallback, why: `${head}; no feature stands out (largest: ${shown}) → fallback ${fallback}`, retryRescue: r, z: zAll };
}
