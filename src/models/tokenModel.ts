import type { TopKSlice } from '../core/tokens/tokenSignals.js';

/** Requests a call made and how many of its attempts were retries (filled in by HTTP backends). */
export interface RequestStats {
  requests: number;
  retries: number;
}

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
  /** Where an HTTP backend counts this call's requests and retries. */
  stats?: RequestStats;
}

/**
 * A top-K slice that may also carry each token's rank in the full distribution (1 = most
 * likely), parallel to `ids`: vLLM's `prompt_logprobs` report it, and an entry can hold the
 * actual token below the top-k with its true rank.
 */
export type RankedTopKSlice = TopKSlice & { readonly ranks?: ArrayLike<number> };

/** One generated continuation: exact token ids, each position's top-K (temperature-1 log-probs). */
export interface Generation {
  tokens: number[];
  topK: TopKSlice[];
  text: string;
  finishReason: 'stop' | 'length';
  /**
   * What ended it, when the backend says (vLLM's `stop_reason`): null → the end-of-sequence
   * token; a number → that stop token id; a string → that stop string. Undefined when unknown.
   */
  stopReason?: number | string | null;
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
  score(prompt: readonly number[], continuation: readonly number[], topK: number, stats?: RequestStats): Promise<RankedTopKSlice[]>;
  /** The top-K of the next token after `prefix` (for steering). */
  nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice>;
  /** Whether a token ends a generation (EOS), for token-by-token decoding. */
  isStop(token: number): boolean;
  /**
   * The longest prompt + output the model accepts (vLLM's max_model_len), when the backend says;
   * null when unknown. (A method, so a backend that is also a ServedModel keeps its
   * `maxModelLen` number.)
   */
  contextWindow?(): Promise<number | null>;
  /**
   * What the backend changed from what was asked, in plain words (e.g. a top-K lowered to the
   * server's max_logprobs), each said once; callers report them with the results.
   */
  notices?(): readonly string[];
}
