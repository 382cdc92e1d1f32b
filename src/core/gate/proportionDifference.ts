import { normalQuantile } from '../stats/normalQuantile.js';

/**
 * Wilson score interval for a proportion x/n at confidence 1 − α, z = Φ⁻¹(1 − α/2):
 * (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n).
 */
export function wilsonInterval(x: number, n: number, alpha = 0.05): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - alpha / 2);
  const p = x / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  // Analytically the interval of 0/n starts at 0 and that of n/n ends at 1; rounding must not move them.
  return [x === 0 ? 0 : Math.max(0, centre - half), x === n ? 1 : Math.min(1, centre + half)];
}

/**
 * Newcombe's hybrid score interval (his method 10) for the difference p₂ − p₁ of two
 * independent proportions x₁/n₁ and x₂/n₂, from their Wilson intervals:
 * [d − √((p₂−l₂)² + (u₁−p₁)²), d + √((u₂−p₂)² + (p₁−l₁)²)].
 */
export function differenceInterval(x1: number, n1: number, x2: number, n2: number, alpha = 0.05): { diff: number; ci: [number, number] } {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const [l1, u1] = wilsonInterval(x1, n1, alpha);
  const [l2, u2] = wilsonInterval(x2, n2, alpha);
  const d = p2 - p1;
  return { diff: d, ci: [d - Math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + Math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)] };
}
