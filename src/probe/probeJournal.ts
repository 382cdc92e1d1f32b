import { appendFile, readFile } from 'node:fs/promises';
import { z } from 'zod';

/** One finished attempt, as appended to the journal (one JSON object per line). */
export const AttemptEntrySchema = z.object({
  problem_id: z.string(),
  rollout: z.number().int().nonnegative(),
  operator: z.string(),
  attempt: z.number().int().nonnegative(),
  success: z.boolean(),
  position: z.number().int().nullable(),
  token: z.number().int().nullable(),
  text: z.string().optional(),
});
export type AttemptEntry = z.infer<typeof AttemptEntrySchema>;

const key = (e: Pick<AttemptEntry, 'problem_id' | 'rollout' | 'operator' | 'attempt'>) =>
  `${e.problem_id}\u0000${e.rollout}\u0000${e.operator}\u0000${e.attempt}`;

/**
 * Where probe attempts go as they finish: an append-only JSONL file (each line written by one
 * append, so a killed run loses at most the attempts in flight), or memory when no path is given.
 * A rerun with the same file skips every attempt already recorded. A torn last line from a kill
 * is ignored; any other bad line is an error naming the line.
 */
export class ProbeJournal {
  private readonly done = new Map<string, AttemptEntry>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string | null) {}

  static inMemory(): ProbeJournal {
    return new ProbeJournal(null);
  }

  static async open(path: string): Promise<ProbeJournal> {
    const journal = new ProbeJournal(path);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let entry: AttemptEntry;
      try {
        entry = AttemptEntrySchema.parse(JSON.parse(line));
      } catch (err) {
        const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
        if (isLast) return; // torn write of an interrupted run: that attempt reruns
        throw new Error(`${path}, line ${i + 1}: not a probe journal entry (${(err as Error).message.split('\n')[0]}); remove the line or the file`);
      }
      journal.done.set(key(entry), entry);
    });
    if (text.length > 0 && !text.endsWith('\n')) {
      journal.writes = appendFile(path, '\n'); // close a torn line so new entries start clean
    }
    return journal;
  }

  get(problemId: string, rollout: number, operator: string, attempt: number): AttemptEntry | undefined {
    return this.done.get(key({ problem_id: problemId, rollout, operator, attempt }));
  }

  get size(): number {
    return this.done.size;
  }

  /** Records an attempt; resolves once it is written. */
  record(entry: AttemptEntry): Promise<void> {
    this.done.set(key(entry), entry);
    if (this.path === null) return Promise.resolve();
    const path = this.path;
    this.writes = this.writes.then(() => appendFile(path, JSON.stringify(entry) + '\n'));
    return this.writes;
  }

  /** Resolves when every recorded entry is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }
}
