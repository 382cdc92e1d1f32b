import { createHash } from 'node:crypto';
import { appendFile, readFile, truncate } from 'node:fs/promises';

/** What a cache entry keeps of a provider response. */
export interface CachedResponse {
  output: unknown;
  metadata: Record<string, unknown>;
  tokenUsage?: { prompt?: number; completion?: number; total?: number; numRequests?: number };
  cost?: number;
}

/**
 * An append-only JSONL cache of captured rows, so an eval killed mid-run loses no finished
 * rollout and a rerun resumes without resampling them (each row is one append, written before
 * the provider returns). Keys hash everything that determines a row's rollouts. A torn last line
 * from a kill is cut off when the file is first read.
 */
export class RolloutCache {
  private entries: Promise<Map<string, CachedResponse>> | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  static key(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    return (await this.load()).get(key);
  }

  async put(key: string, response: CachedResponse): Promise<void> {
    const entries = await this.load();
    entries.set(key, response);
    this.writes = this.writes.then(() => appendFile(this.path, JSON.stringify({ key, response }) + '\n'));
    return this.writes;
  }

  private load(): Promise<Map<string, CachedResponse>> {
    this.entries ??= (async () => {
      const map = new Map<string, CachedResponse>();
      let text = '';
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return map;
      }
      if (text !== '' && !text.endsWith('\n')) {
        text = text.slice(0, text.lastIndexOf('\n') + 1);
        await truncate(this.path, Buffer.byteLength(text));
      }
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        try {
          const { key, response } = JSON.parse(line) as { key: string; response: CachedResponse };
          map.set(key, response);
        } catch (err) {
          throw new Error(`rollout cache ${this.path}, line ${i + 1}: ${(err as Error).message}; remove the line or the file`);
        }
      });
      return map;
    })();
    return this.entries;
  }
}
