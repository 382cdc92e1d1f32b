import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import type { Generation, SampleParams, TokenModel } from './tokenModel.js';

/** What a model was asked to do: requests, tokens read (prompt/prefix) and tokens generated. */
export interface Meter {
  requests: number;
  /** Tokens the server had to read: prompts, prefixes, scored continuations. */
  promptTokens: number;
  /** Tokens the server produced: sampled tokens, plus one per next-token query. */
  generatedTokens: number;
}

export const emptyMeter = (): Meter => ({ requests: 0, promptTokens: 0, generatedTokens: 0 });

export function addMeters(a: Meter, b: Meter): Meter {
  return { requests: a.requests + b.requests, promptTokens: a.promptTokens + b.promptTokens, generatedTokens: a.generatedTokens + b.generatedTokens };
}

/**
 * Wraps a TokenModel so every call is counted into `meter` (one wrapper per unit of work, e.g.
 * one probe attempt, so concurrent work never mixes its counts). Counting follows what an
 * OpenAI-compatible server is asked: `sample` reads the prompt once and generates n
 * continuations; `score` reads prompt + continuation; `nextTopK` reads the prefix and decodes one
 * position. Without server-side prefix caching every read token is a prefill token.
 */
export function meteredModel(model: TokenModel, meter: Meter): TokenModel {
  return {
    name: model.name,
    tokenize: (text) => model.tokenize(text),
    detokenize: (ids) => model.detokenize(ids),
    isStop: (token) => model.isStop(token),
    async sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]> {
      const out = await model.sample(prompt, params);
      meter.requests++;
      meter.promptTokens += prompt.length;
      for (const g of out) meter.generatedTokens += g.tokens.length;
      return out;
    },
    async score(prompt: readonly number[], continuation: readonly number[], topK: number): Promise<TopKSlice[]> {
      const out = await model.score(prompt, continuation, topK);
      meter.requests++;
      meter.promptTokens += prompt.length + continuation.length;
      return out;
    },
    async nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice> {
      const out = await model.nextTopK(prefix, topK);
      meter.requests++;
      meter.promptTokens += prefix.length;
      meter.generatedTokens += 1;
      return out;
    },
  };
}
