import type { Random } from '../core/random/seededRandom.js';
import type { Distribution } from '../models/servedModel.js';
import { sampleIndex } from '../models/sampleToken.js';
import { isGreedy, type SamplingParams } from './samplingParams.js';

/** What the penalties need to know about a sequence: its prompt tokens and its output so far. */
export interface PenaltyHistory {
  readonly prompt: ReadonlySet<number>;
  /** Output token id → how many times it was generated. */
  readonly outputCounts: ReadonlyMap<number, number>;
}

type Processing = Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty' | 'presencePenalty' | 'frequencyPenalty'>;

/**
 * The logits a token is drawn from, as vLLM's V1 Sampler processes them (vllm/v1/sample/
 * sampler.py, in order): tokens in `blocked` (min_tokens' stop tokens) to −∞; the penalties
 * (model_executor/layers/utils.py apply_penalties): a token seen in the prompt or output is
 * divided by repetition_penalty when its logit is > 0 and multiplied by it otherwise, then
 * z −= frequency_penalty · count + presence_penalty · [count > 0]; greedy stops here (argmax);
 * else temperature, then min-p (drop p_i < min_p · p_max), then top-k (drop z below the k-th
 * largest; ties kept) and top-p (ascending by z, drop the tokens whose cumulative probability
 * is ≤ 1 − top_p; the largest always stays). Dropped tokens are −∞; the rest keep their
 * penalized, unscaled value, so `sampleIndex(z, T)` applies the temperature.
 *
 * The input is the model's raw log-probs (logits up to a per-position constant). The
 * repetition penalty depends on the logit's sign, which that constant changes: vLLM applies it
 * to the raw logits, this server to the log-probs (all ≤ 0), so a repeated token is always
 * made less likely here. With every filter off, the result equals the input exactly.
 */
export function processLogits(dist: Distribution, p: Processing, history: PenaltyHistory, blocked: ReadonlySet<number>): Float64Array {
  const n = dist.ids.length;
  const z = Float64Array.from(dist.logprobs);
  if (blocked.size > 0) for (let i = 0; i < n; i++) if (blocked.has(dist.ids[i]!)) z[i] = -Infinity;
  if (p.repetitionPenalty !== 1 || p.presencePenalty !== 0 || p.frequencyPenalty !== 0) {
    for (let i = 0; i < n; i++) {
      const id = dist.ids[i]!;
      const count = history.outputCounts.get(id) ?? 0;
      if (p.repetitionPenalty !== 1 && (count > 0 || history.prompt.has(id))) z[i] = z[i]! > 0 ? z[i]! / p.repetitionPenalty : z[i]! * p.repetitionPenalty;
      z[i] = z[i]! - p.frequencyPenalty * count - p.presencePenalty * (count > 0 ? 1 : 0);
    }
  }
  if (isGreedy(p)) return z;
  if (p.minP > 0) applyMinP(z, p.temperature, p.minP);
  if (p.topK > 0 && p.topK < n) applyTopK(z, p.topK);
  if (p.topP < 1) applyTopP(z, p.temperature, p.topP);
  return z;
}

/** Draws the index of the next token: processLogits, then sampleIndex at the request's temperature (0 = argmax). */
export function sampleNext(dist: Distribution, p: Processing, history: PenaltyHistory, blocked: ReadonlySet<number>, random: Random): number {
  return sampleIndex(processLogits(dist, p, history, blocked), isGreedy(p) ? 0 : p.temperature, random);
}

/** vLLM's MinPLogitsProcessor on z/T: drop p_i < min_p · p_max, i.e. exp((z_i − z_max)/T) < min_p. */
function applyMinP(z: Float64Array, temperature: number, minP: number): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  for (let i = 0; i < z.length; i++) if (Math.exp((z[i]! - max) / temperature) < minP) z[i] = -Infinity;
}

/** Drops every z strictly below the k-th largest (vLLM's top_k_mask = logits_sort < kth value). */
function applyTopK(z: Float64Array, k: number): void {
  const kth = Float64Array.from(z).sort().reverse()[k - 1]!;
  for (let i = 0; i < z.length; i++) if (z[i]! < kth) z[i] = -Infinity;
}

/**
 * vLLM's top-p: sort ascending, softmax of z/T, cumulative sum from the smallest; drop where it
 * is ≤ 1 − p; the largest token always stays. Ties are ordered by index (canonical order).
 */
function applyTopP(z: Float64Array, temperature: number, topP: number): void {
  const order = Array.from(z, (_, i) => i).sort((a, b) => z[a]! - z[b]! || b - a);
  const max = z[order[order.length - 1]!]!;
  let total = 0;
  const weights = order.map((i) => {
    const w = Math.exp((z[i]! - max) / temperature);
    total += w;
    return w;
  });
  let cumulative = 0;
  for (let r = 0; r < order.length - 1; r++) {
    cumulative += weights[r]! / total;
    if (cumulative <= 1 - topP) z[order[r]!] = -Infinity;
  }
}
