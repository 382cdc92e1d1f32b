import { seededRandom, seedOf } from '../core/random/seededRandom.js';
import type { ServedModel } from '../models/servedModel.js';
import { type LogprobEntry, positionEntries } from './logprobEntries.js';
import type { SamplingParams } from './samplingParams.js';
import { type PenaltyHistory, sampleNext } from './tokenSampler.js';

/** One decoded sequence, as vLLM's CompletionOutput carries it. */
export interface DecodedSequence {
  /** Every generated token, a stop token included. */
  tokens: number[];
  /** Per generated position: the chosen token and the top-k (see positionEntries); null when not asked for. */
  logprobs: LogprobEntry[][] | null;
  /** Detokenized output: special tokens skipped, a stop token's text and anything from a stop string on left out. */
  text: string;
  finishReason: 'stop' | 'length';
  /** null for EOS or length; the token id for a stop token; the string for a stop string. */
  stopReason: number | string | null;
}

export interface DecodeRequest {
  model: ServedModel;
  prompt: readonly number[];
  params: SamplingParams;
  /** Seed of sample i is seed + i (vLLM's ParentRequest._get_child_sampling_params). */
  seed: number;
  /** Top-k to record per position (0 = the chosen token only); null = none. */
  logprobs: number | null;
  /** Aborts between steps (the client went away). */
  signal?: AbortSignal;
}

/** Thrown when a decode is aborted through its signal. */
export class DecodeAborted extends Error {
  override readonly name = 'DecodeAborted';
}

/**
 * Decodes `n` sequences after one prompt, one step for every running sequence at a time, and
 * yields to the event loop between steps, so a long request never keeps the server from
 * answering others. Sample i draws every token with sampleNext on the full distribution, from
 * seededRandom(seedOf('sample', seed + i)) — the in-process convention, so the same request gives
 * the same tokens in-process and over HTTP. A sequence stops as vLLM's scheduler stops it
 * (v1/core/sched/utils.py, check_stop: nothing before min_tokens; then EOS unless ignore_eos,
 * a stop token id, max_tokens) and as its detokenizer does (v1/engine/detokenizer.py: a stop
 * string, checked once more than min_tokens tokens exist, truncates the text and wins).
 */
export async function decodeSequences(req: DecodeRequest): Promise<DecodedSequence[]> {
  const { model, params } = req;
  const session = model.startDecode(req.prompt, params.n);
  const stopIds = new Set(params.stopTokenIds);
  const minTokensBlocked = new Set(params.ignoreEos ? stopIds : [...stopIds, model.eosId]);
  const promptSet = new Set(params.repetitionPenalty !== 1 ? req.prompt : []);
  const sequences = Array.from({ length: params.n }, (_, i) => ({
    random: seededRandom(seedOf('sample', req.seed + i)),
    tokens: [] as number[],
    counts: new Map<number, number>(),
    logprobs: req.logprobs === null ? null : ([] as LogprobEntry[][]),
    text: '',
    done: null as null | { finishReason: 'stop' | 'length'; stopReason: number | string | null },
  }));
  const noBlock = new Set<number>();
  try {
    await decodeAll();
  } finally {
    session.close?.(); // a client that went away (or an error) frees the model's KV slots now, not at GC
  }
  return sequences.map((s) => ({ tokens: s.tokens, logprobs: s.logprobs, text: s.text, finishReason: s.done!.finishReason, stopReason: s.done!.stopReason }));

  async function decodeAll(): Promise<void> {
    while (session.active.length > 0) {
      if (req.signal?.aborted) throw new DecodeAborted('the client went away');
      const active = [...session.active];
      const dists = session.next();
      const chosen = active.map((i, j) => {
        const s = sequences[i]!;
        const dist = dists[j]!;
        const history: PenaltyHistory = { prompt: promptSet, outputCounts: s.counts };
        const token = dist.ids[sampleNext(dist, params, history, s.tokens.length < params.minTokens ? minTokensBlocked : noBlock, s.random)]!;
        s.logprobs?.push(positionEntries(dist, token, req.logprobs!));
        s.tokens.push(token);
        s.counts.set(token, (s.counts.get(token) ?? 0) + 1);
        return token;
      });
      session.push(chosen);
      for (const i of active) {
        const s = sequences[i]!;
        s.done = checkStop(s.tokens, params, stopIds, model.eosId);
        const stopTerminated = s.done?.finishReason === 'stop';
        const searchedUpTo = s.text.length;
        if (params.stop.length > 0 || s.done) {
          s.text = model.decode(stopTerminated && !params.includeStopStrInOutput ? s.tokens.slice(0, -1) : s.tokens);
        }
        if (params.stop.length > 0 && s.tokens.length > params.minTokens) {
          const hit = findStopString(s.text, searchedUpTo, params.stop, params.includeStopStrInOutput);
          if (hit) {
            s.text = s.text.slice(0, hit.truncateTo);
            s.done = { finishReason: 'stop', stopReason: hit.stop };
          }
        }
        if (s.done) session.finish(i);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function checkStop(tokens: readonly number[], p: SamplingParams, stopIds: ReadonlySet<number>, eos: number): { finishReason: 'stop' | 'length'; stopReason: number | null } | null {
  if (tokens.length < p.minTokens) return null;
  const last = tokens.at(-1)!;
  if (!p.ignoreEos && last === eos) return { finishReason: 'stop', stopReason: null };
  if (stopIds.has(last)) return { finishReason: 'stop', stopReason: last };
  if (tokens.length >= p.maxTokens) return { finishReason: 'length', stopReason: null };
  return null;
}

/**
 * vLLM's check_stop_strings: the first stop string (in request order) that ends in the text added
 * since `searchedUpTo` (Python's find from 1 − new_chars − len(stop)), and where to cut: before
 * it, or after it with include_stop_str_in_output.
 */
export function findStopString(text: string, searchedUpTo: number, stops: readonly string[], include: boolean): { stop: string; truncateTo: number } | null {
  for (const stop of stops) {
    const at = text.indexOf(stop, Math.max(0, searchedUpTo - stop.length + 1));
    if (at < 0) continue;
    return { stop, truncateTo: include ? at + stop.length : at };
  }
  return null;
}
