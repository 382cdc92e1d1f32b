import { kmeans } from 'ml-kmeans';
import { FEATURE_NAMES, type FeatureName, type Features } from '../contracts/problemRecord.js';
import { zScores } from '../routing/zScore.js';
import { scaledMoments } from '../stats/scaledMoments.js';

export interface RegimeOptions {
  /**
   * Number of regimes. Default 3: the paper finds three regimes of failure (resample, steerable,
   * beyond reach) in the space of its three features; more clusters split those without new
   * meaning on its data, fewer merge the steerable and resample failures.
   */
  k: number;
  /** Seed of the first k-means++ initialization; restart r uses seed + r. */
  seed: number;
  /** Independent k-means++ restarts; the one with the lowest within-cluster sum of squares wins. */
  restarts: number;
  /** Features to cluster on (z-scored over the population first, so units do not matter). */
  features: readonly FeatureName[];
  /** |centroid z| at or above this makes a feature part of a regime's name. */
  nameThreshold: number;
  /**
   * Fit the centroids on at most this many points (an even stride through the canonical order,
   * so still permutation invariant), then assign every point to its nearest centroid.
   */
  maxFitPoints: number;
}

export const REGIME_DEFAULTS: RegimeOptions = {
  k: 3,
  seed: 42,
  restarts: 10,
  features: FEATURE_NAMES,
  nameThreshold: 0.5,
  maxFitPoints: 5000,
};

export interface Regime {
  /** Stable name from the centroid's signature, e.g. "concentration↑ spread↓", or "typical". */
  name: string;
  /** Every feature's level at the centroid: "spread:high concentration:mid logit_dispersion:low". */
  signature: string;
  /** Centroid in z units (per feature). */
  centroidZ: Record<string, number>;
  /** Centroid in the features' own units (mean of the members). */
  centroid: Record<string, number>;
  size: number;
}

export interface RegimeResult {
  /** Regimes sorted by name, so their order never depends on k-means' internal indices. */
  regimes: Regime[];
  /** For each input item, the index of its regime in `regimes`. */
  assignment: number[];
  /** k actually used: fewer than asked when there are fewer distinct points. */
  k: number;
}

/**
 * Clusters failures into regimes with k-means (ml-kmeans) on pooled z-scored features.
 * Deterministic for a seed, and invariant to the order of the input rows: points are put in a
 * canonical (lexicographic) order before clustering and the results mapped back.
 * Throws when a feature is missing or non-finite, naming the item.
 */
export function kmeansRegimes(items: readonly { features: Features }[], options: Partial<RegimeOptions> = {}): RegimeResult {
  const opts = { ...REGIME_DEFAULTS, ...options };
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${opts.k}`);
  if (items.length === 0) return { regimes: [], assignment: [], k: 0 };
  const names = opts.features;
  const raw = items.map((item, i) =>
    names.map((f) => {
      const v = item.features[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(`item #${i}: feature "${f}" is ${v}; regimes need every feature finite`);
      }
      return v;
    }),
  );
  // Canonical (lexicographic) order first: every sum below then runs in the same order
  // whatever the input order, so results are identical to the last bit under permutation.
  const order = raw.map((_, i) => i).sort((a, b) => compareTuples(raw[a]!, raw[b]!));
  const sortedRaw = order.map((i) => raw[i]!);
  const columns = names.map((_, c) => zScores(sortedRaw.map((row) => row[c]!)));
  const sorted = sortedRaw.map((_, s) => columns.map((col) => col[s]!));
  const distinct = sortedRaw.filter((p, s) => s === 0 || compareTuples(p, sortedRaw[s - 1]!) !== 0).length;
  const k = Math.min(opts.k, distinct);

  const stride = Math.max(1, Math.ceil(sorted.length / opts.maxFitPoints));
  const fit = stride === 1 ? sorted : sorted.filter((_, i) => i % stride === 0);
  const fitK = Math.min(k, fit.filter((p, i) => i === 0 || compareTuples(p, fit[i - 1]!) !== 0).length);
  let best: { centroids: number[][]; inertia: number } | null = null;
  for (let r = 0; r < opts.restarts; r++) {
    const res = kmeans(fit, fitK, { seed: opts.seed + r, initialization: 'kmeans++', maxIterations: 300 });
    const inertia = fit.reduce((sum, p, i) => sum + squaredDistance(p, res.centroids[res.clusters[i]!]!), 0);
    if (!best || inertia < best.inertia - 1e-12) best = { centroids: res.centroids, inertia };
  }
  const clusterOfSorted = sorted.map((p) => nearest(p, best!.centroids));

  const described = Array.from({ length: fitK }, (_, c) => {
    const members = clusterOfSorted.flatMap((cl, s) => (cl === c ? [s] : []));
    const centroidZ: Record<string, number> = {};
    const centroid: Record<string, number> = {};
    names.forEach((f, col) => {
      centroidZ[f] = members.reduce((sum, s) => sum + sorted[s]![col]!, 0) / members.length;
      // In the features' own units, overflow-free: features of ±1e308 still give a finite centroid.
      centroid[f] = scaledMoments(members.map((s) => sortedRaw[s]![col]!)).mean;
    });
    return { cluster: c, members, centroidZ, centroid };
  }).filter((c) => c.members.length > 0);

  const named = nameRegimes(described, names, opts.nameThreshold);
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareTuples(Object.values(a.centroidZ), Object.values(b.centroidZ))));
  const indexOfCluster = new Map(named.map((r, idx) => [r.cluster, idx]));
  const assignment = new Array<number>(items.length);
  order.forEach((item, s) => (assignment[item] = indexOfCluster.get(clusterOfSorted[s]!)!));
  return {
    regimes: named.map(({ name, signature, centroidZ, centroid, members }) => ({ name, signature, centroidZ, centroid, size: members.length })),
    assignment,
    k: named.length,
  };
}

function nameRegimes<T extends { centroidZ: Record<string, number> }>(
  clusters: T[],
  features: readonly string[],
  threshold: number,
): (T & { name: string; signature: string })[] {
  const level = (z: number) => (z >= threshold ? 'high' : z <= -threshold ? 'low' : 'mid');
  const withNames = clusters.map((c) => {
    const signature = features.map((f) => `${f}:${level(c.centroidZ[f]!)}`).join(' ');
    const salient = features
      .filter((f) => Math.abs(c.centroidZ[f]!) >= threshold)
      .sort((a, b) => Math.abs(c.centroidZ[b]!) - Math.abs(c.centroidZ[a]!))
      .map((f) => `${f}${c.centroidZ[f]! > 0 ? '↑' : '↓'}`);
    return { ...c, signature, name: salient.length > 0 ? salient.join(' ') : 'typical' };
  });
  // Two centroids with the same salient pattern: tell them apart by their strongest feature's z.
  const seen = new Map<string, number>();
  for (const c of withNames) seen.set(c.name, (seen.get(c.name) ?? 0) + 1);
  for (const c of withNames) {
    if (seen.get(c.name)! > 1) {
      const f = features.reduce((a, b) => (Math.abs(c.centroidZ[b]!) > Math.abs(c.centroidZ[a]!) ? b : a));
      c.name = `${c.name} (${f} z=${c.centroidZ[f]!.toFixed(2)})`;
    }
  }
  return withNames;
}

function nearest(p: readonly number[], centroids: readonly (readonly number[])[]): number {
  let best = 0;
  let bestD = Infinity;
  centroids.forEach((c, i) => {
    const d = squaredDistance(p, c);
    if (d < bestD) (bestD = d), (best = i);
  });
  return best;
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}
