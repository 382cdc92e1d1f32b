import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Measurements } from '../core/analysis/addMeasurements.js';
import { probeRowId } from '../core/analysis/measuredTruth.js';
import type { AttemptRecord } from '../core/analysis/rescueAtBudget.js';
import type { ProbeRecord } from '../core/contracts/probeRecord.js';
import type { Policy } from '../core/policy/policySchema.js';
import { InputError } from './inputError.js';
import { readPolicyFile } from './policyFile.js';
import { parseProbeTable } from './probeTable.js';

/** What the report was asked to read; each path as given. */
export interface MeasurementPaths {
  probe?: string | undefined;
  policy?: string | undefined;
  /** False when the policy was not named by the user (the one the rows were routed with): then its failures are noted, never refused. */
  policyNamed?: boolean | undefined;
  journal?: string | undefined;
}

export interface LoadedMeasurements extends Measurements {
  /** What was looked for and not used, or could not be checked (shown in the report). */
  notes: string[];
}

const JOURNAL_HEADER = '{"probe_journal":';

/**
 * A probe's settings fingerprint as the probe writes it on every record: the first 16 hex digits
 * of the sha-256 of the settings' JSON text, here taken verbatim from the journal's header line
 * (`{"probe_journal":1,"settings":<settings>}`), so no re-serialisation can change it.
 */
export function journalFingerprint(headerLine: string): string | null {
  const m = /^\{"probe_journal":\d+,"settings":(.*)\}$/.exec(headerLine.trim());
  return m ? createHash('sha256').update(m[1]!).digest('hex').slice(0, 16) : null;
}

/**
 * Reads what was measured on this model for the report — the probe's records (probe.csv or
 * JSONL), the learned policy (policy.json) and the probe journal — and checks that they belong
 * to one probe of this eval's population:
 * - the policy records the probe it was calibrated on (path, sha-256, settings fingerprint);
 *   without `probe`, that probe is looked for (its recorded path from next to the policy, then
 *   from the working directory, then its file name next to the policy) and used when its sha-256
 *   still matches; a different probe given beside it is a
 *   fresh measurement of the policy's estimates, used and said so;
 * - without `journal`, the probe's own `<probe>.journal.jsonl` is used when it exists;
 * - the journal's settings fingerprint must be the probe's (its records' `settings`), or the
 *   policy's record of it;
 * - at least one probed problem (probe or journal) must be a row of this eval (its problem_id a
 *   graded row's test_key or row-key prefix: `rows` answers which, see rowNames).
 * A file the user named that fails a check is refused with an InputError that says which check
 * and both sides (`strict`, the CLI); a file that was only looked for, or any failure when not
 * strict (the afterAll hook, which must not fail the eval), becomes a note and is not used.
 */
