import { resolve } from 'node:path';
import pLimit from 'p-limit';
import type { ApiProvider, CallApiContextParams, ProviderResponse } from 'promptfoo';
import { captureRollouts, type CapturedRollout } from '../capture/captureRollouts.js';
import { compareLogprobs, describeLogprobMismatch } from '../capture/logprobConsistency.js';
import { normalizeAnswer } from '../core/blackbox/answerDistribution.js';
import { parseWith } from '../core/contracts/validate.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { seedOf } from '../core/random/seededRandom.js';
import { EndpointHttpError, LogprobModeError, ModelNotServedError, PromptTooLongError, redactUrl } from '../http/endpointErrors.js';
import { OpenAICompatibleModel } from '../http/openAiCompatibleModel.js';
import { redactSecrets } from '../http/redact.js';
import { RetryBudget } from '../http/retryBudget.js';
import { ancestorSpecOf, describeSpec, publicSpec, type SpecialistSpec, TokenModelFactory } from '../models/modelSpec.js';
import type { Generation, RequestStats, TokenModel } from '../models/tokenModel.js';
import { type RolloutProviderConfig, RolloutProviderConfigSchema } from './providerConfig.js';
import { type CachedResponse, RolloutCache } from './rolloutCache.js';
import { METADATA_KEY, type RolloutMetadata } from './rolloutMetadata.js';
import { RolloutSidecar } from './rolloutSidecar.js';
import { repairedResponse } from './repairedResponse.js';
import { type RepairBackend, RowRepairer } from './rowRepairer.js';

type ModelSpec = SpecialistSpec;

/** What the servers report about the two models; part of every cache key. */
type ServedIdentity = Record<'specialist' | 'ancestor', { root: string | null; max_model_len: number | null } | { unavailable: string } | null>;

/** Rows that may try the log-prob check and find it inconclusive before it is given up. */
const LOGPROB_CHECK_TRIES = 3;

/**
 * A promptfoo provider that samples K rollouts per test (concurrently, in one request for
 * token-level backends), scores each under the ancestor, and returns one rollout as `output`
 * with every rollout's text, answer and compact summary under `metadata.recoverability`.
 * Usable as `file://…/rolloutProvider.js` (default export) or
 * `package:promptfoo-recoverability:RolloutProvider`.
 *
 * With endpoints it first checks, once, that the specialist's sampled log-probs are raw (one
 * sampled rollout scored by the specialist itself: other rows wait for the verdict, so a server
 * in processed-log-prob mode costs one row, not the eval); lowers maxTokens to the room
 * max_model_len leaves and top-K to the server's max_logprobs, saying so once on stderr and in
 * each row's notes; draws every retry from one budget; and keeps the API key out of every text
 * it returns.
 */
export class RolloutProvider implements ApiProvider {
  readonly config: RolloutProviderConfig;
  private readonly providerId: string;
  private readonly models: { specialist: TokenModel | null; ancestor: TokenModel | null; blackBox: Promise<ApiProvider> | null };
  /** The ancestor this config means (the embedded pair's own when not given). */
  private readonly ancestorSpec: ReturnType<typeof ancestorSpecOf>;
  private readonly cache: RolloutCache | null;
  private readonly sidecar: RolloutSidecar | null;
  private readonly budget: RetryBudget;
  private served: Promise<ServedIdentity> | null = null;
  private readonly logprobCheck = { done: false, tries: 0, gate: null as Promise<void> | null, release: () => {}, fatal: null as Error | null };
  private readonly said = new Set<string>();
  /** The `repair:` block's repairer (null without one). */
  private readonly repairer: RowRepairer | null;

