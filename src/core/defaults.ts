/**
 * Every tunable of the method in one place. Values marked (ref) follow the paper's reference
 * implementation; (ours) are this package's choices, justified where they are used.
 * Override any of them by passing a partial object to the function that takes it.
 */
/** How returned log-probs are normalized: see DEFAULTS.normalization. */
export type LogprobNormalization = 'fullVocabulary' | 'renormalizeTopK';

export const DEFAULTS = Object.freeze({
  /** Sampling / scoring temperature T (ref 0.6). */
  temperature: 0.6,
  /**
   * Specialist top-K log-probs per position (ref 100; ours 20: a default vLLM server refuses more
   * than 20, `--max-logprobs`). With raw log-probs the features need no more (see kCov).
   */
  topK: 20,
  /** Ancestor top-K log-probs per position (ref 100; ours 20, the default server's maximum). */
  ancestorTopK: 20,
  /**
   * Size of the ancestor's top-k set A_t used for coverage G_cov (ref 20). With K_A = k_cov the
   * features are only non-degenerate because of `normalization: 'fullVocabulary'`.
   */
  kCov: 20,
  /**
   * How returned log-probs are read (ours). 'fullVocabulary': raw, temperature 1, normalized over
   * the full vocabulary (vLLM V1's default `raw_logprobs`, the simulator): the unreturned mass is
   * known and p^T uses the full normalizer. 'renormalizeTopK': log-probs that are not raw
   * (processed, or already renormalized): renormalize over the returned top-K, as the reference
   * implementation does.
   */
  normalization: 'fullVocabulary' as LogprobNormalization,
  /**
   * c: an unreturned token's probability is estimated as c·p_b, p_b the most it can be (the
   * smallest returned probability, capped by the unreturned mass). Ours: ½, the middle of what
   * is possible; exact at T = 1 for the normalizer, inside method.md's bound at T < 1.
   */
  tailFraction: 0.5,
  /** Unreturned mass 1 − Σ exp(lp) below this is float summation rounding: no tail (ours). */
  tailMassFloor: 1e-12,
  /** Raw top-K probabilities summing above 1 + this are refused as not raw (ours; float32 log-probs stay well inside). */
  rawMassTolerance: 1e-3,
  /**
   * τ: a positive part of J counts only above τ·max(1, |a|, |b|), a and b the two logs whose
   * difference it is (ours). Float64 rounding of these differences is ~1e-15 of the magnitudes;
   * 1e-12 leaves a 100× margin and is far below any demotion that matters.
   */
  jTolerance: 1e-12,
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
