// A deterministic pool of token positions (K = 100 specialist + 20 ancestor log-probs each),
// generated with a 32-bit LCG that scripts/bench/features_numpy.py reproduces exactly. The
// log-probs are raw, as vLLM returns them: normalized over a vocabulary larger than the slice,
// so each slice leaves an unreturned tail mass m ∈ [0, 0.3) (the features use it).
export const K = 100;
export const KA = 20;
export const V = 400;
export const P = 4096;
export const STRIDE = 7919;
export const L = 1000; // positions per rollout
/** The benchmark stream: rollout r is distinct rollout r mod DISTINCT (prebuilt, as traces arrive). */
export const DISTINCT = 64;

/** Pool index of position t of distinct rollout d. */
export const poolIndex = (d, t) => ((d * L + t) * STRIDE) % P;

/**
 * The pool. `confident` (0 by default, the pool, which numpy reproduces): the share of
 * positions where the specialist is sure of its token, its second log-prob 6–10 nats below the
 * first (the top probability then exceeds 0.99); `tail`: the largest unreturned mass m (0.3).
 * `makePool({ confident: 0.8, tail: 0.005 })` is a confident model's stream, for featuresAB.mjs.
 */
export function makePool({ confident = 0, tail = 0.3 } = {}) {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  return Array.from({ length: P }, () => {
    const ids = new Int32Array(K);
    const lp = new Float64Array(K);
    const used = new Set();
    for (let i = 0; i < K; i++) {
      let id;
      do id = Math.floor(rnd() * V);
      while (used.has(id));
      used.add(id);
      ids[i] = id;
    }
    let acc = 0;
    const sure = confident > 0 && rnd() < confident;
    for (let i = 0; i < K; i++) lp[i] = acc -= i === 1 && sure ? 6 + 4 * rnd() : rnd() * 0.5 + 0.01;
    const aids = new Int32Array(KA);
    const alp = new Float64Array(KA);
    const aused = new Set();
    for (let i = 0; i < KA; i++) {
      let id;
      do id = rnd() < 0.7 ? ids[Math.floor(rnd() * K)] : Math.floor(rnd() * V);
      while (aused.has(id));
      aused.add(id);
      aids[i] = id;
    }
    let b = 0;
    for (let i = 0; i < KA; i++) alp[i] = b -= rnd() * 0.6 + 0.01;
    const token = ids[rnd() < 0.8 ? 0 : 1];
    normalizeRaw(lp, tail * rnd());
    normalizeRaw(alp, tail * rnd());
    return { token, specialist: { ids, logprobs: lp }, ancestor: { ids: aids, logprobs: alp } };
  });
}

/** Shifts log-probs so their probabilities sum to 1 − m (m: the mass outside the slice). */
function normalizeRaw(lp, m) {
  let sum = 0;
  for (let i = 0; i < lp.length; i++) sum += Math.exp(lp[i]);
  const shift = Math.log(1 - m) - Math.log(sum);
  for (let i = 0; i < lp.length; i++) lp[i] += shift;
}

/**
 * The DISTINCT rollouts as flat traces (CSR typed arrays, as a capture would hand them over),
 * built once before any timing.
 */
export function flatRollouts(pool) {
  return Array.from({ length: DISTINCT }, (_, d) => {
    const tokens = new Int32Array(L);
    const sIds = new Int32Array(L * K);
    const sLp = new Float64Array(L * K);
    const aIds = new Int32Array(L * KA);
    const aLp = new Float64Array(L * KA);
    for (let t = 0; t < L; t++) {
      const p = pool[poolIndex(d, t)];
      tokens[t] = p.token;
      sIds.set(p.specialist.ids, t * K);
      sLp.set(p.specialist.logprobs, t * K);
      aIds.set(p.ancestor.ids, t * KA);
      aLp.set(p.ancestor.logprobs, t * KA);
    }
    return {
      tokens,
      specialist: { ids: sIds, logprobs: sLp, offsets: Int32Array.from({ length: L + 1 }, (_, t) => t * K) },
      ancestor: { ids: aIds, logprobs: aLp, offsets: Int32Array.from({ length: L + 1 }, (_, t) => t * KA) },
    };
  });
}
