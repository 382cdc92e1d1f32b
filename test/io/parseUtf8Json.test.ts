import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUtf8Json } from '../../src/io/parseUtf8Json.js';
import { JsonBuffer, wasmFirstHigh } from '../../src/io/wasmJsonBuffer.js';

/** Strings with what the escaping meets: non-ASCII (2, 3 and 4 bytes), escapes, backslashes before them, control characters. */
const tricky = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', '"', '\\', 'é', '→', '≥', '😀', '\u2028', '\u0001', '\n', '\\u', 'ÿ', '\u0080', ' '), maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, tricky, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('any'), { maxLength: 4 }), fc.dictionary(tricky, tie('any'), { maxKeys: 4 })),
})).any;

/** The bytes at offset `at` of a JsonBuffer (the WebAssembly path) with other bytes after them, or of a plain Buffer. */
function placed(bytes: Buffer, at: number, wasm: boolean): { b: Buffer; i: number; j: number } {
  const b = wasm ? new JsonBuffer(at + bytes.length + 40).buf : Buffer.alloc(at + bytes.length + 40);
  b.fill(0xe9); // non-ASCII after the end: never read as part of the text
  bytes.copy(b, at);
  return { b, i: at, j: at + bytes.length };
}

/** What JSON.parse of the UTF-8 text gives: the value, or the SyntaxError. */
function reference(bytes: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

function ours(bytes: Buffer, at: number, wasm: boolean): { value: unknown } | { error: string } {
  const { b, i, j } = placed(bytes, at, wasm);
  try {
    return { value: parseUtf8Json(b, i, j) };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

describe('parseUtf8Json: JSON.parse of UTF-8 bytes, non-ASCII characters read as escapes', () => {
  it('gives what JSON.parse of the UTF-8 text gives, for any JSON value, at any offset, in WebAssembly memory or not', () => {
    fc.assert(
      fc.property(value, fc.nat(40), fc.boolean(), (v, at, wasm) => {
        const bytes = Buffer.from(JSON.stringify(v) ?? 'null');
        expect(ours(bytes, at, wasm)).toEqual(reference(bytes));
      }),
      { numRuns: 3000, seed: 3 },
    );
  });

  it('gives the same value or the same error for text that is not JSON or not UTF-8 (bytes changed, inserted or cut)', () => {
    const odd = [0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0x5c, 0x22, 0x75, 0xa0, 0x90, 0x8f];
    fc.assert(
      fc.property(value, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...odd), fc.boolean()), { minLength: 1, maxLength: 4 }), fc.nat(20), fc.boolean(), (v, edits, at, wasm) => {
        const list = [...Buffer.from(JSON.stringify(v) ?? 'null')];
        for (const [where, byte, insert] of edits) {
          const k = where % (list.length + 1);
          if (insert || k === list.length) list.splice(k, 0, byte);
          else list[k] = byte;
        }
        const bytes = Buffer.from(list);
        expect(ours(bytes, at, wasm)).toEqual(reference(bytes));
      }),
      { numRuns: 3000, seed: 5 },
    );
  });

  it('reads the cases the escaping must not change: a backslash before a character, sequences that are not UTF-8, surrogates', () => {
    const cases = [
      '"a\\\\é"', // an escaped backslash, then é
      '"\\é"', // an invalid escape: refused
      '"\\u00e9"', // an escape already there
      '"\\ud83d😀"', // an escaped high surrogate, then a 4-byte character
      '["→", "≥", "😀", "é"]',
      '{"→": 1, "k": "≥ 0.5 → x"}',
    ].map((t) => Buffer.from(t));
    const raw = [
      [0x22, 0xed, 0xa0, 0x80, 0x22], // a surrogate encoded in UTF-8: not well-formed
      [0x22, 0xe0, 0x80, 0x80, 0x22], // overlong
      [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], // past U+10FFFF
      [0x22, 0xe2, 0x86, 0x22], // cut short
      [0x22, 0xc3, 0x22], // cut at the quote
      [0x5b, 0xc3, 0xa9, 0x5d], // a character outside any string
    ].map((x) => Buffer.from(x));
    for (const bytes of [...cases, ...raw]) for (const wasm of [true, false]) expect(ours(bytes, 3, wasm), bytes.toString('hex')).toEqual(reference(bytes));
  });

  it('finds the first non-ASCII byte in WebAssembly wherever it stands around the 16-byte steps, and not past the end', () => {
    for (let len = 0; len <= 50; len++) {
      for (let high = 0; high <= len; high++) {
        const bytes = Buffer.alloc(len, 0x61);
        if (high < len) bytes[high] = 0xc3;
        const { b, i, j } = placed(bytes, 7, true);
        b.write('abc', j); // ASCII, then non-ASCII, past the end: a step that loads them must still answer the end
        expect(wasmFirstHigh(b, i, j), `${high} of ${len}`).toBe(i + high);
      }
    }
    expect(wasmFirstHigh(Buffer.from('aé'), 0, 3)).toBeUndefined();
  });
});