  constructor(options: { id?: string; label?: string; config?: unknown } = {}) {
    const config = parseWith(RolloutProviderConfigSchema, options.config ?? {}, 'RolloutProvider config');
    const at = (p: string | undefined) => (p === undefined ? undefined : resolve(config.basePath ?? '.', p));
    this.config = { ...config, sidecar: at(config.sidecar), cache: at(config.cache) };
    const cache = this.config.cache ? new RolloutCache(this.config.cache) : null;
    this.cache = cache;
    this.sidecar = this.config.sidecar ? new RolloutSidecar(this.config.sidecar, cache ? () => cache.keys() : null) : null;
    this.providerId = options.id ?? `recoverability:${describe(this.config.specialist)}`;
    this.budget = new RetryBudget(this.config.retryBudget);
    this.ancestorSpec = this.config.specialist.type === 'provider' ? undefined : ancestorSpecOf(this.config.specialist, this.config.ancestor);
    this.models = buildModels(this.config, this.budget);
    this.repairer = this.config.repair
      ? new RowRepairer(this.config.repair, { tokenLevel: !this.models.blackBox, ancestor: this.models.ancestor !== null, basePath: this.config.basePath })
      : null;
  }

  id(): string {
    return this.providerId;
  }

  toString(): string {
    return `[RolloutProvider ${this.providerId}]`;
  }

  async callApi(rendered: string, context?: CallApiContextParams): Promise<ProviderResponse> {
    const started = Date.now();
    const repeat = context?.repeatIndex ?? 0;
    try {
      const prompt = this.promptOf(rendered, context);
      const seed = seedOf('rollouts', this.config.seed, prompt, repeat);
      const cacheKey = RolloutCache.key({ identity: cacheIdentity(this.config), served: await this.servedIdentity(), cacheKey: this.config.cacheKey ?? null, prompt, repeat });
      const hit = await this.cache?.get(cacheKey);
      this.reportFileRepairs();
      if (hit) {
        const total = hit.tokenUsage?.total ?? 0;
        if (!this.repairer) return { output: hit.output, metadata: hit.metadata, cached: true, cost: 0, tokenUsage: { cached: total, total, numRequests: 0 }, latencyMs: Date.now() - started };
        return { ...(await this.withRepair(hit, cacheKey, context, false)), latencyMs: Date.now() - started };
      }
      const result = this.models.blackBox ? await this.blackBoxRollouts(prompt, context) : await this.tokenRollouts(prompt, seed);
      const { rollouts, tokenUsage, cost } = result;
      const errors = result.errors.map((e) => ({ ...e, message: redactSecrets(e.message) }));
      if (rollouts.length === 0) {
        return { error: `RolloutProvider: no rollout could be obtained: ${errors.map((e) => e.message).join('; ')}`, tokenUsage, cost, latencyMs: Date.now() - started };
      }
      const chosen = this.config.output === 'majority' ? majorityRollout(rollouts) : rollouts[0]!;
      const metadata: RolloutMetadata = {
        version: 1,
        specialist: describe(this.config.specialist),
        ancestor: this.models.ancestor?.name ?? null,
        models: { specialist: publicSpec(this.config.specialist), ancestor: this.ancestorSpec ? publicSpec(this.ancestorSpec) : null },
        prompt,
        row_key: cacheKey,
        samples: this.config.samples,
        temperature: this.config.temperature,
        seed,
        capabilities: { logprobs: !this.models.blackBox, ancestor: this.models.ancestor !== null },
        unavailable: result.unavailable.map(redactSecrets),
        notes: result.notes.map(redactSecrets),
        retries: result.retries,
        rollouts: rollouts.map((r) => ({
          index: r.index,
          text: r.text,
          answer: r.answer,
          finish_reason: r.finishReason,
          tokens: r.tokens.length,
          summary: r.summary,
        })),
        ancestor_rollouts: result.ancestorRollouts?.map((r) => ({ index: r.index, text: r.text, answer: r.answer, finish_reason: r.finishReason })) ?? null,
        errors,
        sidecar: this.config.sidecar ?? null,
        cache: this.config.cache ?? null,
        base_path: this.config.basePath ?? null,
      };
      if (this.sidecar) {
        await this.sidecar.append(cacheKey, sidecarLines(prompt, repeat, seed, rollouts));
        const removed = this.sidecar.removedLines;
        if (removed > 0) this.sayOnce('sidecar', `sidecar ${this.sidecar.path}: removed ${removed} line${removed === 1 ? '' : 's'} of rows an interrupted run traced but never cached; those rows are traced again as they are sampled`);
      }
      const response = { output: chosen.text, metadata: { [METADATA_KEY]: metadata }, tokenUsage, cost };
      // The cache also keeps the token ids (not promptfoo's database): the probe replays prefixes.
      const entry: CachedResponse = { ...response, tokens: { prompt: result.promptIds, rollouts: rollouts.map((r) => r.tokens) } };
      if (this.repairer) return { ...(await this.withRepair(entry, cacheKey, context, true)), latencyMs: Date.now() - started };
      await this.cache?.put(cacheKey, entry);
      return { ...response, latencyMs: Date.now() - started };
    } catch (err) {
      const e = err as Error;
      return { error: `RolloutProvider: ${e.name}: ${redactSecrets(e.message)}`, latencyMs: Date.now() - started, metadata: { rateLimitKind: rateLimitKind(e) } };
    }
  }

