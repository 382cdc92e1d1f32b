import fc from 'fast-check';
import type { TopKSlice } from '../../src/core/index.js';

/**
 * fast-check arbitraries for top-K slices as servers return them: RAW log-probs (temperature 1,
 * normalized over a vocabulary larger than the slice, so 1 − Σ p is the unreturned mass, zero
 * sometimes), duplicate-free ids, any entry order, and optionally vLLM's ranks with an appended
 * token from below the top-k at its true rank.
 */
export interface SliceShape {
  maxEntries?: number;
  maxId?: number;
  /** Allow vLLM ranks (with, sometimes, an appended low entry at rank > k + 1). */
  ranks?: boolean;
}

export function rawSlice({ maxEntries = 8, maxId = 40, ranks = true }: SliceShape = {}): fc.Arbitrary<TopKSlice> {
  return fc
    .record({
      ids: fc.uniqueArray(fc.integer({ min: 0, max: maxId }), { minLength: 1, maxLength: maxEntries }),
      weights: fc.array(fc.double({ min: 1e-3, max: 1, noNaN: true }), { minLength: maxEntries, maxLength: maxEntries }),
      tail: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 0.9, noNaN: true })),
      appended: fc.boolean(),
      withRanks: ranks ? fc.boolean() : fc.constant(false),
      gap: fc.integer({ min: 1, max: 50 }),
      shuffle: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: maxEntries, maxLength: maxEntries }),
    })
    .map(({ ids, weights, tail, appended, withRanks, gap, shuffle }) => {
      const n = ids.length;
      const w = weights.slice(0, n).sort((a, b) => b - a);
      // An appended entry (vLLM's actual token from below the top-k) is at most a tenth of the last top entry.
      const hasAppended = withRanks && appended && n >= 2 && tail > 0;
      if (hasAppended) w[n - 1] = Math.min(w[n - 1]!, w[n - 2]! / 10);
      const total = w.reduce((s, x) => s + x, 0);
      const lps = w.map((x) => Math.log(((1 - tail) * x) / total));
      const rank = lps.map((_, i) => i + 1);
      if (hasAppended) rank[n - 1] = n + gap;
      // Entries in a random order.
      const order = ids.map((_, i) => i).sort((a, b) => shuffle[a]! - shuffle[b]! || a - b);
      const slice: TopKSlice = {
        ids: order.map((i) => ids[i]!),
        logprobs: order.map((i) => lps[i]!),
        ...(withRanks ? { ranks: order.map((i) => rank[i]!) } : {}),
      };
      return slice;
    });
}

/** A position: a taken token (in the specialist's slice mostly, not always) and both slices. */
export function rawStep(shape: SliceShape = {}) {
  const maxId = shape.maxId ?? 40;
  return fc
    .record({ specialist: rawSlice(shape), ancestor: rawSlice(shape), pick: fc.double({ min: 0, max: 1, noNaN: true }), outside: fc.integer({ min: 0, max: maxId + 5 }), fromSlice: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ specialist, ancestor, pick, outside, fromSlice }) => ({
      token: fromSlice < 0.8 ? specialist.ids[Math.min(Math.floor(pick * specialist.ids.length), specialist.ids.length - 1)]! : outside,
      specialist,
      ancestor,
    }));
}
