import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/progress.js';

/** A stream that keeps what is written; `isTTY` as a terminal or a pipe would have it. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY, columns: 120 },
  );
  return { stream, text: () => chunks.join('') };
}

describe('progress', () => {
  it('on a pipe, unasked: writes nothing at all, summary included', () => {
    const s = sink(false);
    const bar = progress('probe', 10, { stream: s.stream });
    bar.tick(5);
    bar.done('10 units in 1.0 s');
    expect(bar.shown).toBe(false);
    expect(s.text()).toBe('');
  });

  it('on a terminal: a cli-progress bar, cleared at the end and replaced by the one-line summary', () => {
    const s = sink(true);
    const bar = progress('probe', 4, { stream: s.stream });
    bar.tick();
    bar.update(3, 4, 'probing');
    bar.done('4 units in 0.1 s');
    const text = s.text();
    expect(text).toMatch(/probe \[-+\] 0% \| 0\/4/);
    expect(text).toMatch(/probe \(probing\) \[=+-+\] 75% \| 3\/4/);
    expect(text.endsWith('probe: 4 units in 0.1 s\n')).toBe(true);
    expect(text).toContain('\u001b['); // drawn in place with terminal escapes
  });

  it('forced on a pipe (--progress): plain lines, no escapes, then the summary', () => {
    const s = sink(false);
    const bar = progress('validate', 0, { stream: s.stream, force: true, intervalMs: 60_000 });
    bar.update(1, 8, 'probing');
    bar.update(8, 8, 'probing');
    bar.done('done');
    const lines = s.text().trim().split('\n');
    expect(lines[0]).toMatch(/^validate \(probing\) \[[=-]+\] 12% \| 1\/8/);
    expect(lines.at(-2)).toMatch(/^validate \(probing\) \[=+\] 100% \| 8\/8/);
    expect(lines.at(-1)).toBe('validate: done');
    expect(s.text()).not.toContain('\u001b[');
  });

  it('--no-progress wins over a terminal and --progress; done() twice is harmless; no summary on failure', () => {
    const s = sink(true);
    const off = progress('x', 3, { stream: s.stream, force: true, disable: true });
    off.tick();
    off.done('n');
    expect(s.text()).toBe('');
    const t = sink(true);
    const bar = progress('x', 3, { stream: t.stream });
    bar.tick();
    bar.done();
    bar.done('late summary');
    expect(t.text()).not.toContain('late summary');
  });

  it('a total learned late (and a stage per phase) starts the bar then', () => {
    const s = sink(false);
    const bar = progress('validate', 0, { stream: s.stream, force: true, intervalMs: 60_000 });
    expect(s.text()).toBe('');
    bar.update(2, 5, 'budget: retry');
    bar.update(1, 2, 'budget: dense_steer');
    bar.done('ok');
    expect(s.text()).toMatch(/validate \(budget: retry\) \[[=-]+\] 40% \| 2\/5/);
    expect(s.text()).toMatch(/validate \(budget: dense_steer\) \[[=-]+\] 50% \| 1\/2/);
  });
});