  /** The row with its repair (config `repair`; see repairedResponse). */
  private withRepair(entry: CachedResponse, cacheKey: string, context: CallApiContextParams | undefined, fresh: boolean): Promise<ProviderResponse> {
    return repairedResponse({
      repairer: this.repairer!,
      entry,
      cacheKey,
      cache: this.cache,
      vars: (context?.vars ?? context?.test?.vars ?? {}) as Record<string, unknown>,
      fresh,
      models: () => this.repairBackend(entry, context),
      say: (key, message) => this.sayOnce(key, message),
    });
  }

  /** The models a row's repair runs on: this provider's own (black-box: fresh calls of the wrapped provider, retry only). */
  private async repairBackend(entry: CachedResponse, context: CallApiContextParams | undefined): Promise<RepairBackend> {
    const meta = entry.metadata[METADATA_KEY] as RolloutMetadata;
    if (this.models.blackBox) {
      const inner = await this.models.blackBox;
      return {
        kind: 'black_box',
        sample: async (attempt, meter) => {
          // Repeat indices past the K rollouts' own, so a caching provider does not answer with a rollout.
          const ctx = context ? { ...context, bustCache: true, repeatIndex: this.config.samples + attempt } : undefined;
          const res = await inner.callApi(meta.prompt ?? '', ctx as CallApiContextParams);
          meter.requests += res.tokenUsage?.numRequests ?? 1;
          meter.promptTokens += res.tokenUsage?.prompt ?? 0;
          meter.generatedTokens += res.tokenUsage?.completion ?? 0;
          if (res.error || res.output === undefined || res.output === null) throw new Error(redactSecrets(res.error ?? 'the provider returned no output'));
          return typeof res.output === 'string' ? res.output : JSON.stringify(res.output);
        },
      };
    }
    const prompt = entry.tokens?.prompt ?? null;
    const maxTokens = prompt ? await this.roomFor(prompt.length, []) : this.config.maxTokens;
    return {
      kind: 'token',
      specialist: this.models.specialist!,
      ancestor: this.models.ancestor,
      tokens: prompt && entry.tokens ? { prompt, rollouts: entry.tokens.rollouts } : null,
      temperature: this.config.temperature,
      topK: this.config.topK,
      maxTokens,
    };
  }

  /** The text sent: the rendered prompt, or the raw test var `promptVar`, then `promptSuffix`. */
  private promptOf(rendered: string, context: CallApiContextParams | undefined): string {
    const { promptVar, promptSuffix } = this.config;
    if (promptVar === undefined) return rendered + promptSuffix;
    const vars = (context?.test?.vars ?? {}) as Record<string, unknown>;
    const raw = vars[promptVar];
    if (typeof raw !== 'string') {
      const names = Object.keys(vars).filter((k) => !k.startsWith('__'));
      throw new Error(`promptVar is "${promptVar}", but this test has no string var of that name (its vars: ${names.join(', ') || 'none'}); name one of them, or remove promptVar to send the rendered prompt`);
    }
    return raw + promptSuffix;
  }

