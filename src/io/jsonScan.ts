/**
 * Byte-level scanning of JSON text held in a Buffer, for reading promptfoo outputs far larger
 * than a JavaScript string can hold without parsing what the report does not need. Positions are
 * byte offsets; `end` bounds every scan. Strings are stepped over with Buffer.indexOf (native),
 * so long model outputs cost little; containers in a JsonBuffer (the readers' window) by
 * jsonSkip.wat, 64 bytes at a time, past their first bytes; everything else byte by byte. An
 * object's members are listed (objectMembers) rather than searched for by key.
 */

import { MAX_MEMBERS, type MemberTable, wasmMembers, wasmSkipContainer } from './wasmJsonBuffer.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** The scan ran past `end`: the value is incomplete in this window (read more), or the text is truncated. */
export class NeedMoreInput extends Error {
  override readonly name = 'NeedMoreInput';
}

/** The text is not JSON where a value, key or separator was expected (`at` is the byte offset). */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export const isWhiteSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end && isWhiteSpace(b[i])) i++;
  return i;
}

/** Bytes of a string stepped over in JavaScript before Buffer.indexOf takes over (a native call costs more than a short loop). */
const SHORT_STRING = 48;

/** From the opening quote at `i`, the offset just after the closing quote. */
export function skipString(b: Buffer, i: number, end: number): number {
  let j = i + 1;
  // Keys and most values are short: step over them here.
  const stop = Math.min(end, j + SHORT_STRING);
  for (; j < stop; j++) {
    const c = b[j]!;
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  if (j > stop) j = stop; // an escape at the last byte looked at: its quote is re-examined below
  for (;;) {
    const q = b.indexOf(QUOTE, j);
    if (q < 0 || q >= end) throw new NeedMoreInput('unterminated string');
    let n = 0;
    for (let k = q - 1; b[k] === BACKSLASH; k--) n++;
    if ((n & 1) === 0) return q + 1;
    j = q + 1;
  }
}

/** Bytes of a container stepped over in JavaScript before jsonSkip.wat takes over. */
const SHORT_CONTAINER = 96;

/** From the first byte of a value (no leading white space), the offset just after it. */
export function skipValue(b: Buffer, i: number, end: number): number {
  if (i >= end) throw new NeedMoreInput('value expected');
  const c = b[i]!;
  if (c === QUOTE) return skipString(b, i, end);
  if (c === LBRACE || c === LBRACKET) {
    // Its first bytes here (most containers are small, and a call into WebAssembly costs more
    // than a short loop), the rest by jsonSkip.wat when the bytes are in a JsonBuffer.
    let depth = 0;
    let j = i;
    let limit = Math.min(end, i + SHORT_CONTAINER);
    for (;;) {
      if (j >= limit) {
        if (limit === end) throw new NeedMoreInput('unterminated container');
        const skipped = wasmSkipContainer(b, j, end, depth);
        if (skipped !== undefined) {
          if (skipped < 0) throw new NeedMoreInput('unterminated container');
          return skipped;
        }
        limit = end;
        continue;
      }
      const d = b[j++]!;
      if (d === QUOTE) {
        j = skipString(b, j - 1, end);
        continue;
      }
      if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) return j;
      }
    }
  }
  // A scalar: number, true, false, null.
  let j = i;
  while (j < end) {
    const d = b[j]!;
    if (d === COMMA || d === RBRACE || d === RBRACKET || isWhiteSpace(d)) break;
    j++;
  }
  if (j === i) throw new JsonSyntaxError(`unexpected "${String.fromCharCode(c)}" where a value belongs`, i);
  if (j >= end) throw new NeedMoreInput('scalar at the end of the window');
  return j;
}

/** The text of the JSON string at [i, j) (quotes included): decoded directly when it holds no escape or control character. */
export function stringText(b: Buffer, i: number, j: number): string {
  // An escape, or a control character (which JSON.parse refuses): JSON.parse decides.
  for (let q = i + 1; q < j - 1; q++) if (b[q] === BACKSLASH || b[q]! < 0x20) return JSON.parse(b.toString('utf8', i, j)) as string;
  return b.toString('utf8', i + 1, j - 1);
}

/** Any value, JSON-decoded, and the offset after it (strings and literals without JSON.parse). */
export function readValue(b: Buffer, i: number, end: number): { value: unknown; next: number } {
  const next = skipValue(b, i, end);
  const c = b[i];
  if (c === QUOTE) return { value: stringText(b, i, next), next };
  if (sameAscii(b, i, next, 'true')) return { value: true, next };
  if (sameAscii(b, i, next, 'false')) return { value: false, next };
  if (sameAscii(b, i, next, 'null')) return { value: null, next };
  return { value: JSON.parse(b.toString('utf8', i, next)), next };
}

/**
 * At a member of an object (`i` at white space before a key, or at the key's quote): the key,
 * and where its value starts. Returns null at the object's closing brace.
 */
export function readKey(b: Buffer, i: number, end: number): { key: string; valueAt: number } | null {
  i = skipWs(b, i, end);
  if (i >= end) throw new NeedMoreInput('key expected');
  if (b[i] === RBRACE) return null;
  if (b[i] !== QUOTE) throw new JsonSyntaxError('a key was expected', i);
  const j = skipString(b, i, end);
  const key = keyText(b, i, j);
  let k = skipWs(b, j, end);
  if (k >= end) throw new NeedMoreInput('colon expected');
  if (b[k] !== COLON) throw new JsonSyntaxError(`":" expected after the key "${key.slice(0, 40)}"`, k);
  k = skipWs(b, k + 1, end);
  if (k >= end) throw new NeedMoreInput('value expected');
  return { key, valueAt: k };
}

