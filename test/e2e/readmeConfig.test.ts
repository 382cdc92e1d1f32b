import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README's "Add it to your promptfoo config" block must be the file that
 * test/e2e/install.test.ts gets from `recoverability init` and evaluates in a scratch project.
 * The block sits between these markers.
 */
export const README_MARKERS = { start: '<!-- add-to-config:examples/add-to-existing/after.yaml -->', end: '<!-- /add-to-config -->' };

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(README_MARKERS.start);
const end = readme.indexOf(README_MARKERS.end);

describe('README: "Add it to your promptfoo config"', () => {
  it(`the YAML block between ${README_MARKERS.start} and ${README_MARKERS.end} is examples/add-to-existing/after.yaml`, () => {
    expect(start, `README.md has ${README_MARKERS.start}`).toBeGreaterThanOrEqual(0);
    expect(end, `README.md has ${README_MARKERS.end} after the start marker`).toBeGreaterThan(start);
    const section = readme.slice(start + README_MARKERS.start.length, end);
    const block = /```ya?ml\n([\s\S]*?)```/.exec(section);
    expect(block, 'a ```yaml fenced block between the markers').not.toBeNull();
    expect(block![1]).toBe(readFileSync('examples/add-to-existing/after.yaml', 'utf8'));
  });
});