  /**
   * What the endpoints report about their models (GET /v1/models, once): a model swapped behind
   * the same URL and name changes every cache key. An unreachable ancestor is recorded as such
   * (its scoring degrades the same way); an unreachable specialist fails the row.
   */
  private servedIdentity(): Promise<ServedIdentity> {
    const info = async (model: TokenModel | null, role: 'specialist' | 'ancestor') => {
      if (!(model instanceof OpenAICompatibleModel)) return null;
      try {
        const s = await model.servedModel();
        return { root: s.root, max_model_len: s.maxModelLen };
      } catch (err) {
        if (role === 'specialist' || err instanceof ModelNotServedError) throw err;
        return { unavailable: (err as Error).name };
      }
    };
    if (!this.served) {
      const served = (async () => {
        const [specialist, ancestor] = await Promise.all([info(this.models.specialist, 'specialist'), info(this.models.ancestor, 'ancestor')]);
        return { specialist, ancestor };
      })();
      served.catch(() => (this.served = null)); // the next row asks again
      this.served = served;
    }
    return this.served;
  }

  /** Says once what the cache and sidecar repaired when they were first read. */
  private reportFileRepairs(): void {
    const corrupt = this.cache?.corrupt;
    if (corrupt) {
      this.sayOnce(
        `cache:${this.cache!.path}`,
        `rollout cache ${this.cache!.path}: skipped ${corrupt.count} unreadable line${corrupt.count === 1 ? '' : 's'} (the first is line ${corrupt.firstLine}); those rows are sampled again`,
      );
    }
  }

  private sayOnce(key: string, message: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    process.stderr.write(`recoverability: ${redactSecrets(message)}\n`);
  }

  /**
   * Token-level rollouts. Until the specialist's log-probs have been checked (endpoints only),
   * one row at a time samples and checks; the others wait, and after a failed check they fail
   * with the same error without sampling.
   */
  private async tokenRollouts(prompt: string, seed: number) {
    const check = this.logprobCheck;
    const needsCheck = this.config.specialist.type === 'endpoint';
    for (;;) {
      if (check.fatal) throw check.fatal;
      if (!needsCheck || check.done) return this.capture(prompt, seed, false);
      if (check.gate) {
        await check.gate;
        continue;
      }
      check.gate = new Promise<void>((r) => (check.release = r));
      try {
        return await this.capture(prompt, seed, true);
      } finally {
        check.gate = null;
        check.release();
      }
    }
  }

  private async capture(prompt: string, seed: number, checkLogprobs: boolean) {
    const specialist = this.models.specialist!;
    const ancestor = this.models.ancestor ?? undefined;
    const stats: RequestStats = { requests: 0, retries: 0 };
    const notes: string[] = [];
    const ids = await specialist.tokenize(prompt);
    const maxTokens = await this.roomFor(ids.length, notes);
    const rollouts = await captureRollouts(specialist, ancestor, ids, {
      samples: this.config.samples,
      temperature: this.config.temperature,
      topK: this.config.topK,
      ancestorTopK: this.config.ancestorTopK,
      maxTokens,
      seed,
      keepSteps: this.config.sidecar !== undefined,
      degrade: this.config.degradeOnAncestorError,
      stats,
      ...(checkLogprobs ? { onSampled: (gens: readonly Generation[]) => this.checkLogprobs(ids, gens, stats) } : {}),
    });
    const ancestorRollouts = ancestor && this.config.ancestorSamples > 0 ? await this.ancestorRollouts(ancestor, ids, seed, maxTokens, stats) : null;
    for (const notice of [...(specialist.notices?.() ?? []), ...(ancestor?.notices?.() ?? [])]) {
      notes.push(notice);
      this.sayOnce(`notice:${notice}`, notice);
    }
    const unavailable = [...new Set(rollouts.flatMap((r) => (r.issue ? [r.issue] : [])))];
    if (!ancestor) unavailable.push('trajectory features (spread, concentration, logit dispersion): no ancestor configured; specialist-only signals are reported');
    const completion = rollouts.reduce((s, r) => s + r.tokens.length, 0) + (ancestorRollouts?.reduce((s, r) => s + r.tokens.length, 0) ?? 0);
    const ancestorPrompt = (ancestor ? rollouts.reduce((s, r) => s + ids.length + r.tokens.length, 0) : 0) + (ancestorRollouts ? ids.length : 0);
    const tokenUsage = {
      prompt: ids.length + ancestorPrompt,
      completion,
      total: ids.length + ancestorPrompt + completion,
      numRequests: 1 + (ancestor ? rollouts.length : 0) + (ancestorRollouts ? 1 : 0),
    };
    return { rollouts, ancestorRollouts, promptIds: ids, unavailable, notes, retries: stats.retries, errors: [] as RolloutMetadata['errors'], tokenUsage, cost: 0 };
  }

