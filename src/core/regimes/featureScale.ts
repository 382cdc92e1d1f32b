import { mean, standardDeviation } from 'simple-statistics';
import { FEATURE_NAMES, type FeatureName, type Features } from '../contracts/problemRecord.js';

/** The mean and population SD of each feature over a population of failures: the z-score scale. */
export interface FeatureScale {
  n: number;
  mean: Record<FeatureName, number>;
  sd: Record<FeatureName, number>;
}

/** The scale of a population; rows missing a feature are skipped for that feature. Null when empty. */
export function featureScale(population: readonly { features: Features }[]): FeatureScale | null {
  const usable = population.filter((p) => FEATURE_NAMES.every((f) => Number.isFinite(p.features[f] as number)));
  if (usable.length === 0) return null;
  const col = (f: FeatureName) => usable.map((p) => p.features[f] as number);
  const m = {} as Record<FeatureName, number>;
  const s = {} as Record<FeatureName, number>;
  for (const f of FEATURE_NAMES) {
    m[f] = mean(col(f));
    s[f] = usable.length > 1 ? standardDeviation(col(f)) : 0;
  }
  return { n: usable.length, mean: m, sd: s };
}

/** z-scores of one item's features on a scale; a zero-SD feature scores 0. */
export function zOnScale(features: Features, scale: FeatureScale): Record<FeatureName, number> {
  const z = {} as Record<FeatureName, number>;
  for (const f of FEATURE_NAMES) {
    const v = features[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`feature "${f}" is ${v}; z-scores need it finite`);
    z[f] = scale.sd[f] > 0 ? (v - scale.mean[f]) / scale.sd[f] : 0;
  }
  return z;
}
