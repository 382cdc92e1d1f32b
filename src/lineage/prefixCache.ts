import { type FullDistribution, logSoftmax } from './distribution.js';
import type { Row, Transformer } from './transformer.js';

interface Entry {
  tokens: number[];
  slot: number;
  dist: FullDistribution;
}

/** How many prefix states each model keeps by default (each holds one KV slot, ~0.8 MB). */
export const DEFAULT_PREFIX_CACHE_SIZE = 16;

/**
 * Next-token distributions after arbitrary prefixes, with a small LRU of prefix states (the KV
 * cache of a prefix and the distribution after it). A query reuses the longest cached prefix of
 * itself and runs only the tokens past it, so decoding a sequence one token at a time (steering
 * two models step by step) costs one incremental forward per step, not a re-prefill. The
 * source state stays cached: branching from a prefix (several candidate tokens at a junction)
 * is as cheap as extending it.
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

  /** The distribution after `prefix` (non-empty, at most ctx tokens, ids already checked). */
  after(prefix: readonly number[]): FullDistribution {
    let best: Entry | undefined;
    let bestAt = -1;
    this.entries.forEach((e, at) => {
      if (e.tokens.length <= prefix.length && (!best || e.tokens.length > best.tokens.length) && isPrefix(e.tokens, prefix)) {
        best = e;
        bestAt = at;
      }
    });
    if (best && best.tokens.length === prefix.length) {
      this.entries.splice(bestAt, 1);
      this.entries.push(best);
      return best.dist;
    }
    const slot = this.freeSlot(best);
    const from = best?.tokens.length ?? 0;
    if (best) this.net.copySlot(best.slot, slot, from);
    const rows: Row[] = [];
    for (let position = from; position < prefix.length; position++) rows.push({ slot, position, token: prefix[position]! });
    let dist: FullDistribution;
    try {
      dist = logSoftmax(this.net.forward(rows, [rows.length - 1]), 0, this.net.vocab);
    } catch (err) {
      this.net.releaseSlot(slot);
      throw err;
    }
    if (best) {
      // the source moves up too: a chain extending it will ask for its successor next
      this.entries.splice(this.entries.indexOf(best), 1);
      this.entries.push(best);
    }
    this.entries.push({ tokens: [...prefix], slot, dist });
    return dist;
  }

  /** Drops every cached state. */
  clear(): void {
    for (const e of this.entries.splice(0)) this.net.releaseSlot(e.slot);
  }

  /** A slot for a new state: a fresh one while under capacity, else the least recently used one's (never `keep`'s). */
  private freeSlot(keep: Entry | undefined): number {
    if (this.entries.length < this.capacity) return this.net.allocateSlot();
    const at = this.entries.findIndex((e) => e !== keep);
    return this.entries.splice(at, 1)[0]!.slot;
  }
}

function isPrefix(head: readonly number[], of: readonly number[]): boolean {
  for (let i = 0; i < head.length; i++) if (head[i] !== of[i]) return false;
  return true;
}