/** Keys seen so far by their bytes: a row's keys repeat in every row, so each is decoded once. */
const keyCache = new Map<number, string[]>();

/** The text of the key string at [i, j) (quotes included): plain ASCII keys from a cache, others JSON-decoded. */
function keyText(b: Buffer, i: number, j: number): string {
  let h = j - i;
  let plain = h <= 34;
  for (let q = i + 1; q < j - 1; q++) {
    const c = b[q]!;
    if (c === BACKSLASH || c >= 0x80 || c < 0x20) plain = false;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (!plain) return JSON.parse(b.toString('utf8', i, j)) as string;
  const bucket = keyCache.get(h);
  if (bucket) {
    for (const k of bucket) if (sameAscii(b, i + 1, j - 1, k)) return k;
  }
  const key = b.toString('latin1', i + 1, j - 1);
  if (keyCache.size < 4096) {
    if (bucket) bucket.push(key);
    else keyCache.set(h, [key]);
  }
  return key;
}

/**
 * Member names looked up by their bytes: a key whose text is one of them byte for byte is that
 * name with no string made; any other key can only be one of them when it holds an escape, and
 * only such a key is decoded (keyText). Names must be ASCII without quotes or backslashes.
 */
export class KeyNames {
  private readonly bytes: Uint8Array[];

  constructor(readonly names: readonly string[]) {
    this.bytes = names.map((n) => {
      if (!/^[\x20-\x7e]*$/.test(n) || /["\\]/.test(n)) throw new RangeError(`KeyNames: ${JSON.stringify(n)} is not plain ASCII`);
      return Uint8Array.from(n, (c) => c.charCodeAt(0));
    });
  }

  /** Which name the key string at [i, j) (quotes included) is, or -1. */
  indexAt(b: Buffer, i: number, j: number): number {
    const from = i + 1;
    const n = j - 1 - from;
    const bytes = this.bytes;
    for (let w = 0; w < bytes.length; w++) {
      const k = bytes[w]!;
      if (k.length !== n) continue;
      let q = 0;
      while (q < n && b[from + q] === k[q]) q++;
      if (q === n) return w;
    }
    for (let q = from; q < j - 1; q++) if (b[q] === BACKSLASH) return this.names.indexOf(keyText(b, i, j));
    return -1;
  }
}

/** Whether bytes [from, to) are the ASCII text `s`. */
function sameAscii(b: Buffer, from: number, to: number, s: string): boolean {
  if (s.length !== to - from) return false;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) !== b[from + k]) return false;
  return true;
}

/** After a member's value: the offset of the next key (past the comma), or -1 at the closing brace/bracket (`closeAt` set). */
export function nextMember(b: Buffer, i: number, end: number): { next: number; closeAt: number } {
  const k = skipWs(b, i, end);
  if (k >= end) throw new NeedMoreInput('separator expected');
  if (b[k] === COMMA) return { next: k + 1, closeAt: -1 };
  if (b[k] === RBRACE || b[k] === RBRACKET) return { next: -1, closeAt: k };
  throw new JsonSyntaxError('"," or a closing bracket expected', k);
}

/** The JavaScript path's members table (one, reused like the module's). */
const jsTable = new Int32Array(4 + 4 * MAX_MEMBERS);

/**
 * The members of the object whose `{` is at `b[i]`, each key, colon, value and separator read in
 * turn (strict: a comma must be followed by a key): a table of offsets (see MemberTable), valid
 * until the next call. Null where the object does not end before `end`, is not JSON where a key,
 * colon, value or separator belongs, or has more than MAX_MEMBERS members. Over a JsonBuffer
 * jsonSkip.wat lists them (the same table), else this loop.
 */
export function objectMembers(b: Buffer, i: number, end: number): MemberTable | null {
  const listed = wasmMembers(b, i, end);
  if (listed !== undefined) return listed;
  try {
    let count = 0;
    let k = skipWs(b, i + 1, end);
    if (k >= end) return null;
    if (b[k] !== RBRACE) {
      for (;;) {
        if (b[k] !== QUOTE) return null;
        const keyEnd = skipString(b, k, end);
        let v = skipWs(b, keyEnd, end);
        if (v >= end || b[v] !== COLON) return null;
        v = skipWs(b, v + 1, end);
        if (v >= end) return null;
        const valueEnd = skipValue(b, v, end);
        if (count >= MAX_MEMBERS) return null;
        jsTable.set([k, keyEnd, v, valueEnd], 4 + 4 * count++);
        k = skipWs(b, valueEnd, end);
        if (k >= end) return null;
        if (b[k] !== COMMA) break;
        k = skipWs(b, k + 1, end);
        if (k >= end) return null;
      }
      if (b[k] !== RBRACE && b[k] !== RBRACKET) return null;
    }
    jsTable[0] = k + 1;
    return { count, at: jsTable };
  } catch (err) {
    if (err instanceof NeedMoreInput || err instanceof JsonSyntaxError) return null;
    throw err;
  }
}
