import type { DecodeSession } from '../models/servedModel.js';
import { ContextLengthError } from './contextLengthError.js';
import { type FullDistribution, logSoftmax } from './distribution.js';
import type { Row, Transformer } from './transformer.js';

/** Sequences with the same tokens so far: one KV slot holding `length` positions, and the distribution after them. */
interface Group {
  slot: number;
  length: number;
  dist: FullDistribution;
  /** Running sequences in this group. */
  size: number;
}

/** Releases the KV slots of a session dropped without finishing its sequences. */
const abandoned = new FinalizationRegistry<{ net: Transformer; slots: Set<number> }>(({ net, slots }) => {
  for (const slot of slots) net.releaseSlot(slot);
});

/**
 * `n` sequences decoded together after one prompt. The prompt is prefilled once; then each step
 * runs, as one batch, one row per distinct sequence: sequences that have drawn the same tokens
 * so far share one KV slot and one computation (at T = 0.6 the arith specialist's 12 rollouts of
 * a prompt share most of their tokens), and a group forks (its keys and values copied to a new
 * slot) where its sequences draw different tokens. Results are bit-identical to decoding each
 * sequence alone. A step's work happens in `next()`, only for running sequences, so finishing a
 * sequence at its end token costs nothing. Every call is synchronous and costs at most one
 * batched forward: a server can yield to its event loop between steps.
 */
export class BatchedDecode implements DecodeSession {
  private readonly groups: (Group | undefined)[];
  private readonly pending: (number | undefined)[];
  private activeList: number[];
  /** Slots held now (what the finalizer releases). */
  private readonly live = new Set<number>();

  constructor(
    private readonly net: Transformer,
    private readonly model: string,
    prompt: readonly number[],
    n: number,
  ) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${model}: n must be a whole number ≥ 0, got ${n}`);
    if (prompt.length === 0) throw new RangeError(`${model}: the prompt is empty (it needs at least the <bos> token)`);
    if (prompt.length > net.ctx) throw new ContextLengthError(model, prompt.length, 0, net.ctx);
    this.activeList = Array.from({ length: n }, (_, i) => i);
    this.pending = new Array<number | undefined>(n).fill(undefined);
    this.groups = new Array<Group | undefined>(n).fill(undefined);
    if (n === 0) return;
    const slot = this.takeSlot();
    try {
      const logits = net.forward(prompt.map((token, position): Row => ({ slot, position, token })), [prompt.length - 1]);
      this.groups.fill({ slot, length: prompt.length, dist: logSoftmax(logits, 0, net.vocab), size: n });
    } catch (err) {
      this.close();
      throw err;
    }
    abandoned.register(this, { net, slots: this.live }, this);
  }

  get active(): readonly number[] {
    return this.activeList;
  }

  /** The full next-token distribution of every active sequence (one batched forward when tokens are pending). */
  next(): FullDistribution[] {
    // (group, token) → the sequences moving there
    const moves = new Map<Group, Map<number, number[]>>();
    for (const i of this.activeList) {
      const token = this.pending[i];
      if (token === undefined) continue;
      const from = this.groups[i]!;
      let byToken = moves.get(from);
      if (!byToken) moves.set(from, (byToken = new Map()));
      const members = byToken.get(token);
      if (members) members.push(i);
      else byToken.set(token, [i]);
    }
    if (moves.size > 0) {
      const rows: Row[] = [];
      const targets: { members: number[]; slot: number; length: number }[] = [];
      // every running sequence has a pending token, so all of a group moves: its first move
      // keeps the group's slot, each other move forks a copy of the group's keys and values
      for (const [from, byToken] of moves) {
        let first = true;
        for (const [token, members] of byToken) {
          let slot = from.slot;
          if (!first) {
            slot = this.takeSlot();
            this.net.copySlot(from.slot, slot, from.length);
          }
          first = false;
          rows.push({ slot, position: from.length, token });
          targets.push({ members, slot, length: from.length + 1 });
        }
      }
      const logits = this.net.forward(rows, rows.map((_, r) => r));
      targets.forEach((t, r) => {
        const group: Group = { slot: t.slot, length: t.length, dist: logSoftmax(logits, r * this.net.vocab, this.net.vocab), size: t.members.length };
        for (const i of t.members) {
          this.groups[i] = group;
          this.pending[i] = undefined;
        }
      });
    }
    return this.activeList.map((i) => this.groups[i]!.dist);
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
      const length = this.groups[i]!.length;
      if (length >= this.net.ctx) throw new ContextLengthError(this.model, length, 1, this.net.ctx);
    });
    tokens.forEach((token, j) => (this.pending[this.activeList[j]!] = token));
  }

  /** Stops sequence `index`; its KV slot goes back to the pool when no running sequence shares it. */
  finish(index: number): void {
    if (!this.activeList.includes(index)) return;
    this.activeList = this.activeList.filter((i) => i !== index);
    this.pending[index] = undefined;
    const group = this.groups[index];
    this.groups[index] = undefined;
    if (group && --group.size === 0) this.dropSlot(group.slot);
    if (this.activeList.length === 0) abandoned.unregister(this);
  }

  /** Finishes every sequence still running (a dropped session is also released when collected). */
  close(): void {
    for (const i of [...this.activeList]) this.finish(i);
    for (const slot of this.live) this.net.releaseSlot(slot);
    this.live.clear();
    abandoned.unregister(this);
  }

  private takeSlot(): number {
    const slot = this.net.allocateSlot();
    this.live.add(slot);
    return slot;
  }

  private dropSlot(slot: number): void {
    if (this.live.delete(slot)) this.net.releaseSlot(slot);
  }
}
