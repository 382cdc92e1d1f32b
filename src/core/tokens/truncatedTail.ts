/**
 * What a truncated top-K of RAW log-probs (temperature 1, normalized over the full vocabulary, as
 * vLLM's V1 engine returns them) says about the unreturned tail (method.md, "Truncated top-K").
 *
 * - tail mass at T = 1: m = max(0, 1 − Σ_returned exp(lp)), known exactly;
 * - every unreturned token has probability q ≤ p_b = min(p_tail, m), p_tail the smallest returned
 *   probability of the slice's contiguous top block (an appended token of rank > K does not count);
 * - at temperature T the tail adds Σ_tail q^{1/T} to the normalizer Z_T = Σ_all p(y)^{1/T}:
 *   T < 1: in [0, m·p_b^{1/T−1}];  T = 1: exactly m;  T > 1: in [m·p_b^{1/T−1}, ∞).
 *
 * Point estimate (ours): a flat tail of tokens of probability q̂ = c·p_b each (c = `tailFraction`,
 * default ½, "half of what it can be at most"), so Σ_tail q^{1/T} ≈ m·q̂^{1/T−1}. It is exact at
 * T = 1 for any c, lies inside the bound at every T < 1, is continuous in T, and needs no
 * vocabulary size. An unreturned token's probability is estimated by the same q̂.
 */
export interface TailModel {
  /** m: probability mass outside the returned entries at T = 1 (0 when they cover everything). */
  mass: number;
  /** p_b = min(p_tail, m): the largest probability an unreturned token can have. */
  bound: number;
  /** log q̂ = log(c·p_b): the estimated log-prob (T = 1) of one unreturned token; −∞ when m = 0. */
  logEstimate: number;
}

/**
 * The tail of a raw top-K from its returned mass Σ exp(lp) and the smallest probability of its
 * top block.
 *
 * @example rawTail(0.9, 0.01, 0.5) // { mass: 0.1, bound: 0.01, logEstimate: log(0.005) }
 */
export function rawTail(returnedMass: number, smallestTopProbability: number, tailFraction: number): TailModel {
  const mass = Math.max(0, 1 - returnedMass);
  const bound = Math.min(smallestTopProbability, mass);
  return { mass, bound, logEstimate: bound > 0 ? Math.log(tailFraction * bound) : -Infinity };
}

/**
 * The tail's contribution Σ_tail q^{1/T} to Z_T, scaled by exp(−shift) to stay in range:
 * point estimate m·q̂^{1/T−1} and its bounds (see the file's comment).
 */
export function tailContribution(tail: TailModel, temperature: number, shift: number): { estimate: number; low: number; high: number } {
  const { mass, bound, logEstimate } = tail;
  if (!(mass > 0) || !(bound > 0)) return { estimate: 0, low: 0, high: 0 };
  const a = 1 / temperature - 1;
  const estimate = Math.exp(Math.log(mass) + a * logEstimate - shift);
  const atBound = Math.exp(Math.log(mass) + a * Math.log(bound) - shift);
  if (temperature < 1) return { estimate, low: 0, high: atBound };
  if (temperature === 1) return { estimate, low: estimate, high: estimate };
  return { estimate, low: atBound, high: Infinity };
}

/**
 * Bounds on Σ_{y∈M} q(y)^{1/T} over n unreturned tokens M (each q ≤ p_b, together ≤ m), scaled
 * by exp(−shift): at most min(n·p_b, m)·p_b^{1/T−1} for T ≤ 1 (convex: pile mass at p_b), at most
 * n·min(p_b, m/n)^{1/T} for T > 1 (concave: spread it); at least 0.
 */
export function missingHigh(n: number, tail: TailModel, temperature: number, shift: number): number {
  const { mass, bound } = tail;
  if (n === 0 || !(mass > 0) || !(bound > 0)) return 0;
  if (temperature <= 1) return Math.exp(Math.log(Math.min(n * bound, mass)) + (1 / temperature - 1) * Math.log(bound) - shift);
  return n * Math.exp(Math.log(Math.min(bound, mass / n)) / temperature - shift);
}
