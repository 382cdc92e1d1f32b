/**
 * Every tunable of the method in one place. Values marked (ref) follow the paper's reference
 * implementation; (ours) are this package's choices, justified where they are used.
 * Override any of them by passing a partial object to the function that takes it.
 */
export const DEFAULTS = Object.freeze({
  /** Sampling / scoring temperature T (ref 0.6). */
  temperature: 0.6,
  /** Specialist top-K log-probs per position (ref 100). */
  topK: 100,
  /** Size of the ancestor's top-k set used for coverage G_cov (ref 20). */
  kCov: 20,
  /** Junction half-window w for logit dispersion, positions [j*−w, j*+w] (ref example 8). */
  junctionWindow: 8,
  /** Specialist weight α in the steering mixes (ref 0.7). */
  alpha: 0.7,
  /** Log-prob given to a token outside the returned top-K, before temperature scaling (ref −1000). */
  floorLogprob: -1000,
  /** Added to both coverage sums in G_cov, and the floor under mean J in concentration (ref 1e-8). */
  epsilon: 1e-8,
  /** Floor under variances and maxima before log10, so a flat trace gives a finite value (ours). */
  logFloor: 1e-8,
  /** Sliding window (tokens) for the lowest-window confidence black-box signal (ours). */
  confidenceWindow: 16,
  /** Top log-probs per position used for DeepConf-style token confidence (ours, as DeepConf: 20). */
  confidenceTopK: 20,
  /**
   * For the prospective beyond-reach estimate: a feature "stands out" when its z exceeds this
   * (ours: half a standard deviation above the failures' mean). Routing's own fallback threshold
   * stays the paper's 0. Chosen after measuring the recall/precision trade-off on simulated
   * populations; override per use.
   */
  beyondStandOut: 0.5,
});

/** Eq. 2 thresholds (ref): steerable iff max_op r_op − r_retry ≥ minGain and 1 − r_retry ≥ minRetryGap. */
export interface Eq2Thresholds {
  minGain: number;
  minRetryGap: number;
  tolerance: number;
}

export const EQ2_DEFAULTS: Readonly<Eq2Thresholds> = Object.freeze({
  minGain: 0.05,
  minRetryGap: 0.5,
  /** Tolerance on both comparisons so 0.30 − 0.25 counts as meeting 0.05 (method.md). */
  tolerance: 1e-9,
});

export type Defaults = typeof DEFAULTS;
