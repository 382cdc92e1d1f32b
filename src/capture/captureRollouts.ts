import type { RolloutSummary } from '../core/contracts/rollout.js';
import type { TokenStep } from '../core/contracts/tokenStep.js';
import { RolloutFeatureAccumulator, type RolloutFeatureOptions } from '../core/features/rolloutFeatureAccumulator.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import type { Generation, RequestStats, TokenModel } from '../models/tokenModel.js';

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
  /**
   * Keep rollouts whose ancestor scoring failed or whose log-probs are invalid (NaN …), with the
   * signals that remain and the reason in `issue`, instead of failing the whole capture.
   */
  degrade?: boolean;
  /** Where HTTP backends count this capture's requests and retries. */
  stats?: RequestStats;
  /**
   * Called with the sampled generations before any is scored; a throw ends the capture (used to
   * check the server's log-probs before more is spent).
   */
  onSampled?: (generations: readonly Generation[]) => Promise<void>;
}

export interface CapturedRollout {
  index: number;
  tokens: number[];
  text: string;
  answer: string | null;
  finishReason: 'stop' | 'length';
  /** Null when its log-probs were unusable (see `issue`). */
  summary: RolloutSummary | null;
  steps?: TokenStep[];
  /** Why some of its signals are missing, when they are. */
  issue?: string;
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
    ...(opts.stats ? { stats: opts.stats } : {}),
  });
  await opts.onSampled?.(generations);
  return Promise.all(
    generations.map(async (g, index) => {
      let issue: string | undefined;
      let ancestorTopK: (TopKSlice | undefined)[] = [];
      if (ancestor) {
        try {
          ancestorTopK = await ancestor.score(prompt, g.tokens, opts.ancestorTopK, opts.stats);
        } catch (err) {
          if (!opts.degrade) throw err;
          issue = `ancestor scoring failed (${(err as Error).name}: ${(err as Error).message}); trajectory features unavailable for this rollout`;
        }
      }
      const build = (withAncestor: boolean) => {
        const acc = new RolloutFeatureAccumulator({ temperature: opts.temperature, ...opts.features });
        const steps: TokenStep[] | undefined = opts.keepSteps ? [] : undefined;
        g.tokens.forEach((token, t) => {
          const s = g.topK[t] ?? { ids: [], logprobs: [] };
          const a = withAncestor ? ancestorTopK[t] : undefined;
          acc.push({ token, specialist: s, ancestor: a });
          steps?.push({ token, specialist: { ids: Array.from(s.ids), logprobs: Array.from(s.logprobs) }, ...(a ? { ancestor: { ids: Array.from(a.ids), logprobs: Array.from(a.logprobs) } } : {}) });
        });
        return { summary: acc.finish(), steps };
      };
      let built: { summary: RolloutSummary | null; steps?: TokenStep[] | undefined };
      try {
        built = build(true);
      } catch (err) {
        if (!opts.degrade) throw err;
        issue = `log-probs unusable (${(err as Error).message}); features unavailable for this rollout`;
        built = { summary: null };
      }
      return {
        index,
        tokens: g.tokens,
        text: g.text,
        answer: extractAnswer(g.text),
        finishReason: g.finishReason,
        summary: built.summary,
        ...(built.steps ? { steps: built.steps } : {}),
        ...(issue ? { issue } : {}),
      };
    }),
  );
}
