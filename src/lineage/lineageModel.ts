import { seededRandom, seedOf } from '../core/random/seededRandom.js';
import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import { sampleIndex } from '../models/sampleToken.js';
import type { ServedModel } from '../models/servedModel.js';
import type { Generation, SampleParams, TokenModel } from '../models/tokenModel.js';
import { BatchedDecode } from './batchedDecode.js';
import type { CharTokenizer } from './charTokenizer.js';
import { ContextLengthError } from './contextLengthError.js';
import { type FullDistribution, topKWith } from './distribution.js';
import { DEFAULT_PREFIX_CACHE_SIZE, PrefixCache } from './prefixCache.js';
import type { Row, Transformer } from './transformer.js';

export interface LineageModelOptions {
  /** Sequence states kept for reuse by `nextTopK`, `score` and `scorePrompt` (LRU), each one KV slot (~0.8 MB). Default 32. */
  prefixCacheSize?: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One model of the embedded lineage, in-process. It is both a `ServedModel` (full
 * distributions and batched decode sessions, for the vLLM-dialect server) and a `TokenModel`
 * (sampling, scoring and step-wise top-K, for the provider, the probe and interventions).
 * Log-probs are raw: log_softmax of the float32 logits at temperature 1, in float64.
 *
 * Sampling follows the server's convention exactly: sample i of n draws every token with
 * `sampleIndex(logprobs, T, rng)` over the canonical full distribution, rng =
 * `seededRandom(seedOf('sample', seed + i))`, so in-process and HTTP sampling give the same
 * tokens, and sample i of n equals a single sample with seed + i.
 */
export class LineageModel implements ServedModel, TokenModel {
  readonly maxModelLen: number;
  readonly eosId: number;
  private readonly prefixes: PrefixCache;
  /** nextTopK calls waiting for the next batch. */
  private readonly waiting: { prefix: number[]; resolve: (dist: FullDistribution) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    /** The served model id, e.g. `arith-specialist`. */
    readonly id: string,
    private readonly net: Transformer,
    private readonly tokenizer: CharTokenizer,
    options: LineageModelOptions = {},
  ) {
    if (tokenizer.size !== net.vocab) throw new RangeError(`${id}: the tokenizer has ${tokenizer.size} tokens, the network ${net.vocab}`);
    this.maxModelLen = net.ctx;
    this.eosId = tokenizer.eosId;
    this.prefixes = new PrefixCache(net, options.prefixCacheSize ?? DEFAULT_PREFIX_CACHE_SIZE);
  }

  /** TokenModel's name: the served id. */
  get name(): string {
    return this.id;
  }

  // ---- ServedModel -------------------------------------------------------------------------

  isToken(id: number): boolean {
    return this.tokenizer.isToken(id);
  }

  encode(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, addSpecialTokens);
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  tokenText(id: number): string {
    return this.tokenizer.tokenText(id);
  }

  /**
   * The distribution after ids[0..p) for p = 1 … ids.length − 1, in one prefill that reuses the
   * longest prefix shared with a recently scored or stepped sequence.
   */
  scorePrompt(ids: readonly number[]): FullDistribution[] {
    this.checkIds(ids, 'prompt');
    if (ids.length > this.maxModelLen) throw new ContextLengthError(this.id, ids.length, 0, this.maxModelLen);
    return ids.length < 2 ? [] : this.prefixes.run(ids.slice(0, -1));
  }

  /** `n` sequences after `prompt`: one prefill, then batched steps with a KV cache. */
  startDecode(prompt: readonly number[], n: number): BatchedDecode {
    this.checkIds(prompt, 'prompt');
    return new BatchedDecode(this.net, this.id, prompt, n);
  }

  // ---- TokenModel --------------------------------------------------------------------------

  async tokenize(text: string): Promise<number[]> {
    return this.tokenizer.encode(text, true);
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    return this.tokenizer.decode(ids);
  }

