import { type FullDistribution, logSoftmaxRows } from './distribution.js';
import type { Row, Transformer } from './transformer.js';

/** A cached sequence: its keys and values (all positions) in `slot`, and dists[j], the distribution after tokens[0..j]. */
interface Entry {
  tokens: number[];
  slot: number;
  dists: FullDistribution[];
}

/** How many sequence states each model keeps by default (each holds one KV slot, ~0.8 MB). */
export const DEFAULT_PREFIX_CACHE_SIZE = 32;

/**
 * Next-token distributions at every position of token sequences, with a small LRU of sequence
 * states (keys, values and the distributions at each position). A query reuses the cached
 * sequence sharing its longest common prefix: positions before the first difference are copied
 * (they depend on nothing after them), only the rest runs. So
 * - decoding one token at a time (steering two models step by step) costs one incremental
 *   forward per step, not a re-prefill, and branching at a junction is as cheap as extending;
 * - scoring the K rollouts of one prompt runs each shared prefix once (on the arith lineage's
 *   root suite, 12 rollouts per prompt share ~88% of their positions).
 * Reused positions are bit-identical to recomputed ones. Queries asked together run as one
 * batch (one pass over the weights); c chains stepping together need 2c states.
 */
export class PrefixCache {
  /** Most recently used last. */
  private readonly entries: Entry[] = [];

  constructor(
    private readonly net: Transformer,
    readonly capacity = DEFAULT_PREFIX_CACHE_SIZE,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`the prefix cache needs room for at least 2 states (a prefix and its extension), got ${capacity}`);
  }

  /** The distributions after tokens[0..j] for every j (tokens non-empty, at most ctx, ids checked). */
  run(tokens: readonly number[]): FullDistribution[] {
    return this.runEach([tokens])[0]!;
  }

  /** `run` for several sequences, the positions not cached computed in one batched forward. */
  runEach(sequences: readonly (readonly number[])[]): FullDistribution[][] {
    const out: FullDistribution[][] = new Array(sequences.length);
    const plans: { at: number[]; tokens: readonly number[]; source: Entry | undefined; shared: number; slot: number }[] = [];
    const planned = new Map<string, (typeof plans)[number]>();
    const pinned = new Set<Entry>();
    sequences.forEach((tokens, at) => {
      const key = tokens.join(',');
      const twin = planned.get(key);
      if (twin) return void twin.at.push(at);
      const { entry: source, shared } = this.longestShared(tokens);
      if (source && shared === tokens.length) {
        this.touch(source);
        out[at] = source.dists.slice(0, shared);
        return;
      }
      if (source) pinned.add(source);
      const plan = { at: [at], tokens, source, shared, slot: -1 };
      plans.push(plan);
      planned.set(key, plan);
    });
    if (plans.length === 0) return out;
    const rows: Row[] = [];
    try {
      for (const plan of plans) {
        plan.slot = this.freeSlot(pinned);
        if (plan.source) this.net.copySlot(plan.source.slot, plan.slot, plan.shared);
        for (let position = plan.shared; position < plan.tokens.length; position++) rows.push({ slot: plan.slot, position, token: plan.tokens[position]! });
      }
      const fresh = logSoftmaxRows(this.net.forward(rows, rows.map((_, r) => r)), this.net.vocab);
      let next = 0;
      for (const plan of plans) {
        const computed = fresh.slice(next, (next += plan.tokens.length - plan.shared));
        const dists = [...(plan.source?.dists.slice(0, plan.shared) ?? []), ...computed];
        // the source moves up too: a chain extending it asks for its successor next
        if (plan.source) this.touch(plan.source);
        this.entries.push({ tokens: [...plan.tokens], slot: plan.slot, dists });
        plan.slot = -1;
        for (const at of plan.at) out[at] = dists;
      }
    } finally {
      for (const plan of plans) if (plan.slot >= 0) this.net.releaseSlot(plan.slot);
      while (this.entries.length > this.capacity) this.net.releaseSlot(this.entries.shift()!.slot);
    }
    return out;
  }

  /** Drops every cached state. */
  clear(): void {
    for (const e of this.entries.splice(0)) this.net.releaseSlot(e.slot);
  }

  /** The cached sequence sharing the longest common prefix with `tokens`, and that length (at most tokens.length). */
  private longestShared(tokens: readonly number[]): { entry: Entry | undefined; shared: number } {
    let entry: Entry | undefined;
    let shared = 0;
    for (const e of this.entries) {
      const n = Math.min(e.tokens.length, tokens.length);
      let m = 0;
      while (m < n && e.tokens[m] === tokens[m]) m++;
      if (m > shared) {
        entry = e;
        shared = m;
      }
    }
    return { entry, shared };
  }

  private touch(e: Entry): void {
    this.entries.splice(this.entries.indexOf(e), 1);
    this.entries.push(e);
  }

  /** A slot for a new state: a fresh one while under capacity, else the least recently used unpinned state's. */
  private freeSlot(pinned: ReadonlySet<Entry>): number {
    if (this.entries.length < this.capacity) return this.net.allocateSlot();
    const at = this.entries.findIndex((e) => !pinned.has(e));
    if (at < 0) return this.net.allocateSlot();
    return this.entries.splice(at, 1)[0]!.slot;
  }
}
