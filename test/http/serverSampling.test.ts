import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random/seededRandom.js';
import { findStopString } from '../../src/http/decodeLoop.js';
import { generationDefaults } from '../../src/http/generationConfig.js';
import { completionLogprobs, chatLogprobs, positionEntries } from '../../src/http/logprobEntries.js';
import { resolveSamplingParams, type SamplingFields } from '../../src/http/samplingParams.js';
import { processLogits, sampleNext } from '../../src/http/tokenSampler.js';
import { sampleIndex } from '../../src/models/sampleToken.js';

const OFF = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 };
const NO_HISTORY = { prompt: new Set<number>(), outputCounts: new Map<number, number>() };
const NONE = new Set<number>();
const dist = (ids: number[], logprobs: number[]) => ({ ids, logprobs });

describe('processLogits: vLLM V1 sampler order, hand-computed', () => {
  it('with every filter off returns the log-probs unchanged, and draws exactly as sampleIndex does', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -30, max: 0, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.integer(), fc.double({ min: 0.05, max: 2, noNaN: true }), (lps, seed, t) => {
        const d = dist(lps.map((_, i) => i), lps);
        const z = processLogits(d, { ...OFF, temperature: t }, NO_HISTORY, NONE);
        expect(Array.from(z)).toEqual(lps);
        expect(sampleNext(d, { ...OFF, temperature: t }, NO_HISTORY, NONE, seededRandom(seed))).toBe(sampleIndex(lps, t, seededRandom(seed)));
      }),
    );
  });

  it('repetition penalty divides a positive logit and multiplies a negative one of a seen token; frequency and presence subtract', () => {
    const d = dist([10, 11, 12, 13], [1, -1, -2, -0.5]);
    const history = { prompt: new Set([10, 11]), outputCounts: new Map([[12, 2]]) };
    const z = processLogits(d, { ...OFF, repetitionPenalty: 2, presencePenalty: 0.5, frequencyPenalty: 0.25 }, history, NONE);
    // 10: seen in prompt, positive → 1 / 2; 11: seen, negative → −1 · 2; 12: in output twice → −2 · 2 − 0.25 · 2 − 0.5; 13: unseen.
    expect(Array.from(z)).toEqual([0.5, -2, -5, -0.5]);
  });

  it('blocked tokens (min_tokens) are −∞ before anything else', () => {
    expect(Array.from(processLogits(dist([1, 2], [-0.1, -2]), OFF, NO_HISTORY, new Set([1])))).toEqual([-Infinity, -2]);
  });

  it('min-p drops tokens below min_p · p_max on the temperature-scaled distribution', () => {
    const d = dist([1, 2, 3], [0, -1, -3]);
    // T = 1: p/p_max = 1, e^−1 = 0.368, e^−3 = 0.050 → min_p 0.1 drops only the third.
    expect(Array.from(processLogits(d, { ...OFF, minP: 0.1 }, NO_HISTORY, NONE))).toEqual([0, -1, -Infinity]);
    // T = 0.5: ratios e^−2 = 0.135, e^−6 = 0.0025 → min_p 0.2 drops both.
    expect(Array.from(processLogits(d, { ...OFF, temperature: 0.5, minP: 0.2 }, NO_HISTORY, NONE))).toEqual([0, -Infinity, -Infinity]);
  });

  it('top-k keeps the k largest, ties at the k-th included', () => {
    const d = dist([1, 2, 3, 4], [0, -1, -1, -3]);
    expect(Array.from(processLogits(d, { ...OFF, topK: 2 }, NO_HISTORY, NONE))).toEqual([0, -1, -1, -Infinity]);
    expect(Array.from(processLogits(d, { ...OFF, topK: 1 }, NO_HISTORY, NONE))).toEqual([0, -Infinity, -Infinity, -Infinity]);
  });

  it('top-p drops the smallest tokens whose cumulative probability is ≤ 1 − p; the largest always stays', () => {
    const d = dist([1, 2, 3], [Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    // ascending 0.2 (cum 0.2), 0.3 (cum 0.5): p = 0.6 → 1 − p = 0.4 drops only 0.2.
    expect(Array.from(processLogits(d, { ...OFF, topP: 0.6 }, NO_HISTORY, NONE)).map((v) => v === -Infinity)).toEqual([false, false, true]);
    // p = 0.01 → 0.99: both small ones go, the top stays.
    expect(Array.from(processLogits(d, { ...OFF, topP: 0.01 }, NO_HISTORY, NONE)).map((v) => v === -Infinity)).toEqual([false, true, true]);
  });

  it('greedy (temperature 0) takes the argmax of the penalized logits; the filters do not apply', () => {
    const d = dist([1, 2], [-0.1, -0.2]);
    const history = { prompt: new Set<number>(), outputCounts: new Map([[1, 1]]) };
    const p = { ...OFF, temperature: 0, frequencyPenalty: 1, topK: 1 };
    expect(Array.from(processLogits(d, p, history, NONE))).toEqual([-1.1, -0.2]);
    expect(sampleNext(d, p, history, NONE, seededRandom(1))).toBe(1);
  });
});

