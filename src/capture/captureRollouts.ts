import type { RolloutSummary } from '../core/contracts/rollout.js';
import type { TokenStep } from '../core/contracts/tokenStep.js';
import { RolloutFeatureAccumulator, type RolloutFeatureOptions } from '../core/features/rolloutFeatureAccumulator.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import type { TokenModel } from '../models/tokenModel.js';

export interface CaptureOptions {
  samples: number;
  temperature: number;
  topK: number;
  /** The ancestor's top-K per position (k_cov ≤ this). */
  ancestorTopK: number;
  maxTokens: number;
  seed: number;
  features?: Partial<RolloutFeatureOptions>;
  /** Keep every position's token step (for sidecar traces). Off by default: summaries only. */
  keepSteps?: boolean;
}

export interface CapturedRollout {
  index: number;
  tokens: number[];
  text: string;
  answer: string | null;
  finishReason: 'stop' | 'length';
  summary: RolloutSummary;
  steps?: TokenStep[];
}

/**
 * Samples K rollouts of the specialist in one request, scores each under the ancestor (one
 * prefill per rollout, concurrently) and streams every position into a rollout summary. Without
 * an ancestor the summaries hold the specialist-only signals and null trajectory features.
 */
export async function captureRollouts(
  specialist: TokenModel,
  ancestor: TokenModel | undefined,
  prompt: readonly number[],
  opts: CaptureOptions,
): Promise<CapturedRollout[]> {
  const generations = await specialist.sample(prompt, {
    temperature: opts.temperature,
    seed: opts.seed,
    maxTokens: opts.maxTokens,
    topK: opts.topK,
    n: opts.samples,
  });
  return Promise.all(
    generations.map(async (g, index) => {
      const ancestorTopK: (TopKSlice | undefined)[] = ancestor ? await ancestor.score(prompt, g.tokens, opts.ancestorTopK) : [];
      const acc = new RolloutFeatureAccumulator({ temperature: opts.temperature, ...opts.features });
      const steps: TokenStep[] | undefined = opts.keepSteps ? [] : undefined;
      g.tokens.forEach((token, t) => {
        const s = g.topK[t] ?? { ids: [], logprobs: [] };
        const a = ancestorTopK[t];
        const step = { token, specialist: s, ...(a ? { ancestor: a } : {}) };
        acc.push(step);
        steps?.push({ token, specialist: { ids: Array.from(s.ids), logprobs: Array.from(s.logprobs) }, ...(a ? { ancestor: { ids: Array.from(a.ids), logprobs: Array.from(a.logprobs) } } : {}) });
      });
      return {
        index,
        tokens: g.tokens,
        text: g.text,
        answer: extractAnswer(g.text),
        finishReason: g.finishReason,
        summary: acc.finish(),
        ...(steps ? { steps } : {}),
      };
    }),
  );
}
