import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import type { ApiProvider, CallApiContextParams, ProviderResponse } from 'promptfoo';
import { captureRollouts, type CapturedRollout } from '../capture/captureRollouts.js';
import { normalizeAnswer } from '../core/blackbox/answerDistribution.js';
import { parseWith } from '../core/contracts/validate.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { OpenAICompatibleModel } from '../http/openAiCompatibleModel.js';
import { seedOf } from '../core/random/seededRandom.js';
import type { TokenModel } from '../models/tokenModel.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import type { Mix } from '../simulator/mechanisms.js';
import { type RolloutProviderConfig, RolloutProviderConfigSchema } from './providerConfig.js';
import { RolloutCache } from './rolloutCache.js';
import { METADATA_KEY, type RolloutMetadata } from './rolloutMetadata.js';

type ModelSpec = RolloutProviderConfig['specialist'];

/**
 * A promptfoo provider that samples K rollouts per test (concurrently, in one request for
 * token-level backends), scores each under the ancestor, and returns one rollout as `output`
 * with every rollout's text, answer and compact summary under `metadata.recoverability`.
 * Usable as `file://…/rolloutProvider.js` (default export) or
 * `package:promptfoo-recoverability:RolloutProvider`.
 */
export class RolloutProvider implements ApiProvider {
  readonly config: RolloutProviderConfig;
  private readonly providerId: string;
  private readonly models: { specialist: TokenModel | null; ancestor: TokenModel | null; blackBox: Promise<ApiProvider> | null };
  private sidecarWrites: Promise<void> = Promise.resolve();
  private readonly cache: RolloutCache | null;

  constructor(options: { id?: string; label?: string; config?: unknown } = {}) {
    const config = parseWith(RolloutProviderConfigSchema, options.config ?? {}, 'RolloutProvider config');
    const at = (p: string | undefined) => (p === undefined ? undefined : resolve(config.basePath ?? '.', p));
    this.config = { ...config, sidecar: at(config.sidecar), cache: at(config.cache) };
    this.cache = this.config.cache ? new RolloutCache(this.config.cache) : null;
    this.providerId = options.id ?? `recoverability:${describe(this.config.specialist)}`;
    this.models = buildModels(this.config);
  }

  id(): string {
    return this.providerId;
  }

  toString(): string {
    return `[RolloutProvider ${this.providerId}]`;
  }

  async callApi(prompt: string, context?: CallApiContextParams): Promise<ProviderResponse> {
    const started = Date.now();
    const repeat = context?.repeatIndex ?? 0;
    const seed = seedOf('rollouts', this.config.seed, prompt, repeat);
    const { basePath: _b, sidecar: _s, cache: _c, ...identity } = this.config;
    const cacheKey = RolloutCache.key({ identity, prompt, repeat });
    const hit = await this.cache?.get(cacheKey);
    if (hit) {
      const total = hit.tokenUsage?.total ?? 0;
      return { output: hit.output, metadata: hit.metadata, cached: true, cost: 0, tokenUsage: { cached: total, total, numRequests: 0 }, latencyMs: Date.now() - started };
    }
    try {
      const result = this.models.blackBox ? await this.blackBoxRollouts(prompt, context) : await this.tokenRollouts(prompt, seed);
      const { rollouts, unavailable, errors, tokenUsage, cost } = result;
      if (rollouts.length === 0) {
        return { error: `RolloutProvider: no rollout could be obtained: ${errors.map((e) => e.message).join('; ')}`, tokenUsage, cost, latencyMs: Date.now() - started };
      }
      const chosen = this.config.output === 'majority' ? majorityRollout(rollouts) : rollouts[0]!;
      const metadata: RolloutMetadata = {
        version: 1,
        specialist: describe(this.config.specialist),
        ancestor: this.models.ancestor?.name ?? null,
        samples: this.config.samples,
        temperature: this.config.temperature,
        seed,
        capabilities: { logprobs: !this.models.blackBox, ancestor: this.models.ancestor !== null },
        unavailable,
        rollouts: rollouts.map((r) => ({ index: r.index, text: r.text, answer: r.answer, finish_reason: r.finishReason, tokens: r.tokens.length, summary: r.summary })),
        errors,
        sidecar: this.config.sidecar ?? null,
        base_path: this.config.basePath ?? null,
      };
      if (this.config.sidecar) await this.writeSidecar(prompt, repeat, seed, rollouts);
      const response = { output: chosen.text, metadata: { [METADATA_KEY]: metadata }, tokenUsage, cost };
      await this.cache?.put(cacheKey, response);
      return { ...response, latencyMs: Date.now() - started };
    } catch (err) {
      const e = err as Error;
      return { error: `RolloutProvider: ${e.name}: ${e.message}`, latencyMs: Date.now() - started };
    }
  }

  private async tokenRollouts(prompt: string, seed: number) {
    const specialist = this.models.specialist!;
    const ancestor = this.models.ancestor ?? undefined;
    const ids = await specialist.tokenize(prompt);
    const rollouts = await captureRollouts(specialist, ancestor, ids, {
      samples: this.config.samples,
      temperature: this.config.temperature,
      topK: this.config.topK,
      ancestorTopK: this.config.ancestorTopK,
      maxTokens: this.config.maxTokens,
      seed,
      keepSteps: this.config.sidecar !== undefined,
      degrade: this.config.degradeOnAncestorError,
    });
    const unavailable = [...new Set(rollouts.flatMap((r) => (r.issue ? [r.issue] : [])))];
    if (!ancestor) unavailable.push('trajectory features (spread, concentration, logit dispersion): no ancestor configured; specialist-only signals are reported');
    const completion = rollouts.reduce((s, r) => s + r.tokens.length, 0);
    const ancestorPrompt = ancestor ? rollouts.reduce((s, r) => s + ids.length + r.tokens.length, 0) : 0;
    const tokenUsage = {
      prompt: ids.length + ancestorPrompt,
      completion,
      total: ids.length + ancestorPrompt + completion,
      numRequests: 1 + (ancestor ? rollouts.length : 0),
    };
    return { rollouts, unavailable, errors: [] as RolloutMetadata['errors'], tokenUsage, cost: 0 };
  }

