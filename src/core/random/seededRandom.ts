import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded source of uniform [0, 1) numbers (pure-rand's xoroshiro128+). */
export interface Random {
  uniform(): number;
  /** Standard normal by Box–Muller. */
  gaussian(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
}

export function seededRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed | 0);
  const uniform = () => uniformFloat64(rng);
  return {
    uniform,
    gaussian: () => {
      const u = 1 - uniform();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    },
    between: (lo, hi) => lo + (hi - lo) * uniform(),
  };
}

/**
 * FNV-1a over the parts' UTF-8 bytes, separated: a stable 32-bit seed from any mix of
 * strings and numbers, e.g. seedOf(simSeed, prompt) or seedOf(seed, choiceIndex).
 */
export function seedOf(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const bytes = new TextEncoder().encode(parts.map(String).join('\u241f'));
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
