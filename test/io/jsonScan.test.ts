import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyNames, NeedMoreInput, readKey, readValue, skipValue } from '../../src/io/jsonScan.js';

/** JSON values with what makes scanning hard: escapes, quotes, backslashes, non-ASCII text, long strings, nesting. */
const tricky = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '{', '}', '[', ']', ',', ':', 'é', '→', '\n', ' ', 'x'), maxLength: 120 }),
  fc.string({ minLength: 40, maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('any'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('any'), { maxKeys: 4 }),
  ),
})).any;

describe('byte-level JSON scanning agrees with JSON.parse', () => {
  it('skipValue ends every value where it ends, and readValue decodes it as JSON.parse does', () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        const b = Buffer.from(`${text} ,`);
        const end = Buffer.byteLength(text);
        expect(skipValue(b, 0, b.length)).toBe(end);
        expect(readValue(b, 0, b.length)).toEqual({ value: JSON.parse(text), next: end });
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('readKey decodes every key as JSON.parse does (escaped and non-ASCII keys, and the same key read again)', () => {
    fc.assert(
      fc.property(fc.array(tricky, { minLength: 1, maxLength: 5 }), (keys) => {
        const text = JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, i])));
        const b = Buffer.from(text);
        const got: string[] = [];
        for (let i = 1, m = readKey(b, i, b.length); m; m = readKey(b, i, b.length)) {
          got.push(m.key);
          i = skipValue(b, m.valueAt, b.length);
          if (b[i] === 0x2c) i++;
        }
        expect(got).toEqual(Object.keys(JSON.parse(text) as object));
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('a string cut by the end of the window asks for more input, wherever the cut falls (escapes at the cut included)', () => {
    const text = JSON.stringify({ s: `${'x'.repeat(45)}\\"${'y'.repeat(30)}"\\\\`, t: 'é→' });
    const b = Buffer.from(text);
    for (let cut = 1; cut < b.length; cut++) expect(() => skipValue(b, 0, cut), `cut at ${cut}`).toThrow(NeedMoreInput);
    expect(skipValue(b, 0, b.length)).toBe(b.length);
    expect(() => readValue(Buffer.from('tru '), 0, 4)).toThrow(SyntaxError);
    // Control characters are not allowed raw in a JSON string: refused as JSON.parse refuses them.
    for (const raw of ['"a\tb" ', '"\u0001" ']) expect(() => readValue(Buffer.from(raw), 0, raw.length), JSON.stringify(raw)).toThrow(SyntaxError);
    const key = Buffer.from('{"a\nb":1}');
    expect(() => readKey(key, 1, key.length)).toThrow(SyntaxError);
  });

  it('KeyNames finds a key by its bytes as decoding it would: plain, escaped (\\u0069, \\/), near misses, non-ASCII', () => {
    // Names of one length that share their first four bytes (metadata, metadate), and shorter than four.
    const names = new KeyNames(['testIdx', 'vars', 'metadata', 'recoverability_row', 'a', 'metadate', 'tes', '']);
    /** A JSON spelling of `s`: each character as itself or, at random, as a \u escape. */
    const spelled = (s: string, escapes: boolean[]) =>
      `"${[...s].map((c, i) => (escapes[i % escapes.length] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1))).join('')}"`;
    const key = fc.oneof(
      fc.constantFrom(...names.names),
      fc.constantFrom('testIdx2', 'testId', 'Vars', 'metadat', 'b', 'recoverability_rowx', 'vars ', 'é', 'va→rs', 'metadatb', 'mftadata', 'metaXata', 'testXdx', 'te', 'tet', 'ab'),
      tricky,
    );
    fc.assert(
      fc.property(key, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), (k, escapes) => {
        const text = spelled(k, escapes);
        const b = Buffer.from(` ${text} `);
        expect(names.indexAt(b, 1, 1 + Buffer.byteLength(text))).toBe(names.names.indexOf(JSON.parse(text) as string));
      }),
      { numRuns: 3000, seed: 13 },
    );
    // An escaped spelling of a name is that name (\u0049 is I); an escaped other key, or a longer one, is not.
    const b = Buffer.from('"test\\u0049dx""testIdx""\\/a""testIdxx"');
    expect([names.indexAt(b, 0, 14), names.indexAt(b, 14, 23), names.indexAt(b, 23, 28), names.indexAt(b, 28, 38)]).toEqual([0, 0, -1, -1]);
    expect(() => new KeyNames(['a"b'])).toThrow(RangeError);
  });
});
