import { instantiateKernels, type Kernels } from './kernels.js';
import type { LineageConfig } from './lineageManifest.js';
import type { Tensor } from './safetensors.js';

/** LayerNorm's ε, as torch.nn.LayerNorm's default. */
const LN_EPS = 1e-5;
/** Rows one pass through the kernels holds; longer batches run in chunks (results do not depend on it). */
export const MAX_ROWS = 128;

/** One token to run: `token` at `position` of the sequence whose KV cache is `slot`. */
export interface Row {
  slot: number;
  position: number;
  token: number;
}

interface Block {
  ln1w: number; ln1b: number; qkvW: number; qkvB: number; projW: number; projB: number;
  ln2w: number; ln2b: number; fcW: number; fcB: number; outW: number; outB: number;
}

/**
 * The arith-lineage network (MODEL_CARD.md): a pre-LayerNorm GPT with learned positions and tied
 * embeddings, float32 throughout, run by the WebAssembly kernels over one memory that holds the
 * weights, scratch for MAX_ROWS rows, and a pool of KV-cache slots (one per sequence).
 *
 *   x = tok[id] + pos[p];  per block: x += proj(attn(ln1 x)); x += out(gelu_tanh(fc(ln2 x)))
 *   logits = lnf(x) · tokᵀ;  attn: qkv = one linear split q | k | v, h heads, causal softmax / √(d/h)
 *
 * A row's result depends only on its token, position and its slot's cached keys and values, never
 * on the other rows of the call: batched and one-at-a-time runs agree bit for bit.
 */
export class Transformer {
  readonly d: number;
  readonly layers: number;
  readonly heads: number;
  readonly ctx: number;
  readonly vocab: number;
  readonly ff: number;
  private readonly headDim: number;
  private readonly vocabPadded: number;
  private readonly k: Kernels;
  private f32: Float32Array;
  private readonly tok: number;
  private readonly pos: number;
  private readonly lnfW: number;
  private readonly lnfB: number;
  private readonly blocks: Block[];
  private readonly x: number;
  private readonly h: number;
  private readonly qkv: number;
  private readonly att: number;
  private readonly ffBuf: number;
  private readonly logitBuf: number;
  private readonly scores: number;
  private readonly kvBase: number;
  /** Bytes of one sequence's KV cache: layers × (K, V) × ctx × d floats. */
  private readonly slotBytes: number;
  private slotCapacity: number;
  private slotsMade = 0;
  private readonly freeSlots: number[] = [];
  private readonly isFree: boolean[] = [];
  /** Work done so far: forward calls and rows (token positions) run. */
  readonly work = { forwards: 0, rows: 0 };

