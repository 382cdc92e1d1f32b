import { JSON_SKIP_WASM_BASE64 } from './jsonSkipWasm.js';

/** The little of the WebAssembly API used here (the compiler's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
interface SkipExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  skipContainer(i: number, end: number, depth: number): number;
  members(i: number, end: number, out: number, max: number, base: number): number;
  firstHigh(i: number, end: number): number;
}

const PAGE = 65536;
/** Readable bytes kept after a buffer's end: skipContainer loads 64 bytes at a time. */
const SLACK = 64;
/** Members an object may have for `wasmMembers` to list them (more: it answers null). */
export const MAX_MEMBERS = 255;
/** The members table at the start of the module's memory (the object's end, then 4 offsets a member); the bytes follow it. */
const TABLE_BYTES = 16 + 16 * MAX_MEMBERS;

/** jsonSkip.wat, compiled once per thread; null where WebAssembly SIMD is not available. */
const compiled: object | null = (() => {
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    return wasm ? new wasm.Module(Buffer.from(JSON_SKIP_WASM_BASE64, 'base64')) : null;
  } catch {
    return null;
  }
})();

/** The module instance whose memory an ArrayBuffer is. */
const owners = new WeakMap<ArrayBufferLike, SkipExports>();

/**
 * The rest of a container stepped over by jsonSkip.wat, when `b` lies in a JsonBuffer's memory:
 * from `b[i]`, outside any string and `depth` brackets deep (0 at the container's opening
 * bracket), the offset just after the bracket that closes it, or -1 when `end` comes first.
 * Undefined for any other bytes, and where a backslash stands outside strings (not JSON, read
 * differently by the module's string masks): skipValue then steps over them in JavaScript.
 */
export function wasmSkipContainer(b: Uint8Array, i: number, end: number, depth: number): number | undefined {
  const owner = owners.get(b.buffer);
  if (owner === undefined) return undefined;
  const o = b.byteOffset;
  const stop = o + Math.min(end, b.length);
  if (stop + SLACK > b.buffer.byteLength) return undefined;
  // The module's offsets are unsigned 32-bit: read as such (a window past 2 GiB has offsets ≥ 2^31).
  // −1 (0xffffffff) is never an offset here: the slack keeps every real one under byteLength.
  const j = owner.skipContainer(o + i, stop, depth) >>> 0;
  if (j === 0xfffffffe) return undefined; // a backslash outside strings: the JavaScript loop decides
  return j === 0xffffffff ? -1 : j - o;
}

/**
 * The offset of the first byte ≥ 0x80 in [i, end) of `b`, or `end`, found by jsonSkip.wat 16
 * bytes at a time when `b` lies in a JsonBuffer's memory; undefined for any other bytes.
 */
export function wasmFirstHigh(b: Uint8Array, i: number, end: number): number | undefined {
  const owner = owners.get(b.buffer);
  if (owner === undefined) return undefined;
  const o = b.byteOffset;
  const stop = o + Math.min(end, b.length);
  if (stop + SLACK > b.buffer.byteLength) return undefined;
  // Offsets are unsigned 32-bit (a window past 2 GiB has offsets ≥ 2^31).
  return (owner.firstHigh(o + i, stop) >>> 0) - o;
}

/** The members of one object: `count` of them, member k's offsets at `at[4k + 4 …]`, the object's end at `at[0]`. */
export interface MemberTable {
  count: number;
  /**
   * Offsets in the bytes: `at[0]` just after the object's `}`; for member k, `at[4 + 4k]` its
   * key's opening quote, `at[5 + 4k]` just after the key's closing quote, `at[6 + 4k]` its value's
   * first byte, `at[7 + 4k]` just after the value. Valid until the next call.
   */
  at: Int32Array;
}

/** Each instance's view of its members table (renewed when its memory grows). */
const tables = new WeakMap<SkipExports, Int32Array>();

/**
 * The members of the object whose `{` is at `b[i]`, listed by jsonSkip.wat when `b` lies in a
 * JsonBuffer's memory (as jsonScan's objectMembers lists them); null where the object does not
 * end before `end`, is not JSON where a key, colon, value or separator belongs, or has more than
 * MAX_MEMBERS members; undefined for any other bytes, and where a backslash stands outside
 * strings (objectMembers then lists them in JavaScript).
 */
export function wasmMembers(b: Uint8Array, i: number, end: number): MemberTable | null | undefined {
  const owner = owners.get(b.buffer);
  if (owner === undefined) return undefined;
  const o = b.byteOffset;
  const stop = o + Math.min(end, b.length);
  if (stop + SLACK > b.buffer.byteLength || o < TABLE_BYTES) return undefined;
  const count = owner.members(o + i, stop, 0, MAX_MEMBERS, o);
  if (count === -4) return undefined; // a backslash outside strings: the JavaScript loop decides
  if (count < 0) return null;
  let at = tables.get(owner);
  if (at === undefined || at.buffer !== owner.memory.buffer) tables.set(owner, (at = new Int32Array(owner.memory.buffer, 0, TABLE_BYTES / 4)));
  return { count, at };
}

/**
 * A growable byte buffer for reading JSON: in WebAssembly memory when the runtime has SIMD (then
 * skipValue steps over its containers 16 bytes at a time), else an ordinary Buffer.
 */
export class JsonBuffer {
  /** The bytes; a new view after `grow`. */
  buf: Buffer;
  private readonly wasm: SkipExports | null;

  constructor(bytes: number) {
    let exports: SkipExports | null = null;
    try {
      if (compiled) exports = new (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly.Instance(compiled, {}).exports as SkipExports;
    } catch {
      exports = null;
    }
    this.wasm = exports;
    this.buf = (exports && this.view(exports, bytes)) ?? Buffer.allocUnsafe(bytes);
  }

  /** Room for `bytes` at least, keeping the first `keep` bytes. */
  grow(bytes: number, keep: number): Buffer {
    if (bytes <= this.buf.length) return this.buf;
    const inWasm = this.wasm !== null && owners.get(this.buf.buffer) === this.wasm ? this.view(this.wasm, bytes) : null;
    if (inWasm) return (this.buf = inWasm); // memory.grow keeps the bytes
    const grown = Buffer.allocUnsafe(bytes);
    this.buf.copy(grown, 0, 0, keep);
    return (this.buf = grown);
  }

  /** A view of `bytes` bytes over the instance's memory, grown to hold them and the slack; null when it cannot grow. */
  private view(exports: SkipExports, bytes: number): Buffer | null {
    const memory = exports.memory;
    const need = Math.ceil((TABLE_BYTES + bytes + SLACK) / PAGE) - memory.buffer.byteLength / PAGE;
    try {
      if (need > 0) memory.grow(need);
    } catch {
      return null; // past what this runtime lends WebAssembly: an ordinary Buffer instead
    }
    owners.set(memory.buffer, exports);
    return Buffer.from(memory.buffer, TABLE_BYTES, bytes);
  }
}
