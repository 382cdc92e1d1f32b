import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkStarts } from '../../src/io/loadEvalOutput.js';

/** Each chunk's size, the last one ending at `size`. */
const sizesOf = (starts: number[], size: number) => starts.map((s, k) => (starts[k + 1] ?? size) - s);

describe('chunkStarts (where the reader threads\' chunks of a large JSONL begin)', () => {
  it('cuts 1.13 GB for two threads into regular chunks that shrink at the end', () => {
    const size = 1_128_124_455;
    const starts = chunkStarts(size, 17, 2, 8 << 20);
    const mb = sizesOf(starts, size).map((b) => Math.round(b / 1e6));
    // A 17th of the file, then each a quarter of what is left, down to 8 MiB, and what remains.
    expect(mb).toEqual([66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 50, 37, 28, 21, 16, 12, 9, 8, 8, 8, 1]);
  });

  it('covers the file from 0 in increasing starts; chunks never grow, the regular ones a parts-th, the last small (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 2 ** 26 }), (size, parts, threads, minChunk) => {
        const starts = chunkStarts(size, parts, threads, minChunk);
        expect(starts[0]).toBe(0);
        for (let k = 1; k < starts.length; k++) expect(starts[k]!).toBeGreaterThan(starts[k - 1]!);
        expect(starts.at(-1)!).toBeLessThan(size);
        const sizes = sizesOf(starts, size);
        const regular = size / parts;
        const smallest = Math.max(minChunk, regular / 8);
        // Flooring moves a start by less than a byte: sizes are within 1 of the real-valued ones.
        for (let k = 1; k < sizes.length; k++) expect(sizes[k]!).toBeLessThanOrEqual(sizes[k - 1]! + 1);
        for (const s of sizes) expect(s).toBeLessThanOrEqual(Math.max(regular, smallest) + 1);
        for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(Math.min(regular, smallest) - 1);
        expect(sizes.at(-1)!).toBeLessThanOrEqual(smallest + 1);
        expect(starts.length).toBeLessThanOrEqual(parts + 16 * threads);
      }),
      { numRuns: 500 },
    );
  });
});
