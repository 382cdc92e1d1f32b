import { median } from 'simple-statistics';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';

/** What the sampled log-probs look like next to the same model's prompt log-probs of the same tokens. */
export type LogprobVerdict = 'raw' | 'processed' | 'logits' | 'mismatch' | 'inconclusive';

export interface LogprobConsistency {
  verdict: LogprobVerdict;
  /** Least-squares slope through 0 of sampled against scored log-prob gaps within a position (raw: 1; temperature-processed: 1/T). */
  slope: number | null;
  /** Median over positions of sampled − scored log-prob of the taken token (raw: 0). */
  offset: number | null;
  /** Positions where both sides had the taken token. */
  positions: number;
  /** Within-position gaps the slope was fitted on. */
  gaps: number;
}

/** Log-probs at or below this are servers' stand-ins for −∞ (vLLM writes −9999). */
const NEG_INF_STANDIN = -1000;
/** Gaps smaller than this are rounding noise, not signal. */
const MIN_GAP = 0.05;
/** How far slope and offset may stray from raw (1 and 0) before it is not raw: bf16 decode vs prefill differ by ~0.01–0.05 nats. */
const SLOPE_TOLERANCE = 0.1;
const OFFSET_TOLERANCE = 0.1;
const MIN_GAPS = 3;

/**
 * Compares the log-probs a server reported while sampling a rollout with the log-probs the same
 * model gives the same tokens in one prefill (`prompt_logprobs`, which vLLM reports raw).
 * Raw sampled log-probs agree: within a position the gap between two tokens is the same on both
 * sides (slope 1) and the taken token's log-prob is the same (offset 0). Log-probs processed at
 * temperature T (vLLM `--logprobs-mode processed_logprobs`, or its V0 engine) scale every gap by
 * 1/T; logits (`raw_logits`) keep the gaps but not the level. Only the gaps fix the slope, so
 * when |1/T − 1| ≤ 0.1 processed and raw look alike — and then they barely differ.
 *
 * @example
 * // one position, raw log-probs of tokens 1, 2, 3 on both sides → raw
 * compareLogprobs([{ ids: [1, 2, 3], logprobs: [-0.2, -1.9, -3] }], [1], [{ ids: [1, 2, 3], logprobs: [-0.2, -1.9, -3] }], 0.6).verdict
 */
export function compareLogprobs(sampled: readonly TopKSlice[], tokens: readonly number[], scored: readonly TopKSlice[], temperature: number): LogprobConsistency {
  const offsets: number[] = [];
  let sxy = 0;
  let sxx = 0;
  let gaps = 0;
  const n = Math.min(sampled.length, scored.length, tokens.length);
  for (let t = 0; t < n; t++) {
    const s = asMap(sampled[t]!);
    const p = asMap(scored[t]!);
    const taken = tokens[t]!;
    if (s.has(taken) && p.has(taken)) offsets.push(s.get(taken)! - p.get(taken)!);
    const shared = [...p.keys()].filter((id) => s.has(id));
    if (shared.length < 2) continue;
    const ref = shared.reduce((a, b) => (p.get(b)! > p.get(a)! ? b : a));
    for (const id of shared) {
      if (id === ref) continue;
      const dp = p.get(id)! - p.get(ref)!;
      if (Math.abs(dp) < MIN_GAP) continue;
      sxy += dp * (s.get(id)! - s.get(ref)!);
      sxx += dp * dp;
      gaps++;
    }
  }
  const slope = gaps >= MIN_GAPS ? sxy / sxx : null;
  const offset = offsets.length > 0 ? median(offsets) : null;
  const result = { slope, offset, positions: offsets.length, gaps };
  if (slope === null && offsets.length < 2) return { verdict: 'inconclusive', ...result };
  const slopeRaw = slope === null || Math.abs(slope - 1) <= SLOPE_TOLERANCE;
  const offsetRaw = offset === null || Math.abs(offset) <= OFFSET_TOLERANCE;
  if (slopeRaw && offsetRaw) return { verdict: 'raw', ...result };
  if (slope !== null && temperature > 0 && Math.abs(slope * temperature - 1) <= SLOPE_TOLERANCE) return { verdict: 'processed', ...result };
  if (slopeRaw) return { verdict: 'logits', ...result };
  return { verdict: 'mismatch', ...result };
}

/** The user-facing account of a verdict other than raw / inconclusive: what was found and what to change. */
export function describeLogprobMismatch(c: LogprobConsistency, temperature: number, where: string): string {
  const measured = `slope ${fmt(c.slope)} (raw: 1; processed at T = ${temperature}: ${fmt(1 / temperature)}), median offset ${fmt(c.offset)} nats (raw: 0), over ${c.positions} positions`;
  const found = {
    processed: 'it reports log-probs after temperature scaling (vLLM --logprobs-mode processed_logprobs, or the V0 engine)',
    logits: 'it reports logits, not log-probs (vLLM --logprobs-mode raw_logits or processed_logits)',
    mismatch: 'they match neither raw log-probs, processed log-probs nor logits (a different model behind the two requests, or --logprobs-mode processed_logits)',
  }[c.verdict as 'processed' | 'logits' | 'mismatch'];
  return (
    `${where}: the log-probs it returned while sampling do not match the same model's prompt_logprobs for the same tokens (${measured}): ${found}. ` +
    'Every trajectory feature needs the model\'s raw log-probs: start vLLM with --logprobs-mode raw_logprobs (the V1 engine\'s default; on the V0 engine, upgrade or set VLLM_USE_V1=1), then rerun. No further row is sampled.'
  );
}

function asMap(slice: TopKSlice): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < slice.ids.length; i++) {
    const lp = slice.logprobs[i]!;
    if (lp > NEG_INF_STANDIN) m.set(slice.ids[i]!, lp);
  }
  return m;
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(2);
}
