import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileJsonSkip } from '../../scripts/build-wasm.mjs';
import { NeedMoreInput, objectMembers, skipValue } from '../../src/io/jsonScan.js';
import { JSON_SKIP_WASM_BASE64 } from '../../src/io/jsonSkipWasm.js';
import { JsonBuffer, MAX_MEMBERS, wasmMembers, wasmSkipContainer } from '../../src/io/wasmJsonBuffer.js';

/** Strings that make container skipping hard: quotes, backslashes (runs of them), brackets, non-ASCII, 16-byte boundaries. */
const tricky = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\\\\', '{', '}', '[', ']', ',', 'é', '→', '\n', ' '), maxLength: 60 }),
  fc.string({ minLength: 14, maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const container = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, tricky, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), tie('box')),
  box: fc.oneof(fc.array(tie('any'), { maxLength: 5 }), fc.dictionary(tricky, tie('any'), { maxKeys: 5 })),
})).box;

/** `text` in a JsonBuffer at byte offset `at`, with garbage after it (what a read window holds past `end`). */
function inWasm(text: string, at: number, garbage = '"}]\\"]}'): { buf: Buffer; end: number } {
  const bytes = Buffer.from(text);
  const store = new JsonBuffer(at + bytes.length + garbage.length);
  store.buf.fill(0x5c);
  bytes.copy(store.buf, at);
  store.buf.write(garbage, at + bytes.length);
  return { buf: store.buf, end: at + bytes.length };
}