  private async blackBoxRollouts(prompt: string, context: CallApiContextParams | undefined) {
    const inner = await this.models.blackBox!;
    const limit = pLimit(this.config.concurrency);
    const results = await Promise.all(
      Array.from({ length: this.config.samples }, (_, index) =>
        limit(async () => {
          try {
            const ctx = context ? { ...context, bustCache: true, repeatIndex: index } : undefined;
            return { index, res: await inner.callApi(prompt, ctx as CallApiContextParams) };
          } catch (err) {
            return { index, res: { error: (err as Error).message } as ProviderResponse };
          }
        }),
      ),
    );
    const rollouts: CapturedRollout[] = [];
    const errors: RolloutMetadata['errors'] = [];
    let cost = 0;
    const tokenUsage = { prompt: 0, completion: 0, total: 0, numRequests: 0 };
    for (const { index, res } of results) {
      cost += res.cost ?? 0;
      tokenUsage.prompt += res.tokenUsage?.prompt ?? 0;
      tokenUsage.completion += res.tokenUsage?.completion ?? 0;
      tokenUsage.total += res.tokenUsage?.total ?? 0;
      tokenUsage.numRequests += res.tokenUsage?.numRequests ?? 1;
      if (res.error || res.output === undefined || res.output === null) {
        errors.push({ index, message: res.error ?? 'the provider returned no output' });
        continue;
      }
      const text = typeof res.output === 'string' ? res.output : JSON.stringify(res.output);
      rollouts.push({ index, tokens: [], text, answer: extractAnswer(text), finishReason: 'stop', summary: null });
    }
    const unavailable = [
      `token-level signals: ${this.config.specialist.type === 'provider' ? this.config.specialist.id : 'the provider'} is black-box (no top-K log-probs); only pass@k and the answer distribution are reported`,
    ];
    if (errors.length > 0) unavailable.push(`${errors.length} of ${this.config.samples} rollouts failed and are listed under errors`);
    return { rollouts, unavailable, errors, tokenUsage, cost };
  }

  private writeSidecar(prompt: string, repeat: number, seed: number, rollouts: CapturedRollout[]): Promise<void> {
    const path = this.config.sidecar!;
    const lines = rollouts.map((r) => JSON.stringify({ prompt_key: seedOf('prompt', prompt) >>> 0, repeat, seed, index: r.index, text: r.text, tokens: r.tokens, steps: r.steps ?? null })).join('\n') + '\n';
    this.sidecarWrites = this.sidecarWrites.then(() => appendFile(path, lines));
    return this.sidecarWrites;
  }
}

export default RolloutProvider;

function describe(spec: ModelSpec): string {
  switch (spec.type) {
    case 'sim':
      return `sim-specialist(seed=${spec.seed})`;
    case 'endpoint':
      return spec.model;
    case 'provider':
      return spec.id;
  }
}

function buildModels(config: RolloutProviderConfig) {
  const spec = config.specialist;
  if (spec.type === 'provider') {
    if (config.ancestor) throw new Error('RolloutProvider config: "ancestor" needs a token-level specialist (type sim or endpoint); a black-box provider cannot be scored token by token');
    const blackBox = import('promptfoo').then((pf) => pf.loadApiProvider(spec.id, { options: { config: spec.config } }));
    blackBox.catch(() => {}); // surfaced on first call
    return { specialist: null, ancestor: null, blackBox };
  }
  const sims = new Map<string, LineageSimulator>();
  const sim = (s: { seed: number; mix?: Mix | undefined }) => {
    const key = JSON.stringify(s);
    if (!sims.has(key)) sims.set(key, new LineageSimulator({ seed: s.seed, ...(s.mix ? { mix: s.mix } : {}) }));
    return sims.get(key)!;
  };
  const model = (m: Exclude<ModelSpec, { type: 'provider' }>, role: 'specialist' | 'ancestor'): TokenModel => {
    if (m.type === 'sim') return sim(m)[role];
    const { type: _t, ...endpoint } = m;
    return new OpenAICompatibleModel(endpoint);
  };
  const specialist = model(spec, 'specialist');
  // With the simulator as specialist, its own ancestor is the default lineage partner.
  const ancestorSpec = config.ancestor ?? (spec.type === 'sim' ? spec : undefined);
  const ancestor = ancestorSpec ? model(ancestorSpec, 'ancestor') : null;
  return { specialist, ancestor, blackBox: null };
}

/** The first rollout whose normalized answer is the most common one. */
function majorityRollout(rollouts: CapturedRollout[]): CapturedRollout {
  const counts = new Map<string, number>();
  for (const r of rollouts) counts.set(normalizeAnswer(r.answer), (counts.get(normalizeAnswer(r.answer)) ?? 0) + 1);
  const top = Math.max(...counts.values());
  return rollouts.find((r) => counts.get(normalizeAnswer(r.answer)) === top)!;
}
