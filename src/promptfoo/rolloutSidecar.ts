import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { ensureWritableFile } from './writablePath.js';

/**
 * The sidecar trace file: one JSON line per rollout with every position's top-K, tagged with
 * its row's cache key (`row_key`). A row's lines are appended before the row enters the rollout
 * cache, so every cached row has its trace. A kill between the two writes leaves lines of a row
 * the cache does not have; before the first append of a run they are removed (with a torn last
 * line), so the row, sampled again, is not traced twice. Cached rows are never appended again.
 */
export class RolloutSidecar {
  private ready: Promise<void> | null = null;
  private writes: Promise<void> = Promise.resolve();
  /** Lines removed when the file was reconciled with the cache. */
  removedLines = 0;

  constructor(
    readonly path: string,
    /** The row keys the rollout cache holds; without a cache nothing is removed but a torn last line. */
    private readonly cachedKeys: (() => Promise<ReadonlySet<string>>) | null,
  ) {
    ensureWritableFile(path, 'sidecar');
  }

  /** Appends a row's lines (each a JSON object), after reconciling the file once. */
  append(rowKey: string, lines: readonly Record<string, unknown>[]): Promise<void> {
    this.ready ??= this.reconcile();
    const text = lines.map((l) => JSON.stringify({ row_key: rowKey, ...l })).join('\n') + '\n';
    this.writes = this.writes.then(() => this.ready).then(() => appendFile(this.path, text));
    return this.writes;
  }

  private async reconcile(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const keys = this.cachedKeys ? await this.cachedKeys() : null;
    const lines = text.split('\n');
    const torn = lines.pop() ?? ''; // '' when the file ends with a newline
    const kept = lines.filter((line) => {
      if (!keys || line.trim() === '') return true;
      try {
        const rowKey = (JSON.parse(line) as { row_key?: unknown }).row_key;
        return typeof rowKey !== 'string' || keys.has(rowKey);
      } catch {
        return false;
      }
    });
    this.removedLines = lines.length - kept.length + (torn === '' ? 0 : 1);
    if (this.removedLines === 0) return;
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, kept.map((l) => l + '\n').join(''));
    await rename(tmp, this.path);
  }
}
