import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

/**
 * Every name the README's "Library" section documents is exported by the package's entry point,
 * with the kind the README gives it (a call `name(…)` is a function; a `…Schema` has `parse`).
 */
const readme = readFileSync('README.md', 'utf8');
const section = readme.slice(readme.indexOf('## Library'), readme.indexOf('## The method'));
const fromImport = /import \{([^}]+)\} from 'promptfoo-recoverability'/.exec(section)?.[1]?.split(',').map((s) => s.trim()) ?? [];
const inCode = [...section.matchAll(/`([A-Za-z][A-Za-z0-9]*)(\(|`)/g)].map((m) => ({ name: m[1]!, called: m[2] === '(' }));
const documented = new Map<string, boolean>();
for (const name of fromImport) documented.set(name, true);
for (const { name, called } of inCode) if (name !== 'RolloutSummary') documented.set(name, called || (documented.get(name) ?? false));

describe("README's Library section", () => {
  it('documents names (the section was found)', () => {
    expect(fromImport.length).toBeGreaterThan(5);
    expect(documented.size).toBeGreaterThan(20);
  });

  it.each([...documented])('%s is exported', (name, called) => {
    const value = (library as Record<string, unknown>)[name];
    expect(value, `${name} is not exported from src/index.ts`).toBeDefined();
    if (called) expect(typeof value).toBe('function');
    if (name.endsWith('Schema')) expect(typeof (value as { parse?: unknown }).parse).toBe('function');
  });
});