  /**
   * The ancestor's own samples on the prompt (`ancestorSamples`, same temperature and room): the
   * assertion grades them into the ancestor's pass rate. A failure here loses no specialist
   * rollout: the signal is left out, and the row says why.
   */
  private async ancestorRollouts(ancestor: TokenModel, ids: readonly number[], seed: number, maxTokens: number, stats: RequestStats) {
    try {
      const gens = await ancestor.sample(ids, { n: this.config.ancestorSamples, temperature: this.config.temperature, seed: seedOf('ancestor-samples', seed), maxTokens, topK: 1, stats });
      return gens.map((g, index) => ({ index, tokens: g.tokens, text: g.text, answer: extractAnswer(g.text), finishReason: g.finishReason }));
    } catch (err) {
      this.sayOnce(`ancestor-samples:${(err as Error).name}`, `sampling the ancestor on the prompt failed (${(err as Error).name}: ${(err as Error).message}); the ancestor's pass rate is left out of those rows`);
      return null;
    }
  }

  /**
   * maxTokens, lowered to what max_model_len leaves: prompt + output + 1 ≤ max_model_len for the
   * specialist and the ancestor (whose scoring prefill of prompt + output asks for one more token).
   */
  private async roomFor(promptTokens: number, notes: string[]): Promise<number> {
    const { maxTokens } = this.config;
    const lens = await Promise.all([this.models.specialist?.contextWindow?.(), this.models.ancestor?.contextWindow?.()]);
    const known = lens.filter((l): l is number => typeof l === 'number');
    if (known.length === 0) return maxTokens;
    const limit = Math.min(...known);
    const room = limit - promptTokens - 1;
    const where = this.config.specialist.type === 'endpoint' ? redactUrl(this.config.specialist.baseUrl) : describe(this.config.specialist);
    if (room < 1) {
      throw new PromptTooLongError(`the prompt has ${promptTokens} tokens and max_model_len is ${limit}: no room for output (prompt + output + 1 ≤ max_model_len, so the ancestor can score the rollout)`, where, 1);
    }
    if (room >= maxTokens) return maxTokens;
    notes.push(`maxTokens ${maxTokens} lowered to ${room}: the prompt has ${promptTokens} tokens and max_model_len is ${limit} (prompt + output + 1 ≤ max_model_len, so the ancestor can score the rollout)`);
    this.sayOnce(
      'maxTokens',
      `maxTokens ${maxTokens} does not fit max_model_len ${limit} after some prompts: lowered per row to the room left (first: ${room} for a ${promptTokens}-token prompt); each such row says so in its metadata notes`,
    );
    return room;
  }

  /**
   * Scores the longest sampled rollout under the specialist itself and compares the log-probs
   * (compareLogprobs). Raw: done. Not raw: a LogprobModeError for this row and every later one.
   * Inconclusive (too short, or the scoring failed): this row goes on, and the next row tries,
   * up to LOGPROB_CHECK_TRIES rows.
   */
  private async checkLogprobs(prompt: readonly number[], generations: readonly Generation[], stats: RequestStats): Promise<void> {
    const check = this.logprobCheck;
    const specialist = this.models.specialist!;
    const longest = generations.reduce((a, b) => (b.tokens.length > a.tokens.length ? b : a), generations[0]!);
    const giveUp = (why: string) => {
      if (++check.tries < LOGPROB_CHECK_TRIES) return;
      check.done = true;
      this.sayOnce('logprob-check', `could not check that the specialist's sampled log-probs are raw (${why}); features assume they are`);
    };
    if (!longest || longest.tokens.length < 2) return giveUp('the sampled rollouts were shorter than 2 tokens');
    let scored;
    try {
      scored = await specialist.score(prompt, longest.tokens, this.config.topK, stats);
    } catch (err) {
      return giveUp(`scoring a rollout with the specialist failed: ${(err as Error).name}: ${(err as Error).message}`);
    }
    const result = compareLogprobs(longest.topK, longest.tokens, scored, this.config.temperature);
    if (result.verdict === 'raw') {
      check.done = true;
      check.release(); // the waiting rows need not wait for this row's ancestor scoring
      return;
    }
    if (result.verdict === 'inconclusive') return giveUp('too few comparable positions');
    const spec = this.config.specialist as Extract<ModelSpec, { type: 'endpoint' }>;
    const where = redactUrl(spec.baseUrl);
    check.fatal = new LogprobModeError(describeLogprobMismatch(result, this.config.temperature, `${where} (model ${spec.model})`), where, 1);
    this.sayOnce('logprob-check', check.fatal.message);
    check.release();
    throw check.fatal;
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
    return { rollouts, ancestorRollouts: null, promptIds: null, unavailable, notes: [] as string[], retries: 0, errors, tokenUsage, cost };
  }
}

