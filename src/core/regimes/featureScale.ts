import { FEATURE_NAMES, type FeatureName, type Features } from '../contracts/problemRecord.js';
import { scaledMoments, standardize } from '../stats/scaledMoments.js';

/** The mean and population SD of each feature over a population of failures: the z-score scale. */
export interface FeatureScale {
  n: number;
  mean: Record<FeatureName, number>;
  sd: Record<FeatureName, number>;
}

/**
 * The scale of a population (rows missing a feature are skipped). Moments are computed on
 * values scaled by their largest magnitude, so features of ±1e308 give finite means and SDs
 * (scaledMoments). Null when no row has all three features.
 */
export function featureScale(population: readonly { features: Features }[]): FeatureScale | null {
  const usable = population.filter((p) => FEATURE_NAMES.every((f) => Number.isFinite(p.features[f] as number)));
  if (usable.length === 0) return null;
  const m = {} as Record<FeatureName, number>;
  const s = {} as Record<FeatureName, number>;
  for (const f of FEATURE_NAMES) {
    const moments = scaledMoments(usable.map((p) => p.features[f] as number));
    m[f] = moments.mean;
    s[f] = usable.length > 1 ? moments.sd : 0;
  }
  return { n: usable.length, mean: m, sd: s };
}

/** z-scores of one item's features on a scale (standardize: overflow-free); a zero-SD feature scores 0. */
export function zOnScale(features: Features, scale: FeatureScale): Record<FeatureName, number> {
  const z = {} as Record<FeatureName, number>;
  for (const f of FEATURE_NAMES) {
    const v = features[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`feature "${f}" is ${v}; z-scores need it finite`);
    z[f] = standardize(v, scale.mean[f], scale.sd[f]);
  }
  return z;
}
