import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kmeansRegimes, type Features } from '../../src/core/index.js';

/** Three well-separated blobs: high spread, high concentration, high dispersion. */
function blobs(perBlob: number, seed: number): { features: Features }[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
  const centres: [number, number, number][] = [
    [0.6, 1.0, -1.0],
    [0.1, 3.0, -1.0],
    [0.1, 1.0, 0.5],
  ];
  return centres.flatMap(([a, b, c]) =>
    Array.from({ length: perBlob }, () => ({ features: { spread: a + rand() * 0.2, concentration: b + rand(), logit_dispersion: c + rand() } })),
  );
}

describe('k-means regimes', () => {
  const items = blobs(20, 5);

  it('finds the planted blobs and names them by centroid signature', () => {
    const r = kmeansRegimes(items);
    expect(r.k).toBe(3);
    expect(r.regimes.map((g) => g.size).sort()).toEqual([20, 20, 20]);
    const names = r.regimes.map((g) => g.name);
    expect(names.some((n) => n.startsWith('spread↑'))).toBe(true);
    expect(names.some((n) => n.startsWith('concentration↑'))).toBe(true);
    expect(names.some((n) => n.startsWith('logit_dispersion↑'))).toBe(true);
    // Each blob is one regime.
    for (let b = 0; b < 3; b++) expect(new Set(r.assignment.slice(b * 20, b * 20 + 20)).size).toBe(1);
    expect(r.regimes[0]!.signature).toMatch(/^spread:(high|mid|low) concentration:(high|mid|low) logit_dispersion:(high|mid|low)$/);
  });

  it('is deterministic for a seed', () => {
    expect(kmeansRegimes(items, { seed: 9 })).toEqual(kmeansRegimes(items, { seed: 9 }));
  });

  it('gives every item the same regime when the rows are permuted (property)', () => {
    const base = kmeansRegimes(items);
    const nameOf = (r: ReturnType<typeof kmeansRegimes>, i: number) => r.regimes[r.assignment[i]!]!.name;
    fc.assert(
      fc.property(fc.shuffledSubarray(items.map((_, i) => i), { minLength: items.length, maxLength: items.length }), (perm) => {
        const r = kmeansRegimes(perm.map((i) => items[i]!));
        perm.forEach((orig, pos) => expect(nameOf(r, pos)).toBe(nameOf(base, orig)));
        expect(r.regimes).toEqual(base.regimes);
      }),
      { numRuns: 20, seed: 1 },
    );
  });

  it('fits on an even subsample when there are many points, still assigning all and permutation invariant', () => {
    const base = kmeansRegimes(items, { maxFitPoints: 20 });
    expect(base.assignment).toHaveLength(60);
    expect(base.regimes.reduce((s, g) => s + g.size, 0)).toBe(60);
    expect(base.regimes.map((g) => g.size).sort()).toEqual([20, 20, 20]);
    const rev = [...items].reverse();
    const r = kmeansRegimes(rev, { maxFitPoints: 20 });
    rev.forEach((_, pos) => expect(r.regimes[r.assignment[pos]!]!.name).toBe(base.regimes[base.assignment[59 - pos]!]!.name));
  });

  it('uses fewer clusters than k when there are fewer distinct points', () => {
    const r = kmeansRegimes([items[0]!, items[0]!, items[1]!], { k: 3 });
    expect(r.k).toBe(2);
    expect(kmeansRegimes([])).toEqual({ regimes: [], assignment: [], k: 0 });
  });

  it('rejects missing features with the item named', () => {
    expect(() => kmeansRegimes([{ features: { spread: 1, concentration: null, logit_dispersion: 1 } }])).toThrow(/item #0: feature "concentration"/);
  });
});
