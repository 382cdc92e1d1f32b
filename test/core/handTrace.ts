import type { TokenStep } from '../../src/core/index.js';

const ln = Math.log;

/**
 * A 3-token trace with K = 3, worked by hand at T = 0.5 (p^T ∝ p², renormalized) and k_cov = 2.
 *
 * pos 0, taken 0. S: ids 0,1,2 p .6,.3,.1 → p_S^T = 36/46, 9/46, 1/46.
 *                 A: ids 1,0,3 p .5,.4,.1 → p_A^T = 25/42, 16/42, 1/42; A_t = {1, 0}.
 * pos 1, taken 1. S = A: ids 1,2,0 p .5,.25,.25 → p^T = 2/3, 1/6, 1/6.
 * pos 2, taken 2. S: ids 2,3,4 p .9,.05,.05 → p_S^T = .81/.815, .0025/.815, .0025/.815.
 *                 A: ids 3,4,2 p .7,.2,.1 → p_A^T = .49/.54, .04/.54, .01/.54; A_t = {3, 4}.
 */
export function handTrace(): TokenStep[] {
  return [
    { token: 0, specialist: { ids: [0, 1, 2], logprobs: [ln(0.6), ln(0.3), ln(0.1)] }, ancestor: { ids: [1, 0, 3], logprobs: [ln(0.5), ln(0.4), ln(0.1)] } },
    { token: 1, specialist: { ids: [1, 2, 0], logprobs: [ln(0.5), ln(0.25), ln(0.25)] }, ancestor: { ids: [1, 2, 0], logprobs: [ln(0.5), ln(0.25), ln(0.25)] } },
    { token: 2, specialist: { ids: [2, 3, 4], logprobs: [ln(0.9), ln(0.05), ln(0.05)] }, ancestor: { ids: [3, 4, 2], logprobs: [ln(0.7), ln(0.2), ln(0.1)] } },
  ];
}

/** Probability-weighted variance of the raw log-probs `lps` under weights `w`. */
function weightedVar(w: number[], lps: number[]): number {
  const mean = w.reduce((s, wi, i) => s + wi * lps[i]!, 0);
  return w.reduce((s, wi, i) => s + wi * (lps[i]! - mean) ** 2, 0);
}

const w0 = [36 / 46, 9 / 46, 1 / 46];
const w1 = [2 / 3, 1 / 6, 1 / 6];
const w2 = [0.81 / 0.815, 0.0025 / 0.815, 0.0025 / 0.815];
const eps = 1e-8;

export const HAND = {
  // Δpath_0 = ln(36/46) − ln(16/42)
  delta0: ln(36 / 46) - ln(16 / 42),
  // G_cov_0 = ln((25/42 + 16/42 + ε) / (9/46 + 36/46 + ε)) = ln((41/42)/(45/46)) < 0
  gcov0: ln((41 / 42 + eps) / (45 / 46 + eps)),
  entropy0: -w0.reduce((s, p) => s + p * ln(p), 0),
  var0: weightedVar(w0, [ln(0.6), ln(0.3), ln(0.1)]),
  // KL over S's top-K; token 2 is outside A's top-K: log p_A^T(2) = −1000/0.5 − ln(0.42).
  kl0:
    (36 / 46) * (ln(36 / 46) - ln(16 / 42)) +
    (9 / 46) * (ln(9 / 46) - ln(25 / 42)) +
    (1 / 46) * (ln(1 / 46) - (-2000 - ln(0.42))),
  var1: weightedVar(w1, [ln(0.5), ln(0.25), ln(0.25)]),
  // Δpath_2 = ln(.81/.815) − ln(.01/.54)
  delta2: ln(0.81 / 0.815) - ln(0.01 / 0.54),
  // G_cov_2 = ln((.53/.54 + ε) / (.0025/.815 + .0025/.815 + ε))
  gcov2: ln((0.53 / 0.54 + eps) / (0.005 / 0.815 + eps)),
  var2: weightedVar(w2, [ln(0.9), ln(0.05), ln(0.05)]),
};
/** J per position: J_0 = Δpath_0 (G_cov_0 < 0), J_1 = 0, J_2 = Δpath_2 + G_cov_2. */
export const HAND_J = [HAND.delta0, 0, HAND.delta2 + HAND.gcov2];
