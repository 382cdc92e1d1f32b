import { normalQuantile } from '../stats/normalQuantile.js';

/**
 * Tests per eval that would make a (1 − α) Wald interval of a difference of two independent
 * proportions exclude zero at the observed effect d = p₂ − p₁:
 * n = ⌈z² (p₁(1 − p₁) + p₂(1 − p₂)) / d²⌉, z = Φ⁻¹(1 − α/2). Null when d = 0.
 *
 * @example proportionTestsNeeded(0.1, 0.175) // 161: 1.96² · (0.09 + 0.144375) / 0.075² = 160.06…
 */
export function proportionTestsNeeded(p1: number, p2: number, alpha = 0.05): { n: number; formula: string } | null {
  const d = p2 - p1;
  if (d === 0) return null;
  const z = normalQuantile(1 - alpha / 2);
  return { n: Math.ceil((z * z * (p1 * (1 - p1) + p2 * (1 - p2))) / (d * d)), formula: 'n = z²(p₁q₁ + p₂q₂)/d²' };
}

/**
 * Tests that would make a (1 − α) interval of a mean paired difference exclude zero at the
 * observed mean difference d with the observed SD s of the differences: n = ⌈(z s / d)²⌉.
 * Null when d = 0.
 *
 * @example pairedTestsNeeded(-0.075, 0.3) // 62: (1.96 · 0.3 / 0.075)²
 */
export function pairedTestsNeeded(d: number, sd: number, alpha = 0.05): { n: number; formula: string } | null {
  if (d === 0) return null;
  const z = normalQuantile(1 - alpha / 2);
  return { n: Math.ceil(((z * sd) / d) ** 2), formula: 'n = (z·s_d/d)²' };
}