  /**
   * `n` continuations decoded as one batch; each stops at `<eos>` ('stop', the token included)
   * or after `maxTokens` ('length'). Per position: the raw top-K, plus the sampled token when it
   * ranks below K. Yields to the event loop between steps.
   */
  async sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]> {
    const { temperature, seed, maxTokens, topK } = params;
    const n = params.n ?? 1;
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`${this.id}: n must be a whole number ≥ 0, got ${n}`);
    if (!(Number.isFinite(temperature) && temperature >= 0)) throw new RangeError(`${this.id}: temperature must be a finite number ≥ 0, got ${temperature}`);
    if (!Number.isInteger(seed)) throw new RangeError(`${this.id}: seed must be an integer, got ${seed}`);
    if (!(Number.isInteger(maxTokens) && maxTokens >= 0)) throw new RangeError(`${this.id}: maxTokens must be a whole number ≥ 0, got ${maxTokens}`);
    if (!(Number.isInteger(topK) && topK >= 0)) throw new RangeError(`${this.id}: topK must be a whole number ≥ 0, got ${topK}`);
    this.checkIds(prompt, 'prompt');
    if (prompt.length + maxTokens > this.maxModelLen) throw new ContextLengthError(this.id, prompt.length, maxTokens, this.maxModelLen);
    const generations = Array.from({ length: n }, () => ({ tokens: [] as number[], topK: [] as TopKSlice[], finishReason: 'length' as Generation['finishReason'] }));
    if (maxTokens === 0 || n === 0) return generations.map((g) => ({ ...g, text: '' }));
    const randoms = generations.map((_, i) => seededRandom(seedOf('sample', seed + i)));
    const session = this.startDecode(prompt, n);
    try {
      while (session.active.length > 0) {
        const dists = session.next();
        const running = [...session.active];
        running.forEach((i, j) => {
          const dist = dists[j]!;
          const token = dist.ids[sampleIndex(dist.logprobs, temperature, randoms[i]!)]!;
          const g = generations[i]!;
          g.tokens.push(token);
          g.topK.push(topKWith(dist, topK, token));
          if (token === this.eosId) g.finishReason = 'stop';
          if (token === this.eosId || g.tokens.length >= maxTokens) session.finish(i);
        });
        if (session.active.length === 0) break;
        session.push(session.active.map((i) => generations[i]!.tokens.at(-1)!));
        await yieldToEventLoop();
      }
    } finally {
      session.close();
    }
    return generations.map((g) => ({ ...g, text: this.tokenizer.decode(g.tokens) }));
  }

  /**
   * The top-K at every continuation position (the actual token included), in one prefill that
   * reuses the longest prefix shared with a recently scored or stepped sequence (the K rollouts
   * of a prompt share most of theirs).
   */
  async score(prompt: readonly number[], continuation: readonly number[], topK: number): Promise<TopKSlice[]> {
    this.checkIds(prompt, 'prompt');
    this.checkIds(continuation, 'continuation');
    if (prompt.length === 0) throw new RangeError(`${this.id}: the prompt is empty (it needs at least the <bos> token)`);
    if (prompt.length + continuation.length > this.maxModelLen) {
      throw new ContextLengthError(this.id, prompt.length, continuation.length, this.maxModelLen);
    }
    if (continuation.length === 0) return [];
    const dists = this.prefixes.run([...prompt, ...continuation.slice(0, -1)]).slice(prompt.length - 1);
    return dists.map((dist, t) => topKWith(dist, topK, continuation[t]!));
  }

  /**
   * The top-K after `prefix`, reusing the longest cached prefix state (one incremental forward
   * per new token). Calls made before the event loop turns (concurrent chains, e.g. a probe
   * steering several rollouts at once) run as one batch: one pass over the weights for all.
   */
  nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice> {
    try {
      this.checkPrefix(prefix);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ prefix: [...prefix], resolve: (dist) => resolve(topKWith(dist, topK)), reject });
      if (this.waiting.length === 1) setImmediate(() => this.runWaiting());
    });
  }

  isStop(token: number): boolean {
    return token === this.eosId;
  }

  /** The context window as a TokenModel reports it: prompt + output ≤ 128 positions. */
  async contextWindow(): Promise<number> {
    return this.maxModelLen;
  }

  // ---- direct access -----------------------------------------------------------------------

  /** The full distribution after `prefix` (the sequence-state cache of `nextTopK`), synchronously. */
  nextDistribution(prefix: readonly number[]): FullDistribution {
    this.checkPrefix(prefix);
    return this.prefixes.run(prefix).at(-1)!;
  }

  /** KV-cache slots held right now (decode sessions and cached prefix states): for leak checks. */
  get kvSlotsInUse(): number {
    return this.net.slotsInUse;
  }

  /** Forward calls and token positions run by this model so far (cache effectiveness, benchmarks). */
  get work(): { readonly forwards: number; readonly rows: number } {
    return { ...this.net.work };
  }

  /** Drops the cached sequence states, returning their memory to the slot pool. */
  clearPrefixCache(): void {
    this.prefixes.clear();
  }

  /** The raw float32 logits after `ids` (a full prefill, no cache): for checks against a reference. */
  logitsAfter(ids: readonly number[]): Float32Array {
    this.checkIds(ids, 'ids');
    if (ids.length === 0 || ids.length > this.maxModelLen) throw new ContextLengthError(this.id, ids.length, 0, this.maxModelLen);
    return this.withSlot((slot) => this.net.forward(ids.map((token, position): Row => ({ slot, position, token })), [ids.length - 1]));
  }

  private runWaiting(): void {
    const batch = this.waiting.splice(0);
    try {
      const dists = this.prefixes.runEach(batch.map((w) => w.prefix));
      batch.forEach((w, i) => w.resolve(dists[i]!.at(-1)!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  private checkPrefix(prefix: readonly number[]): void {
    this.checkIds(prefix, 'prefix');
    if (prefix.length === 0) throw new RangeError(`${this.id}: the prefix is empty (it needs at least the <bos> token)`);
    if (prefix.length > this.maxModelLen) throw new ContextLengthError(this.id, prefix.length, 0, this.maxModelLen);
  }

  private withSlot<T>(run: (slot: number) => T): T {
    const slot = this.net.allocateSlot();
    try {
      return run(slot);
    } finally {
      this.net.releaseSlot(slot);
    }
  }

  private checkIds(ids: readonly number[], what: string): void {
    for (let i = 0; i < ids.length; i++) {
      if (!this.tokenizer.isToken(ids[i]!)) {
        throw new RangeError(`${this.id}: ${what}[${i}] = ${ids[i]} is not a token id (0 … ${this.tokenizer.size - 1})`);
      }
    }
  }
}
