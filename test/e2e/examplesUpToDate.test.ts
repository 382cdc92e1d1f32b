import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('shipped example data', () => {
  it('regenerates byte-identically from scripts/make-examples.mjs (nothing hand-edited)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recov-examples-'));
    mkdirSync(join(root, 'examples'), { recursive: true });
    const { makeExamples } = await import('../../scripts/make-examples.mjs');
    await makeExamples(root);
    for (const f of ['examples/lineage-problems.csv', 'examples/reference/lineage-failures.json', 'examples/sim-problems.csv', 'examples/sim-problems-small.csv', 'examples/reference/sim-failures.csv']) {
      expect(readFileSync(join(root, f), 'utf8'), f).toBe(readFileSync(f, 'utf8'));
    }
  });
});
