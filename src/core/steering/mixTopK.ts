import { DEFAULTS } from '../defaults.js';
import type { TopKSlice } from '../tokens/tokenSignals.js';

export type Geometry = 'e' | 'm';

/**
 * Mixes the specialist's and ancestor's next-token top-K (temperature-1 log-probs) over the
 * union of their ids, returning normalized log-probs (method.md, "sparse steer"):
 * - e-geodesic ("path"): α·lp_S(y) + (1−α)·lp_A(y), a token missing from a top-K at the floor;
 * - m-geodesic ("cov"): log(α·p_S(y) + (1−α)·p_A(y)), a missing token with probability 0.
 * α is the specialist's weight (ref 0.7).
 */
export function mixTopK(s: TopKSlice, a: TopKSlice, geometry: Geometry, alpha: number = DEFAULTS.alpha, floor: number = DEFAULTS.floorLogprob): TopKSlice {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const lpS = toMap(s);
  const lpA = toMap(a);
  const ids = [...new Set([...Array.from(s.ids), ...Array.from(a.ids)])];
  const mixed = ids.map((id) => {
    const zs = lpS.get(id);
    const za = lpA.get(id);
    if (geometry === 'e') return alpha * (zs ?? floor) + (1 - alpha) * (za ?? floor);
    const p = alpha * (zs === undefined ? 0 : Math.exp(zs)) + (1 - alpha) * (za === undefined ? 0 : Math.exp(za));
    return p > 0 ? Math.log(p) : -Infinity;
  });
  const max = Math.max(...mixed);
  const lse = max + Math.log(mixed.reduce((acc, z) => acc + Math.exp(z - max), 0));
  const order = ids.map((_, i) => i).sort((x, y) => mixed[y]! - mixed[x]! || ids[x]! - ids[y]!);
  return { ids: order.map((i) => ids[i]!), logprobs: order.map((i) => mixed[i]! - lse) };
}

function toMap(slice: TopKSlice): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = slice.ids.length - 1; i >= 0; i--) m.set(slice.ids[i]!, slice.logprobs[i]!);
  return m;
}