const fields = (over: Partial<SamplingFields> = {}): SamplingFields => ({ n: 1, ignore_eos: false, min_tokens: 0, include_stop_str_in_output: false, ...over });

describe('resolveSamplingParams: request → generation-config default → neutral, then vLLM checks', () => {
  it('a field left out or null takes the generation-config default; a field sent wins', () => {
    const defaults = { temperature: 0.6, top_k: 20, top_p: 0.95 };
    const omitted = resolveSamplingParams(fields({ top_p: null }), defaults, 16, 256);
    expect(omitted).toMatchObject({ temperature: 0.6, topK: 20, topP: 0.95, minP: 0, repetitionPenalty: 1 });
    const sent = resolveSamplingParams(fields({ temperature: 1, top_k: -1, top_p: 1, min_p: 0 }), defaults, 16, 256);
    expect(sent).toMatchObject({ temperature: 1, topK: 0, topP: 1, minP: 0 });
    expect(resolveSamplingParams(fields(), {}, 16, 256)).toMatchObject({ temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 });
  });

  it("answers out-of-range values with vLLM's messages", () => {
    const err = (over: Partial<SamplingFields>, maxTokens = 16) => {
      try {
        resolveSamplingParams(fields(over), {}, maxTokens, 256);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err({ temperature: 3 })).toBe('temperature must be in [0, 2], got 3.0. (parameter=temperature, value=3.0)');
    expect(err({ temperature: -0.5 })).toBe('temperature must be non-negative, got -0.5. (parameter=temperature, value=-0.5)');
    expect(err({ top_p: 0 })).toBe('top_p must be in (0, 1], got 0.0. (parameter=top_p, value=0.0)');
    expect(err({ top_k: -2 })).toBe('top_k must be 0 (disable), or at least 1, got -2.');
    expect(err({ min_p: 1.5 })).toBe('min_p must be in [0, 1], got 1.5.');
    expect(err({ presence_penalty: 2.1 })).toBe('presence_penalty must be in [-2, 2], got 2.1.');
    expect(err({ frequency_penalty: -2.1 })).toBe('frequency_penalty must be in [-2, 2], got -2.1.');
    expect(err({ repetition_penalty: 0 })).toBe('repetition_penalty must be greater than zero, got 0.0.');
    expect(err({ n: 0 })).toBe('n must be at least 1, got 0.');
    expect(err({ n: 300 })).toBe('n must be at most 256, got 300.');
    expect(err({ temperature: 0, n: 2 })).toBe('n must be 1 when using greedy sampling, got 2.');
    expect(err({}, 0)).toBe('max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)');
    expect(err({ min_tokens: 5 }, 4)).toBe('min_tokens must be less than or equal to max_tokens=4, got 5.');
    expect(err({ stop: ['x', ''] })).toBe('stop cannot contain an empty string.');
  });

  it('raises a temperature in (0, 0.01) to 0.01, reads seed −1 as none, and clears the filters when greedy', () => {
    expect(resolveSamplingParams(fields({ temperature: 0.005 }), {}, 16, 256).temperature).toBe(0.01);
    expect(resolveSamplingParams(fields({ seed: -1 }), {}, 16, 256).seed).toBeNull();
    expect(resolveSamplingParams(fields({ temperature: 0, top_k: 5, top_p: 0.5, min_p: 0.2 }), {}, 16, 256)).toMatchObject({ topK: 0, topP: 1, minP: 0 });
  });
});

describe('generationDefaults: what vLLM reads from a generation_config.json', () => {
  it('keeps the six sampling fields, maps max_new_tokens, and drops values equal to Hugging Face defaults (to_diff_dict)', () => {
    expect(generationDefaults({ temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0, eos_token_id: [1, 2] })).toEqual({ temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0 });
    expect(generationDefaults({ temperature: 1, top_k: 50, top_p: 1, repetition_penalty: 1 })).toEqual({});
    expect(generationDefaults({ repetition_penalty: 1.1, max_new_tokens: 64, do_sample: true })).toEqual({ repetition_penalty: 1.1, max_tokens: 64 });
  });
});

describe("a position's log-prob dict, as vLLM builds it", () => {
  const d = dist([5, 6, 7, 8], [-0.1, -1, -2, -3]);

  it('holds the chosen token (true rank) and the top-k: k entries when it is among them, k + 1 when not', () => {
    expect(positionEntries(d, 7, 2)).toEqual([
      { id: 7, logprob: -2, rank: 3 },
      { id: 5, logprob: -0.1, rank: 1 },
      { id: 6, logprob: -1, rank: 2 },
    ]);
    expect(positionEntries(d, 6, 2)).toEqual([
      { id: 6, logprob: -1, rank: 2 },
      { id: 5, logprob: -0.1, rank: 1 },
    ]);
    expect(positionEntries(d, 8, 0)).toEqual([{ id: 8, logprob: -3, rank: 4 }]);
  });

  it('ranks a tie by the count of tokens at least as likely, and a token outside the support one past it', () => {
    expect(positionEntries(dist([1, 2], [-0.7, -0.7]), 1, 0)[0]!.rank).toBe(2);
    expect(positionEntries(d, 99, 1)).toEqual([
      { id: 99, logprob: -Infinity, rank: 5 },
      { id: 5, logprob: -0.1, rank: 1 },
    ]);
  });

  it('completion logprobs: the first k + 1 dict entries, −∞ sent as −9999.0, offsets by token-name length, nulls for a position without a dict', () => {
    const name = (id: number) => `token_id:${id}`;
    const out = completionLogprobs([5, 99], [null, positionEntries(d, 99, 1)], 1, name);
    expect(out).toEqual({
      text_offset: [0, 10],
      tokens: ['token_id:5', 'token_id:99'],
      token_logprobs: [null, -9999],
      top_logprobs: [null, { 'token_id:99': -9999, 'token_id:5': -0.1 }],
    });
  });

  it('chat top_logprobs: the first k dict entries, which start with the chosen token', () => {
    const out = chatLogprobs([7], [positionEntries(d, 7, 2)], 2, (id) => String(id));
    expect(out.content[0]!.top_logprobs.map((t) => t.token)).toEqual(['7', '5']);
    expect(out.content[0]).toMatchObject({ token: '7', logprob: -2, bytes: [55] });
  });
});

describe('stop strings, as vLLM checks them', () => {
  it('finds the first stop string (request order) ending in the new text, cutting before it or after it', () => {
    expect(findStopString('Step 1: a. Step 2', 10, ['Step 2', 'a.'], false)).toEqual({ stop: 'Step 2', truncateTo: 11 });
    expect(findStopString('Step 1: a. Step 2', 10, ['Step 2'], true)).toEqual({ stop: 'Step 2', truncateTo: 17 });
    // Text searched before (up to 10 characters) is not searched again.
    expect(findStopString('Step 1: a. Step 2', 10, ['a.'], false)).toBeNull();
  });
});
