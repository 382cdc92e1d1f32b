import { seededRandom } from '../random/seededRandom.js';
import type { FullStep } from './truncationFidelity.js';

/**
 * Full-vocabulary specialist/ancestor distributions for fidelity checks of the truncated-top-K
 * signals (compareTruncation): seeded, deterministic, pure. Unlike the simulator (supports of 1–5
 * tokens) every token has mass, as in a real model. Per position, S is Zipf-like over a random
 * permutation of the vocabulary (exponent 0.8–2, a sometimes confident top token, logit noise);
 * A is a perturbation of S: identical at 30% of positions, elsewhere its logits scaled by 0.8–1.3
 * plus noise, and at 30% of positions a token S ranks low promoted (S demoted it) or one of S's
 * top tokens demoted (S promoted it). The taken token is sampled from S at temperature T over
 * the whole vocabulary. Distributions come in canonical order (log-prob descending, ties by id).
 */
export interface SyntheticLineageShape {
  vocabulary?: number;
  rollouts?: number;
  positions?: number;
  temperature?: number;
  seed?: number;
}

export function* syntheticRollouts({ vocabulary = 1000, rollouts = 60, positions = 80, temperature = 0.6, seed = 1 }: SyntheticLineageShape = {}): Generator<FullStep[]> {
  const r = seededRandom(seed);
  const V = vocabulary;
  const ids = Array.from({ length: V }, (_, i) => i);
  for (let k = 0; k < rollouts; k++) {
    const steps: FullStep[] = [];
    for (let t = 0; t < positions; t++) {
      // A random permutation: perm[rank − 1] = token id.
      for (let i = V - 1; i > 0; i--) {
        const j = Math.floor(r.uniform() * (i + 1));
        [ids[i], ids[j]] = [ids[j]!, ids[i]!];
      }
      const s = 0.8 + 1.2 * r.uniform();
      const confident = r.uniform() < 0.4 ? 2 + 6 * r.uniform() : 0;
      const zS = new Float64Array(V);
      for (let i = 0; i < V; i++) zS[ids[i]!] = -s * Math.log(i + 1) + 0.3 * r.gaussian() + (i === 0 ? confident : 0);
      const zA = new Float64Array(V);
      const u = r.uniform();
      if (u < 0.3) zA.set(zS); // both models agree exactly here (J = 0)
      else {
        const gamma = 0.8 + 0.5 * r.uniform();
        for (let y = 0; y < V; y++) zA[y] = gamma * zS[y]! + 0.15 * r.gaussian();
      }
      if (u >= 0.3 && u < 0.45) zA[ids[5 + Math.floor(r.uniform() * 40)]!] = zA[ids[0]!]! + 1 + 2 * r.uniform(); // S demoted a token A likes
      else if (u >= 0.45 && u < 0.6) {
        const y = ids[Math.floor(r.uniform() * 3)]!;
        zA[y] = zA[y]! - 2 - 3 * r.uniform(); // S promoted a token A dislikes
      }
      const lpS = normalize(zS);
      const lpA = normalize(zA);
      steps.push({ token: sample(lpS, temperature, r.uniform()), specialist: full(lpS), ancestor: full(lpA) });
    }
    yield steps;
  }
}

function normalize(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (const v of z) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return z.map((v) => v - lse);
}

/** A full distribution in canonical order (log-prob descending, ties by id). */
function full(lp: Float64Array) {
  // A native numeric sort of the negated values, then ids by value (ascending id among equal values).
  const byValue = new Map<number, number[]>();
  lp.forEach((v, id) => {
    const list = byValue.get(v);
    if (list) list.push(id);
    else byValue.set(v, [id]);
  });
  const values = lp.map((v) => -v).sort();
  const ids = new Int32Array(lp.length);
  const logprobs = new Float64Array(lp.length);
  for (let i = 0; i < values.length; ) {
    const v = -values[i]!;
    for (const id of byValue.get(v)!) {
      ids[i] = id;
      logprobs[i++] = v;
    }
  }
  return { ids, logprobs };
}

function sample(lp: Float64Array, T: number, u: number): number {
  let max = -Infinity;
  for (const v of lp) if (v / T > max) max = v / T;
  let total = 0;
  for (const v of lp) total += Math.exp(v / T - max);
  let acc = 0;
  for (let i = 0; i < lp.length; i++) {
    acc += Math.exp(lp[i]! / T - max) / total;
    if (u < acc) return i;
  }
  return lp.length - 1;
}
