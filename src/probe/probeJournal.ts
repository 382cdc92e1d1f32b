import { appendFile, readFile, truncate } from 'node:fs/promises';
import { z } from 'zod';

/** The phases of a probe (see rescueProbe.ts): label, fresh eval attempts, an independent re-probe. */
export const PROBE_PHASES = ['label', 'eval', 'reprobe'] as const;
export type ProbePhase = (typeof PROBE_PHASES)[number];

/** One finished attempt, as appended to the journal (one JSON object per line). */
export const AttemptEntrySchema = z.object({
  problem_id: z.string(),
  rollout: z.number().int().nonnegative(),
  operator: z.string(),
  attempt: z.number().int().nonnegative(),
  /** Absent for the label phase (journals written before phases existed are label-only). */
  phase: z.enum(PROBE_PHASES).optional(),
  success: z.boolean(),
  position: z.number().int().nullable(),
  token: z.number().int().nullable(),
  text: z.string().optional(),
  /** What the attempt cost: tokens generated, tokens read (prompts, prefixes), requests. */
  tokens: z.number().int().nonnegative().optional(),
  prompt_tokens: z.number().int().nonnegative().optional(),
  requests: z.number().int().nonnegative().optional(),
});
export type AttemptEntry = z.infer<typeof AttemptEntrySchema>;

/** A journal on disk belongs to a probe with different settings. */
export class JournalMismatchError extends Error {
  override readonly name = 'JournalMismatchError';
}

const key = (e: Pick<AttemptEntry, 'problem_id' | 'rollout' | 'operator' | 'attempt' | 'phase'>) =>
  `${e.phase ?? 'label'}\u0000${e.problem_id}\u0000${e.rollout}\u0000${e.operator}\u0000${e.attempt}`;

/**
 * Where probe attempts go as they finish: an append-only JSONL file (each line written by one
 * append, so a killed run loses at most the attempts in flight), or memory when no path is given.
 * A rerun with the same file skips every attempt already recorded. A torn last line from a kill
 * is cut off on open; any other bad line is an error naming the line.
 */
export class ProbeJournal {
  private readonly done = new Map<string, AttemptEntry>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string | null) {}

  static inMemory(): ProbeJournal {
    return new ProbeJournal(null);
  }

  /**
   * Opens (or starts) the journal at `path` for a probe with the given settings. The first line
   * records them; reopening with other settings is refused, since its attempts would not apply.
   */
  static async open(path: string, settings: unknown = {}): Promise<ProbeJournal> {
    const journal = new ProbeJournal(path);
    const header = JSON.stringify({ probe_journal: 1, settings });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== '' && !text.endsWith('\n')) {
      // A run killed mid-write leaves a torn last line: cut it off, that attempt simply reruns.
      text = text.slice(0, text.lastIndexOf('\n') + 1);
      await truncate(path, Buffer.byteLength(text));
    }
    if (text.trim() === '') {
      await appendFile(path, header + '\n');
      return journal;
    }
    const lines = text.split('\n');
    if (lines[0] !== header) {
      throw new JournalMismatchError(
        `${path} was written by a probe with other settings (${lines[0]?.slice(0, 200)}); ` +
          `delete it to start over, or rerun with the settings it records`,
      );
    }
    lines.slice(1).forEach((line, k) => {
      const i = k + 1;
      if (line.trim() === '') return;
      let entry: AttemptEntry;
      try {
        entry = AttemptEntrySchema.parse(JSON.parse(line));
      } catch (err) {
        throw new Error(`${path}, line ${i + 1}: not a probe journal entry (${(err as Error).message.split('\n')[0]}); remove the line or the file`);
      }
      journal.done.set(key(entry), entry);
    });
    return journal;
  }

  get(problemId: string, rollout: number, operator: string, attempt: number, phase: ProbePhase = 'label'): AttemptEntry | undefined {
    return this.done.get(key({ problem_id: problemId, rollout, operator, attempt, phase }));
  }

  get size(): number {
    return this.done.size;
  }

  /** Every recorded attempt. */
  entries(): AttemptEntry[] {
    return [...this.done.values()];
  }

  /** Reads a journal without adopting its settings (for reports). */
  static async read(path: string): Promise<AttemptEntry[]> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read probe journal ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const [header, ...lines] = text.split('\n');
    if (!header?.startsWith('{"probe_journal":')) throw new Error(`${path} is not a probe journal (its first line is not a probe_journal header)`);
    return lines.filter((l) => l.trim() !== '').flatMap((l) => {
      try {
        return [AttemptEntrySchema.parse(JSON.parse(l))];
      } catch {
        return []; // a torn last line from a killed probe
      }
    });
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
