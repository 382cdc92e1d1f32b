import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPromptfoo } from '../helpers/promptfoo.js';

describe('root promptfooconfig.yaml through the real promptfoo CLI', () => {
  it('runs without error and writes results', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'recov-out-')), 'out.json');
    const r = runPromptfoo(['eval', '-c', 'promptfooconfig.yaml', '--no-progress-bar', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')).results;
    expect(results.stats.errors).toBe(0);
    expect(results.results.length).toBeGreaterThan(0);
  });
});
