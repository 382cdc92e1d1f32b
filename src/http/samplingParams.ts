import type { GenerationDefaults } from './generationConfig.js';
import { pyFloat, validationError } from './serverErrors.js';

/** vLLM's _SAMPLING_EPS: a temperature below it is greedy sampling. */
export const SAMPLING_EPS = 1e-5;
/** vLLM raises a temperature in (0, 0.01) to 0.01 (sampling_params.py, _MAX_TEMP). */
const MIN_RANDOM_TEMPERATURE = 1e-2;

/** The sampling parameters of one request, resolved and validated as vLLM's SamplingParams. */
export interface SamplingParams {
  n: number;
  temperature: number;
  topP: number;
  /** 0 = off (−1 is accepted and means the same). */
  topK: number;
  minP: number;
  repetitionPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  /** null: the server picks one. */
  seed: number | null;
  stop: string[];
  stopTokenIds: number[];
  ignoreEos: boolean;
  maxTokens: number;
  minTokens: number;
  includeStopStrInOutput: boolean;
}

/** The request fields a SamplingParams is built from (the wire names; null or absent = default). */
export interface SamplingFields {
  n: number;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stop_token_ids?: number[] | null;
  ignore_eos: boolean;
  min_tokens: number;
  include_stop_str_in_output: boolean;
}

/** vLLM's neutral values for omitted fields (CompletionRequest._DEFAULT_SAMPLING_PARAMS). */
export const NEUTRAL_SAMPLING = { repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0, temperature: 1, top_p: 1, top_k: 0, min_p: 0 } as const;

/** Whether sampling is greedy (vLLM: temperature < _SAMPLING_EPS). */
export function isGreedy(p: Pick<SamplingParams, 'temperature'>): boolean {
  return p.temperature < SAMPLING_EPS;
}

/**
 * Request fields → vLLM's SamplingParams: each field the request leaves out takes the
 * generation-config default, else vLLM's neutral value; then the checks and messages of
 * SamplingParams.__post_init__ / _verify_args / _verify_greedy_sampling (vllm/sampling_params.py),
 * in their order. `maxTokens` is already capped to the room left in max_model_len; `maxN` is this
 * server's cap on n (vLLM's VLLM_MAX_N_SEQUENCES).
 */
export function resolveSamplingParams(req: SamplingFields, defaults: GenerationDefaults, maxTokens: number, maxN: number): SamplingParams {
  const pick = <K extends keyof typeof NEUTRAL_SAMPLING>(key: K): number => req[key] ?? (defaults as Partial<Record<K, number>>)[key] ?? NEUTRAL_SAMPLING[key];
  let temperature = pick('temperature');
  if (temperature > 0 && temperature < MIN_RANDOM_TEMPERATURE) temperature = MIN_RANDOM_TEMPERATURE;
  const p: SamplingParams = {
    n: req.n,
    temperature,
    topP: pick('top_p'),
    topK: pick('top_k'),
    minP: pick('min_p'),
    repetitionPenalty: pick('repetition_penalty'),
    presencePenalty: pick('presence_penalty'),
    frequencyPenalty: pick('frequency_penalty'),
    seed: req.seed == null || req.seed === -1 ? null : req.seed,
    stop: req.stop == null ? [] : typeof req.stop === 'string' ? [req.stop] : [...req.stop],
    stopTokenIds: [...new Set(req.stop_token_ids ?? [])],
    ignoreEos: req.ignore_eos,
    maxTokens,
    minTokens: req.min_tokens,
    includeStopStrInOutput: req.include_stop_str_in_output,
  };
  if (p.n < 1) throw validationError(`n must be at least 1, got ${p.n}.`);
  if (p.n > maxN) throw validationError(`n must be at most ${maxN}, got ${p.n}.`);
  if (!(p.presencePenalty >= -2 && p.presencePenalty <= 2)) throw validationError(`presence_penalty must be in [-2, 2], got ${pyFloat(p.presencePenalty)}.`);
  if (!(p.frequencyPenalty >= -2 && p.frequencyPenalty <= 2)) throw validationError(`frequency_penalty must be in [-2, 2], got ${pyFloat(p.frequencyPenalty)}.`);
  if (!Number.isFinite(p.repetitionPenalty)) throw validationError(`repetition_penalty must be a finite number, got ${pyFloat(p.repetitionPenalty)}.`);
  if (p.repetitionPenalty <= 0) throw validationError(`repetition_penalty must be greater than zero, got ${pyFloat(p.repetitionPenalty)}.`);
  if (!Number.isFinite(p.temperature)) throw validationError(`temperature must be a finite number, got ${pyFloat(p.temperature)}.`, 'temperature', pyFloat(p.temperature));
  if (p.temperature < 0) throw validationError(`temperature must be non-negative, got ${pyFloat(p.temperature)}.`, 'temperature', pyFloat(p.temperature));
  if (p.temperature > 2) throw validationError(`temperature must be in [0, 2], got ${pyFloat(p.temperature)}.`, 'temperature', pyFloat(p.temperature));
  if (!(p.topP > 0 && p.topP <= 1)) throw validationError(`top_p must be in (0, 1], got ${pyFloat(p.topP)}.`, 'top_p', pyFloat(p.topP));
  if (p.topK < -1) throw validationError(`top_k must be 0 (disable), or at least 1, got ${p.topK}.`);
  if (!(p.minP >= 0 && p.minP <= 1)) throw validationError(`min_p must be in [0, 1], got ${pyFloat(p.minP)}.`);
  if (p.maxTokens < 1) throw validationError(`max_tokens must be at least 1, got ${p.maxTokens}.`, 'max_tokens', p.maxTokens);
  if (p.minTokens < 0) throw validationError(`min_tokens must be greater than or equal to 0, got ${p.minTokens}.`);
  if (p.minTokens > p.maxTokens) throw validationError(`min_tokens must be less than or equal to max_tokens=${p.maxTokens}, got ${p.minTokens}.`);
  if (p.stop.some((s) => s === '')) throw validationError('stop cannot contain an empty string.');
  if (p.topK === -1) p.topK = 0;
  if (isGreedy(p)) {
    // Zero temperature means greedy sampling: the filters cannot change an argmax.
    p.topP = 1;
    p.topK = 0;
    p.minP = 0;
    if (p.n > 1) throw validationError(`n must be 1 when using greedy sampling, got ${p.n}.`);
  }
  return p;
}
