import type { TopKSlice } from '../core/tokens/tokenSignals.js';

/** Sampling parameters. Temperature 0 means greedy (argmax), as in vLLM. */
export interface SampleParams {
  temperature: number;
  /** Seed of the first continuation; continuation i of n uses a seed derived from (seed, i). */
  seed: number;
  maxTokens: number;
  /** How many top log-probs to return per generated position. */
  topK: number;
  /** Continuations to draw (default 1). */
  n?: number;
}

/** One generated continuation: exact token ids, each position's top-K (temperature-1 log-probs). */
export interface Generation {
  tokens: number[];
  topK: TopKSlice[];
  text: string;
  finishReason: 'stop' | 'length';
}

/**
 * The small interface every backend implements: the embedded simulator and any
 * OpenAI-compatible server (vLLM, SGLang, llama.cpp). Token identity is exact (ids); text is
 * derived from ids by `detokenize`. Log-probs are at temperature 1 (callers rescale).
 */
export interface TokenModel {
  /** The model's name, e.g. a served model id. */
  readonly name: string;
  tokenize(text: string): Promise<number[]>;
  detokenize(ids: readonly number[]): Promise<string>;
  /** Samples continuations of `prompt`, with the top-K of every generated position. */
  sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]>;
  /**
   * Scores a given continuation after `prompt` in one prefill: the top-K at each continuation
   * position, and the continuation token's own log-prob included when it is outside the top-K.
   */
  score(prompt: readonly number[], continuation: readonly number[], topK: number): Promise<TopKSlice[]>;
  /** The top-K of the next token after `prefix` (for steering). */
  nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice>;
  /** Whether a token ends a generation (EOS), for token-by-token decoding. */
  isStop(token: number): boolean;
}
