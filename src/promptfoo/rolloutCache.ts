import { createHash } from 'node:crypto';
import { appendFile, readFile, truncate } from 'node:fs/promises';
import { z } from 'zod';
import { ensureWritableFile } from './writablePath.js';

/** What a cache entry keeps of a provider response. */
export interface CachedResponse {
  output: unknown;
  metadata: Record<string, unknown>;
  tokenUsage?: { prompt?: number; completion?: number; total?: number; numRequests?: number };
  cost?: number;
  /** The prompt's and every rollout's token ids (kept here, not in promptfoo's database, for the probe's prefix replay). */
  tokens?: { prompt: number[] | null; rollouts: number[][] };
}

const CacheLineSchema = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  response: z.object({ output: z.unknown(), metadata: z.record(z.string(), z.unknown()) }).loose(),
});

/** Lines of the cache file that could not be read, skipped (their rows are sampled again). */
export interface CorruptLines {
  count: number;
  /** 1-based line number of the first one. */
  firstLine: number;
}

/**
 * An append-only JSONL cache of captured rows, so an eval killed mid-run loses no finished
 * rollout and a rerun resumes without resampling them (each row is one append, written before
 * the provider returns). Keys hash everything that determines a row's rollouts. A torn last
 * line from a kill is cut off when the file is first read; a corrupt line elsewhere is skipped
 * and counted (`corrupt`), never fatal. The directory is created, and the file checked
 * writable, when the cache is made — before anything is sampled.
 */
export class RolloutCache {
  private entries: Promise<Map<string, CachedResponse>> | null = null;
  private writes: Promise<void> = Promise.resolve();
  /** Set once the file has been read, when some lines were unreadable. */
  corrupt: CorruptLines | null = null;

  constructor(readonly path: string) {
    ensureWritableFile(path, 'cache');
  }

  static key(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    return (await this.load()).get(key);
  }

  /** Every key in the file (after the first read). */
  async keys(): Promise<ReadonlySet<string>> {
    return new Set((await this.load()).keys());
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
        let parsed: z.output<typeof CacheLineSchema>;
        try {
          parsed = CacheLineSchema.parse(JSON.parse(line));
        } catch {
          this.corrupt = { count: (this.corrupt?.count ?? 0) + 1, firstLine: this.corrupt?.firstLine ?? i + 1 };
          return;
        }
        map.set(parsed.key, parsed.response as CachedResponse);
      });
      return map;
    })();
    return this.entries;
  }
}
