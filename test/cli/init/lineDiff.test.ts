import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../../src/cli/init/lineDiff.js';

const names = { from: 'a.yaml', to: 'b.yaml' };

/** Applies a unified diff back to `before` (hunk headers give the positions). */
function apply(before: string, diff: string): string {
  const a = before.endsWith('\n') ? before.slice(0, -1).split('\n') : before.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const line of diff.split('\n').slice(2)) {
    const h = /^@@ -(\d+),(\d+) /.exec(line);
    if (h) {
      const start = Number(h[2]) === 0 ? Number(h[1]) : Number(h[1]) - 1;
      while (at < start) out.push(a[at++]!);
    } else if (line.startsWith(' ')) out.push(a[at++]!);
    else if (line.startsWith('-')) at++;
    else if (line.startsWith('+')) out.push(line.slice(1));
  }
  while (at < a.length) out.push(a[at++]!);
  return out.join('\n') + '\n';
}

describe('lineDiff (unified, by lines)', () => {
  it('equal texts: no diff', () => {
    expect(lineDiff('a\nb\n', 'a\nb\n', names)).toBe('');
  });

  it('a hand-checked example: one line changed, one added, three lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const after = ['1', '2', '3', '4', 'five', '6', '7', '8', '9', '10'].join('\n') + '\n';
    expect(lineDiff(before, after, names)).toBe(['--- a.yaml', '+++ b.yaml', '@@ -2,8 +2,9 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ' 9', '+10', ''].join('\n'));
  });

  it('changes far apart make separate hunks', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const after = before.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const diff = lineDiff(before, after, names);
    expect(diff.match(/^@@ /gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,5 +1,5 @@');
    expect(diff).toContain('@@ -16,5 +16,5 @@');
  });

  it('applying the diff to the old text gives the new one (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 }).map((l) => l.join('\n') + '\n');
    fc.assert(
      fc.property(text, text, (before, after) => {
        expect(apply(before, lineDiff(before, after, names))).toBe(after);
      }),
      { numRuns: 300 },
    );
  });
});