export async function loadMeasurements(paths: MeasurementPaths, options: { rows: RowNames; strict: boolean; cwd?: string }): Promise<LoadedMeasurements> {
  const cwd = options.cwd ?? process.cwd();
  /** A path as the report shows it: relative to the working directory when under it, else as it is. */
  const show = (p: string) => {
    if (!isAbsolute(p)) return p;
    const r = relative(cwd, p);
    return r === '' || r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  const notes: string[] = [];
  /** A failed check: refused for a file the user named (in strict mode), else noted. */
  const fail = (named: boolean, message: string): null => {
    if (named && options.strict) throw new InputError(message);
    notes.push(message);
    return null;
  };
  const attempt = async <T>(named: boolean, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (err) {
      if (named && options.strict) throw err;
      notes.push((err as Error).message);
      return null;
    }
  };

  // The policy.
  let policy: { path: string; policy: Policy } | null = null;
  if (paths.policy) {
    const p = paths.policy;
    policy = await attempt(paths.policyNamed !== false, async () => ({ path: show(p), policy: await readPolicyFile(p) }));
  }

  // The probe: named, or the one the policy was calibrated on.
  let probe: (NonNullable<Measurements['probe']> & { file: string; sha256: string }) | null = null;
  const readProbe = async (file: string) => {
    const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read probe ${file}: ${err.code ?? err.message}`);
    });
    const text = bytes.toString('utf8');
    if (text.startsWith(JOURNAL_HEADER)) {
      throw new InputError(`${file} is a probe journal, not the probe's records: pass the records (probe.csv or .jsonl) with --probe and the journal with --journal`);
    }
    const table = parseProbeTable(text, file);
    return { path: show(file), format: table.format, records: table.records, notes: table.notes, file, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  if (paths.probe) {
    const file = paths.probe;
    probe = await attempt(true, () => readProbe(file));
    if (probe && policy && policy.policy.probe.sha256 !== probe.sha256) {
      // A fresh probe of the same tests is a fair test of the policy: used, and said.
      notes.push(
        `${probe.path} is not the probe ${policy.path} was calibrated on (that one is ${policy.policy.probe.path}, sha-256 ${policy.policy.probe.sha256.slice(0, 12)}…; this one ${probe.sha256.slice(0, 12)}…): the agreement is measured on this probe, the policy's cross-validated rescue on its own`,
      );
    }
  } else if (policy) {
    const recorded = policy.policy.probe.path;
    // As recorded (relative to where calibrate ran: unknown here), next to the policy, or by its name next to the policy; the sha-256 decides.
    const candidates = isAbsolute(recorded) ? [recorded, join(dirname(paths.policy!), basename(recorded))] : [resolve(dirname(paths.policy!), recorded), resolve(cwd, recorded), join(dirname(paths.policy!), basename(recorded))];
    const found = candidates.find((c) => existsSync(c));
    if (!found) notes.push(`the probe ${policy.path} was calibrated on (${recorded}) was not found next to the policy or in the working directory: measured labels are not shown`);
    else {
      const read = await attempt(false, () => readProbe(found));
      if (read && read.sha256 !== policy.policy.probe.sha256) {
        notes.push(`${show(found)} has changed since ${policy.path} was calibrated on it (sha-256 ${read.sha256.slice(0, 12)}…, recorded ${policy.policy.probe.sha256.slice(0, 12)}…): measured labels are not shown`);
      } else probe = read;
    }
  }
  if (probe && !options.rows.nameAny(probe.records.map((r) => r.problem_id))) {
    probe = fail(
      Boolean(paths.probe),
      `none of the ${probe.records.length} rows of ${probe.path} is a test of this eval: it probed another population (its problem ids look like ${JSON.stringify(probe.records[0]?.problem_id ?? '')}; this eval's test keys look like ${JSON.stringify(options.rows.example ?? '')}; a probe names a row by its test_key or its row key's first 16 hex digits)`,
    );
  }

  // The journal: named, or the probe's own.
  let journal: NonNullable<Measurements['journal']> | null = null;
  const journalFile = paths.journal ?? (probe && existsSync(`${probe.file}.journal.jsonl`) ? `${probe.file}.journal.jsonl` : null);
  if (journalFile) {
    const named = Boolean(paths.journal);
    const read = await attempt(named, () => readJournal(journalFile));
    if (read) {
      const expected = probe ? recordSettings(probe.records) : (policy?.policy.probe.settings ?? null);
      const against = probe ? `${probe.path}'s rows` : policy ? `the probe ${policy.path} was calibrated on` : null;
      if (against && expected !== null && read.settings !== null && read.settings !== expected) {
        fail(named, `${show(journalFile)} is the journal of another probe: its settings fingerprint is ${read.settings}, ${against} carry ${expected} (a probe with other settings, rows or models); pass that probe's own <out>.journal.jsonl`);
      } else if (!options.rows.nameAny(read.entries.map((e) => e.problem_id))) {
        fail(
          named,
          `none of the problems in ${show(journalFile)} is a test of this eval: it probed another population (its problem ids look like ${JSON.stringify(read.entries[0]?.problem_id ?? '')}; this eval's test keys look like ${JSON.stringify(options.rows.example ?? '')})`,
        );
      } else {
        if (against && (expected === null || read.settings === null)) notes.push(`${show(journalFile)}: its settings could not be checked against ${against} (no fingerprint on one side)`);
        journal = { path: show(journalFile), settings: read.settings, entries: read.entries };
      }
    }
  }
  return { policy, probe: probe ? { path: probe.path, format: probe.format, records: probe.records, notes: probe.notes } : null, journal, notes };
}

/** The names a probe may give a row of this eval — its test_key, its row key's probe id — asked of a few ids at a time. */
export interface RowNames {
  /** Whether any of `ids` names a row. */
  nameAny(ids: readonly string[]): boolean;
  /** A name of the first row (for messages), if there is a row. */
  example: string | undefined;
}

/** RowNames of these rows: each question is one pass over them, with the ids in a set (no set of 100k names is built). */
export function rowNames(rows: readonly { test_key: string; row_key?: string | null }[]): RowNames {
  return {
    nameAny(ids) {
      const wanted = new Set(ids);
      if (wanted.size === 0) return false;
      for (const r of rows) if (wanted.has(r.test_key) || (r.row_key && wanted.has(probeRowId(r.row_key)))) return true;
      return false;
    },
    example: rows[0]?.test_key,
  };
}

/** The one settings fingerprint of a probe's records, or null when they carry none (or several). */
function recordSettings(records: readonly ProbeRecord[]): string | null {
  const seen = new Set(records.map((r) => r.settings));
  return seen.size === 1 ? (seen.values().next().value ?? null) : null;
}

/** A probe journal's attempts and its settings fingerprint; an InputError naming the file when it is not one. */
async function readJournal(path: string): Promise<{ settings: string | null; entries: AttemptRecord[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read probe journal ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = text.split('\n');
  if (!lines[0]?.startsWith(JOURNAL_HEADER)) throw new InputError(`${path} is not a probe journal (its first line is not a probe_journal header)`);
  const entries: AttemptRecord[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    let e: Partial<AttemptRecord> & Record<string, unknown>;
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      if (i === lines.length - 2) return; // a torn last line from a killed probe
      throw new InputError(`${path}, line ${i + 2}: not valid JSON; a probe journal holds one attempt per line`);
    }
    const ok = typeof e.problem_id === 'string' && Number.isInteger(e.rollout) && typeof e.operator === 'string' && Number.isInteger(e.attempt) && typeof e.success === 'boolean';
    if (!ok) throw new InputError(`${path}, line ${i + 2}: not a probe attempt (needs problem_id, rollout, operator, attempt, success)`);
    entries.push({
      problem_id: e.problem_id!,
      rollout: e.rollout!,
      operator: e.operator!,
      attempt: e.attempt!,
      success: e.success!,
      ...(typeof e.phase === 'string' ? { phase: e.phase } : {}),
      ...(typeof e.tokens === 'number' ? { tokens: e.tokens } : {}),
      ...(typeof e.prompt_tokens === 'number' ? { prompt_tokens: e.prompt_tokens } : {}),
    });
  });
  return { settings: journalFingerprint(lines[0]!), entries };
}
