import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README's "Add it to your promptfoo config" block must be the file that
 * test/e2e/install.test.ts gets from `recoverability init` and evaluates in a scratch project.
 * The block sits between these markers; until the README has them, the test is skipped.
 */
export const README_MARKERS = { start: '<!-- add-to-config:examples/add-to-existing/after.yaml -->', end: '<!-- /add-to-config -->' };

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(README_MARKERS.start);
const end = readme.indexOf(README_MARKERS.end);
const marked = start >= 0 && end > start;

describe('README: "Add it to your promptfoo config"', () => {
  it.skipIf(!marked)(`the YAML block between ${README_MARKERS.start} and ${README_MARKERS.end} is examples/add-to-existing/after.yaml${marked ? '' : ' (skipped: README.md has no such markers yet)'}`, () => {
    const section = readme.slice(start + README_MARKERS.start.length, end);
    const block = /```ya?ml\n([\s\S]*?)```/.exec(section);
    expect(block, 'a ```yaml fenced block between the markers').not.toBeNull();
    expect(block![1]).toBe(readFileSync('examples/add-to-existing/after.yaml', 'utf8'));
  });
});
