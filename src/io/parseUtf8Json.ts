import { wasmFirstHigh } from './wasmJsonBuffer.js';

/**
 * JSON.parse of the UTF-8 bytes [i, j) of `b`: the value `JSON.parse(b.toString('utf8', i, j))`
 * gives, and the same SyntaxError where it throws, found faster. UTF-8 with a few non-ASCII
 * characters (a verdict's "→" and "≥") decodes slowly into a two-byte string that JSON.parse then
 * reads slowly; here each such character is written as its `\u` escape (two for one beyond
 * U+FFFF) and the text, ASCII now, is decoded one byte a character. Inside a JSON string an
 * escape is the character it names; outside strings both are errors. Text that is not
 * well-formed UTF-8, or with a non-ASCII character right after a backslash (where an escape
 * would change how that backslash reads), is decoded as UTF-8 as before.
 */
export function parseUtf8Json(b: Buffer, i: number, j: number): unknown {
  let high = firstHigh(b, i, j);
  const bytes = b.toString('latin1', i, j);
  if (high === j) return JSON.parse(bytes);
  let text = '';
  let from = i;
  while (high < j) {
    const n = sequenceLength(b, high, j);
    if (n === 0 || b[high - 1] === BACKSLASH) return JSON.parse(b.toString('utf8', i, j));
    text += bytes.slice(from - i, high - i) + escaped(codePoint(b, high, n));
    from = high + n;
    high = firstHigh(b, from, j);
  }
  return JSON.parse(text + bytes.slice(from - i));
}

const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';

/** The first byte ≥ 0x80 in [i, j), or j (WebAssembly over a read window, else a loop). */
function firstHigh(b: Buffer, i: number, j: number): number {
  const found = wasmFirstHigh(b, i, j);
  if (found !== undefined) return found;
  while (i < j && b[i]! < 0x80) i++;
  return i;
}

/**
 * The length of the well-formed UTF-8 sequence at `b[at]` (before `end`), or 0 when it is not
 * one (Unicode's table 3-7: no overlong forms, surrogates or code points past U+10FFFF).
 */
function sequenceLength(b: Buffer, at: number, end: number): number {
  const c = b[at]!;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || at + n > end) return 0;
  const c1 = b[at + 1]!;
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[at + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

/** The code point of the well-formed n-byte sequence at `b[at]`. */
function codePoint(b: Buffer, at: number, n: number): number {
  let cp = b[at]! & (n === 2 ? 0x1f : n === 3 ? 0x0f : 0x07);
  for (let k = 1; k < n; k++) cp = (cp << 6) | (b[at + k]! & 0x3f);
  return cp;
}

/** `\uXXXX` for a code point, a surrogate pair of them beyond U+FFFF. */
function escaped(cp: number): string {
  if (cp < 0x10000) return `\\u${HEX[cp >> 12]}${HEX[(cp >> 8) & 15]}${HEX[(cp >> 4) & 15]}${HEX[cp & 15]}`;
  const v = cp - 0x10000;
  return escaped(0xd800 + (v >> 10)) + escaped(0xdc00 + (v & 0x3ff));
}
