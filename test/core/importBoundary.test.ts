import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
const ALLOWED = new Set(['zod', 'simple-statistics', 'ml-kmeans', 'ml-cart', 'pure-rand/distribution/uniformFloat64', 'pure-rand/generator/xoroshiro128plus']);

describe('the pure core', () => {
  it('imports only itself and its libraries: no promptfoo, no I/O, no network', () => {
    const offending: string[] = [];
    for (const f of files('src/core').filter((x) => x.endsWith('.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        const ok = spec.startsWith('.') ? !/\.\.\/\.\.\/(?!core)/.test(spec) && !spec.startsWith('../../') : ALLOWED.has(spec);
        if (!ok) offending.push(`${f}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