  constructor(config: LineageConfig, tensors: ReadonlyMap<string, Tensor>, file = 'weights') {
    const { d, L, h, ctx, vocab } = config;
    if (d % h !== 0 || (d / h) % 16 !== 0) throw new RangeError(`${file}: d = ${d} must split into ${h} heads of a multiple of 16 (the attention kernel's width)`);
    if (ctx % 4 !== 0) throw new RangeError(`${file}: the context ${ctx} must be a multiple of 4 (the attention kernel reads keys four positions at a time)`);
    this.d = d;
    this.layers = L;
    this.heads = h;
    this.ctx = ctx;
    this.vocab = vocab;
    this.headDim = d / h;
    this.vocabPadded = Math.ceil(vocab / 4) * 4;
    const get = (name: string, shape: number[]): Tensor => {
      const t = tensors.get(name);
      if (!t) throw new RangeError(`${file}: tensor ${name} [${shape}] is missing`);
      if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i])) {
        throw new RangeError(`${file}: tensor ${name} has shape [${t.shape}], expected [${shape}] (lineage.json config ${JSON.stringify(config)})`);
      }
      return t;
    };
    const fcShape = tensors.get('blocks.0.fc.weight')?.shape;
    this.ff = fcShape?.[0] ?? 4 * d;
    if (this.ff % 4 !== 0) throw new RangeError(`${file}: the feed-forward width ${this.ff} must be a multiple of 4`);

    // Layout: 16 unused bytes (pointer 0 means "no bias"), weights, scratch, then KV slots.
    let top = 16;
    const place = (floats: number): number => {
      const at = top;
      top += Math.ceil((floats * 4) / 16) * 16;
      return at;
    };
    const weights: [number, Tensor][] = [];
    const weight = (name: string, shape: number[], floats = shape.reduce((a, b) => a * b, 1)): number => {
      const at = place(floats);
      weights.push([at, get(name, shape)]);
      return at;
    };
    this.tok = weight('tok.weight', [vocab, d], this.vocabPadded * d);
    this.pos = weight('pos.weight', [ctx, d]);
    this.lnfW = weight('lnf.weight', [d]);
    this.lnfB = weight('lnf.bias', [d]);
    this.blocks = Array.from({ length: L }, (_, i) => {
      const p = `blocks.${i}.`;
      return {
        ln1w: weight(`${p}ln1.weight`, [d]), ln1b: weight(`${p}ln1.bias`, [d]),
        qkvW: weight(`${p}qkv.weight`, [3 * d, d]), qkvB: weight(`${p}qkv.bias`, [3 * d]),
        projW: weight(`${p}proj.weight`, [d, d]), projB: weight(`${p}proj.bias`, [d]),
        ln2w: weight(`${p}ln2.weight`, [d]), ln2b: weight(`${p}ln2.bias`, [d]),
        fcW: weight(`${p}fc.weight`, [this.ff, d]), fcB: weight(`${p}fc.bias`, [this.ff]),
        outW: weight(`${p}out.weight`, [d, this.ff]), outB: weight(`${p}out.bias`, [d]),
      };
    });
    this.x = place(MAX_ROWS * d);
    this.h = place(MAX_ROWS * d);
    this.qkv = place(MAX_ROWS * 3 * d);
    this.att = place(MAX_ROWS * d);
    this.ffBuf = place(MAX_ROWS * this.ff);
    this.logitBuf = place(MAX_ROWS * this.vocabPadded);
    this.scores = place(Math.ceil(ctx / 4) * 4);
    this.kvBase = top;
    this.slotBytes = L * 2 * ctx * d * 4;
    this.slotCapacity = 4;
    this.k = instantiateKernels(this.kvBase + this.slotCapacity * this.slotBytes);
    this.slotCapacity = Math.floor((this.k.memory.buffer.byteLength - this.kvBase) / this.slotBytes);
    this.f32 = new Float32Array(this.k.memory.buffer);
    for (const [at, t] of weights) this.f32.set(t.data, at / 4);
  }

  /** A free KV-cache slot (the memory grows when none is free). */
  allocateSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) {
      this.isFree[free] = false;
      return free;
    }
    if (this.slotsMade === this.slotCapacity) {
      const add = Math.max(4, this.slotCapacity >> 1);
      const needed = this.kvBase + (this.slotCapacity + add) * this.slotBytes - this.k.memory.buffer.byteLength;
      this.k.memory.grow(Math.ceil(needed / 65536));
      this.f32 = new Float32Array(this.k.memory.buffer);
      this.slotCapacity = Math.floor((this.k.memory.buffer.byteLength - this.kvBase) / this.slotBytes);
    }
    return this.slotsMade++;
  }

  /** Returns a slot to the pool; its contents are garbage from then on. */
  releaseSlot(slot: number): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slotsMade) || this.isFree[slot]) throw new RangeError(`KV slot ${slot} is not in use`);
    this.isFree[slot] = true;
    this.freeSlots.push(slot);
  }

  /** Slots handed out and not released. */
  get slotsInUse(): number {
    return this.slotsMade - this.freeSlots.length;
  }

  /** Copies the cached keys and values of positions 0 … positions−1 from one slot to another. */
  copySlot(from: number, to: number, positions: number): void {
    const n = positions * this.d;
    for (let part = 0; part < 2 * this.layers; part++) {
      const src = this.kv(from, part, 0);
      this.f32.copyWithin(this.kv(to, part, 0), src, src + n);
    }
  }

  /**
   * Runs `rows` through the network, writing each row's keys and values into its slot, and
   * returns the logits (float32) of the rows listed in `logitsOf`, `vocab` per row, in that
   * order. A row attends to positions 0 … position of its slot: earlier positions must be
   * cached already or come earlier in `rows`.
   */
  forward(rows: readonly Row[], logitsOf: readonly number[]): Float32Array {
    const out = new Float32Array(logitsOf.length * this.vocab);
    this.work.forwards++;
    this.work.rows += rows.length;
    let written = 0;
    for (let start = 0; start < rows.length; start += MAX_ROWS) {
      const end = Math.min(rows.length, start + MAX_ROWS);
      const chunk = rows.slice(start, end);
      const wanted = logitsOf.filter((r) => r >= start && r < end).map((r) => r - start);
      this.runChunk(chunk);
      if (wanted.length > 0) {
        this.logits(wanted);
        for (const [j] of wanted.entries()) {
          const from = this.logitBuf / 4 + j * this.vocabPadded;
          out.set(this.f32.subarray(from, from + this.vocab), written);
          written += this.vocab;
        }
      }
    }
    if (written !== out.length) throw new RangeError('logitsOf must list row indices in increasing order');
    return out;
  }

  private runChunk(rows: readonly Row[]): void {
    const { d, f32 } = this;
    const n = rows.length;
    const x = this.x / 4;
    for (let r = 0; r < n; r++) {
      const { slot, position, token } = rows[r]!;
      if (!(Number.isInteger(token) && token >= 0 && token < this.vocab)) throw new RangeError(`token id ${token} is not in the vocabulary (0 … ${this.vocab - 1})`);
      if (!(Number.isInteger(position) && position >= 0 && position < this.ctx)) throw new RangeError(`position ${position} is outside the context (0 … ${this.ctx - 1})`);
      if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slotsMade)) throw new RangeError(`no KV slot ${slot}`);
      const t = this.tok / 4 + token * d;
      const p = this.pos / 4 + position * d;
      for (let i = 0; i < d; i++) f32[x + r * d + i] = f32[t + i]! + f32[p + i]!;
    }
    const scale = 1 / Math.sqrt(this.headDim);
    for (let l = 0; l < this.layers; l++) {
      const b = this.blocks[l]!;
      this.k.layerNorm(this.x, n, d, b.ln1w, b.ln1b, this.h, LN_EPS);
      this.k.linear(this.h, n, d, b.qkvW, b.qkvB, 3 * d, this.qkv, 0);
      for (let r = 0; r < n; r++) {
        const { slot, position } = rows[r]!;
        const q = this.qkv / 4 + r * 3 * d;
        f32.copyWithin(this.kv(slot, 2 * l, position), q + d, q + 2 * d);
        f32.copyWithin(this.kv(slot, 2 * l + 1, position), q + 2 * d, q + 3 * d);
      }
      for (let r = 0; r < n; r++) {
        const { slot, position } = rows[r]!;
        this.k.attend(this.qkv + r * 3 * d * 4, this.kv(slot, 2 * l, 0) * 4, this.kv(slot, 2 * l + 1, 0) * 4, position + 1, this.heads, this.headDim, d, scale, this.scores, this.att + r * d * 4);
      }
      this.k.linear(this.att, n, d, b.projW, b.projB, d, this.x, 1);
      this.k.layerNorm(this.x, n, d, b.ln2w, b.ln2b, this.h, LN_EPS);
      this.k.linear(this.h, n, d, b.fcW, b.fcB, this.ff, this.ffBuf, 0);
      this.k.gelu(this.ffBuf, n * this.ff);
      this.k.linear(this.ffBuf, n, this.ff, b.outW, b.outB, d, this.x, 1);
    }
  }

  /** Final LayerNorm of the listed rows of the current chunk, then logits = h · tokᵀ. */
  private logits(rows: readonly number[]): void {
    const rowBytes = this.d * 4;
    rows.forEach((r, j) => this.k.layerNorm(this.x + r * rowBytes, 1, this.d, this.lnfW, this.lnfB, this.h + j * rowBytes, LN_EPS));
    this.k.linear(this.h, rows.length, this.d, this.tok, 0, this.vocabPadded, this.logitBuf, 0);
  }

  /** Float index of position `position` of `part` (2·layer: keys, 2·layer + 1: values) in `slot`. */
  private kv(slot: number, part: number, position: number): number {
    return (this.kvBase + slot * this.slotBytes) / 4 + (part * this.ctx + position) * this.d;
  }
}