export default RolloutProvider;

function sidecarLines(prompt: string, repeat: number, seed: number, rollouts: CapturedRollout[]): Record<string, unknown>[] {
  const promptKey = seedOf('prompt', prompt) >>> 0;
  return rollouts.map((r) => ({ prompt_key: promptKey, repeat, seed, index: r.index, text: r.text, tokens: r.tokens, steps: r.steps ?? null }));
}

/**
 * The config fields that decide a row's rollouts (the cache key's part from the config): not
 * paths, retry and timeout settings, concurrency, headers or the key's variable.
 */
function cacheIdentity(config: RolloutProviderConfig) {
  const model = (m: ModelSpec | undefined) => {
    if (m?.type !== 'endpoint') return m ?? null;
    return { type: m.type, baseUrl: m.baseUrl, model: m.model, stopTokenIds: m.stopTokenIds };
  };
  const { specialist, ancestor, samples, temperature, topK, ancestorTopK, maxTokens, seed, output, degradeOnAncestorError } = config;
  return { specialist: model(specialist), ancestor: model(ancestor), samples, temperature, topK, ancestorTopK, maxTokens, seed, output, degradeOnAncestorError };
}

function describe(spec: ModelSpec): string {
  return describeSpec(spec, 'specialist');
}

function buildModels(config: RolloutProviderConfig, budget: RetryBudget) {
  const spec = config.specialist;
  if (spec.type === 'provider') {
    if (config.ancestor) throw new Error('RolloutProvider config: "ancestor" needs a token-level specialist (lineage, sim or endpoint); a black-box provider cannot be scored token by token');
    const blackBox = import('promptfoo').then((pf) => pf.loadApiProvider(spec.id, { options: { config: spec.config } }));
    blackBox.catch(() => {}); // surfaced on first call
    return { specialist: null, ancestor: null, blackBox };
  }
  const factory = new TokenModelFactory({ budget, ...(config.basePath ? { basePath: config.basePath } : {}) });
  const ancestorSpec = ancestorSpecOf(spec, config.ancestor);
  return { specialist: factory.build(spec, 'specialist'), ancestor: ancestorSpec ? factory.build(ancestorSpec, 'ancestor') : null, blackBox: null };
}

/**
 * What promptfoo's scheduler should make of a row error. promptfoo 0.121 calls any error whose
 * text contains "429" or "rate limit" a rate limit and retries it as one — an endpoint on port
 * 34291 that timed out included. We know better: an HTTP 429 our client gave up on is a rate limit
 * (promptfoo's scheduler then backs off, as it should); anything else is not, and 'quota' is the
 * only value promptfoo reads as "not a rate limit, do not retry" (our client already retried).
 */
function rateLimitKind(err: Error): 'rate_limit' | 'quota' {
  return err instanceof EndpointHttpError && err.status === 429 ? 'rate_limit' : 'quota';
}

/** The first rollout whose normalized answer is the most common one. */
function majorityRollout(rollouts: CapturedRollout[]): CapturedRollout {
  const counts = new Map<string, number>();
  for (const r of rollouts) counts.set(normalizeAnswer(r.answer), (counts.get(normalizeAnswer(r.answer)) ?? 0) + 1);
  const top = Math.max(...counts.values());
  return rollouts.find((r) => counts.get(normalizeAnswer(r.answer)) === top)!;
}