describe('jsonSkip.wat: skipValue over a JsonBuffer, 16 bytes at a time', () => {
  it('ships the compilation of the committed jsonSkip.wat (scripts/build-wasm.mjs)', async () => {
    expect(await compileJsonSkip()).toBe(JSON_SKIP_WASM_BASE64);
  });

  it('is the WebAssembly path here (Node 20 has SIMD), and ordinary Buffers keep the JavaScript path', () => {
    const { buf, end } = inWasm('{"a":[1,2]}', 0);
    expect(wasmSkipContainer(buf, 0, end, 0)).toBe(end);
    expect(wasmSkipContainer(Buffer.from('{"a":[1,2]}'), 0, 11, 0)).toBeUndefined();
  });

  it('ends every container where JSON.parse ends it, at any offset, compact or pretty, with garbage after its end', () => {
    fc.assert(
      fc.property(container, fc.boolean(), fc.nat(130), (v, pretty, at) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        const { buf, end } = inWasm(text, at);
        expect(skipValue(buf, at, end)).toBe(end);
        // The window may end anywhere after the container: the same end.
        expect(skipValue(buf, at, buf.length)).toBe(end);
        expect(wasmSkipContainer(buf, at, end, 0)).toBe(end);
        // A view that starts further in (a non-zero byteOffset) is read at its own offsets.
        const k = Math.min(at, 5);
        expect(skipValue(buf.subarray(k), at - k, end - k)).toBe(end - k);
      }),
      { numRuns: 3000, seed: 5 },
    );
  });

  it('backslash runs, escaped quotes and brackets in strings at every position around the 64-byte steps', () => {
    for (let pad = 0; pad < 140; pad++) {
      for (const tail of ['\\', '\\\\', '\\"', '\\\\\\"', '"}', ']"', '\\\\"]']) {
        // The string holds `pad` letters then the tail's characters (escaped by JSON.stringify).
        const text = JSON.stringify({ a: 'x'.repeat(pad) + tail + '{['.repeat(pad % 3), b: [1, { c: tail }] });
        for (const at of [0, 1, 63]) {
          const { buf, end } = inWasm(text, at);
          expect(wasmSkipContainer(buf, at, end, 0), `pad ${pad}, tail ${tail}, at ${at}`).toBe(end);
          expect(wasmSkipContainer(buf, at, end - 1, 0)).toBe(-1);
        }
      }
    }
  });

  it('lists an object\'s members exactly as the JavaScript loop does (offsets, the object\'s end), and refuses what it refuses', () => {
    const object = fc.dictionary(tricky, fc.oneof(container, tricky, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(true), fc.constant(null)), { maxKeys: 8 });
    const table = (t: ReturnType<typeof objectMembers>) => (t === null ? null : [t.count, t.at[0], ...t.at.slice(4, 4 + 4 * t.count)]);
    fc.assert(
      fc.property(object, fc.constantFrom(undefined, 1, 2, '\t'), fc.nat(130), fc.option(fc.nat(400)), (v, indent, at, cutAt) => {
        const text = JSON.stringify(v, null, indent);
        const { buf, end } = inWasm(text, at);
        const plain = Buffer.concat([Buffer.alloc(at), Buffer.from(text), Buffer.from('"}]\\"]}')]);
        const cut = cutAt === null ? end : Math.min(end, at + cutAt);
        const listed = wasmMembers(buf, at, cut);
        expect(listed).not.toBeUndefined();
        expect(table(listed!)).toEqual(table(objectMembers(plain, at, cut)));
        if (cut === end) {
          expect(listed!.count).toBe(Object.keys(v).length);
          expect(listed!.at[0]).toBe(end);
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
    // Not JSON where a key, colon, value or separator belongs; more than MAX_MEMBERS members.
    for (const bad of ['{"a" 1}', '{"a":1,}', '{a:1}', '{"a":1 "b":2}', '{"a":}', '{"a":1,"b"', '{' + Array.from({ length: MAX_MEMBERS + 1 }, (_, k) => `"k${k}":${k}`).join(',') + '}']) {
      const { buf, end } = inWasm(bad, 2);
      expect(wasmMembers(buf, 2, end), bad.slice(0, 20)).toBeNull();
      expect(objectMembers(Buffer.from(bad), 0, bad.length), bad.slice(0, 20)).toBeNull();
    }
  });

  it('a container ending at the very end of a window, wherever that falls in the module\'s pages (64-byte loads past it stay in memory)', () => {
    for (let bytes = 65536 - 4096 - 160; bytes < 65536 - 4096 + 40; bytes++) {
      const store = new JsonBuffer(bytes);
      const text = JSON.stringify({ a: 'x'.repeat(bytes - 200), b: [1, 2, { c: '\\"' }] });
      const at = bytes - Buffer.byteLength(text);
      store.buf.write(text, at);
      expect(skipValue(store.buf, at, bytes), `window of ${bytes} bytes`).toBe(bytes);
      expect(wasmMembers(store.buf, at, bytes)?.count).toBe(2);
    }
  });

  it('a backslash outside strings (not JSON) is read as the JavaScript loop reads it, with or without the module', () => {
    const cases = ['{"a":[\\"],"b":1}', '[' + ' '.repeat(100) + '\\"],"x"]', '{"k":[' + '1,'.repeat(40) + '\\\\"x"]}', '{"a":{"b":\\}}'];
    const pieces = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '1'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 200 }), fc.nat(70), (parts, at) => {
        cases.push('{"a":' + parts.join('') + '}');
        const text = cases.at(-1)!;
        const { buf, end } = inWasm(text, at);
        const plain = Buffer.concat([Buffer.alloc(at), Buffer.from(text), Buffer.from('"}]\\"]}')]);
        const js = (f: () => number) => {
          try {
            return f();
          } catch (err) {
            return (err as Error).name;
          }
        };
        expect(js(() => skipValue(buf, at, end))).toBe(js(() => skipValue(plain, at, end)));
        const table = (t: ReturnType<typeof objectMembers>) => (t === null ? null : [t.count, t.at[0], ...t.at.slice(4, 4 + 4 * t.count)]);
        expect(table(objectMembers(buf, at, end))).toEqual(table(objectMembers(plain, at, end)));
      }),
      { numRuns: 3000, seed: 13 },
    );
  });

  it('a container cut by the end of the window asks for more input, wherever the cut falls, as the JavaScript loop does', () => {
    const text = JSON.stringify({ s: `${'x'.repeat(45)}\\"${'y'.repeat(30)}"\\\\`, t: ['é→', { u: '}]' }], long: 'z'.repeat(300) });
    const { buf, end } = inWasm(text, 3);
    const plain = Buffer.from(text);
    for (let cut = 4; cut < end; cut++) {
      expect(() => skipValue(buf, 3, cut), `cut at ${cut}`).toThrow(NeedMoreInput);
      expect(() => skipValue(plain, 0, cut - 3), `cut at ${cut} (JavaScript)`).toThrow(NeedMoreInput);
    }
    expect(skipValue(buf, 3, end)).toBe(end);
  });

  it('keeps its bytes when it grows, and the grown buffer is scanned by the module too', () => {
    const store = new JsonBuffer(64);
    const text = JSON.stringify({ a: 'b'.repeat(40) });
    store.buf.write(text, 0);
    const grown = store.grow(1 << 20, text.length);
    expect(grown.length).toBe(1 << 20);
    expect(grown.toString('utf8', 0, text.length)).toBe(text);
    const long = JSON.stringify({ k: 'v'.repeat(500_000), n: [1, [2, [3]]] });
    grown.write(long, 100);
    expect(wasmSkipContainer(grown, 100, grown.length, 0)).toBe(100 + long.length);
  });
});
