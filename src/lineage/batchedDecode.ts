import type { DecodeSession } from '../models/servedModel.js';
import { ContextLengthError } from './contextLengthError.js';
import { type FullDistribution, logSoftmax } from './distribution.js';
import type { Row, Transformer } from './transformer.js';

/** Releases the KV slots of a session dropped without finishing its sequences. */
const abandoned = new FinalizationRegistry<{ net: Transformer; slots: number[] }>(({ net, slots }) => {
  for (const slot of slots) if (slot >= 0) net.releaseSlot(slot);
});

/**
 * `n` sequences decoded together after one prompt: the prompt is prefilled once, its keys and
 * values copied to each sequence's KV slot, then every step runs the active sequences' newest
 * tokens as one batch. A step's work happens in `next()`, only for sequences still active, so a
 * caller that finishes a sequence at its end token pays nothing for it. Each call is synchronous
 * and costs one batched forward at most: a server can yield to its event loop between steps.
 */
export class BatchedDecode implements DecodeSession {
  private readonly slots: number[];
  private readonly lengths: number[];
  private readonly pending: (number | undefined)[];
  private readonly dists: FullDistribution[];
  private activeList: number[];
  /** What the finalizer releases: the slots of sequences not yet finished. */
  private readonly held: { net: Transformer; slots: number[] };

  constructor(
    private readonly net: Transformer,
    private readonly model: string,
    prompt: readonly number[],
    n: number,
  ) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${model}: n must be a whole number ≥ 0, got ${n}`);
    if (prompt.length === 0) throw new RangeError(`${model}: the prompt is empty (it needs at least the <bos> token)`);
    if (prompt.length > net.ctx) throw new ContextLengthError(model, prompt.length, 0, net.ctx);
    this.slots = [];
    this.held = { net, slots: this.slots };
    this.activeList = Array.from({ length: n }, (_, i) => i);
    this.lengths = new Array<number>(n).fill(prompt.length);
    this.pending = new Array<number | undefined>(n).fill(undefined);
    if (n === 0) {
      this.dists = [];
      return;
    }
    const first = net.allocateSlot();
    this.slots.push(first);
    try {
      const logits = net.forward(
        prompt.map((token, position): Row => ({ slot: first, position, token })),
        [prompt.length - 1],
      );
      const dist = logSoftmax(logits, 0, net.vocab);
      for (let i = 1; i < n; i++) {
        const slot = net.allocateSlot();
        this.slots.push(slot);
        net.copySlot(first, slot, prompt.length);
      }
      this.dists = new Array<FullDistribution>(n).fill(dist);
    } catch (err) {
      this.close();
      throw err;
    }
    abandoned.register(this, this.held, this);
  }

  get active(): readonly number[] {
    return this.activeList;
  }

  /** The full next-token distribution of every active sequence (one batched forward when tokens are pending). */
  next(): FullDistribution[] {
    const rows: Row[] = [];
    const owners: number[] = [];
    for (const i of this.activeList) {
      const token = this.pending[i];
      if (token === undefined) continue;
      rows.push({ slot: this.slots[i]!, position: this.lengths[i]! - 1, token });
      owners.push(i);
    }
    if (rows.length > 0) {
      const logits = this.net.forward(rows, rows.map((_, r) => r));
      owners.forEach((i, r) => {
        this.dists[i] = logSoftmax(logits, r * this.net.vocab, this.net.vocab);
        this.pending[i] = undefined;
      });
    }
    return this.activeList.map((i) => this.dists[i]!);
  }

  /** Appends one token to every active sequence, in `active` order (computed at the next `next()`). */
  push(tokens: readonly number[]): void {
    if (tokens.length !== this.activeList.length) {
      throw new RangeError(`${this.model}: push() got ${tokens.length} tokens for ${this.activeList.length} active sequences`);
    }
    tokens.forEach((token, j) => {
      if (!(Number.isInteger(token) && token >= 0 && token < this.net.vocab)) {
        throw new RangeError(`${this.model}: token id ${token} is not in the vocabulary (0 … ${this.net.vocab - 1})`);
      }
      const i = this.activeList[j]!;
      if (this.pending[i] !== undefined) throw new RangeError(`${this.model}: push() twice without next() for sequence ${i}`);
      if (this.lengths[i]! >= this.net.ctx) throw new ContextLengthError(this.model, this.lengths[i]!, 1, this.net.ctx);
    });
    tokens.forEach((token, j) => {
      const i = this.activeList[j]!;
      this.pending[i] = token;
      this.lengths[i]!++;
    });
  }

  /** Stops sequence `index`; its KV slot goes back to the pool. */
  finish(index: number): void {
    const at = this.activeList.indexOf(index);
    if (at < 0) return;
    this.activeList = this.activeList.filter((i) => i !== index);
    this.pending[index] = undefined;
    this.release(index);
  }

  /** Finishes every sequence still running (a dropped session is also released when collected). */
  close(): void {
    for (const i of this.activeList) this.release(i);
    this.activeList = [];
    this.slots.length = 0;
    abandoned.unregister(this);
  }

  private release(index: number): void {
    const slot = this.slots[index];
    if (slot === undefined || slot < 0) return;
    this.net.releaseSlot(slot);
    this.slots[index] = -1;
    if (this.activeList.length === 0) abandoned.unregister(this);
  }
}
