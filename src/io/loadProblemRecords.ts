import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { FEATURE_TABLE_COLUMNS, FeatureRowSchema, featureRowToRecord } from '../core/contracts/featureRow.js';
import { ProblemRecordSchema, type ProblemRecord } from '../core/contracts/problemRecord.js';
import { InputError } from './inputError.js';

/**
 * Reads problem records from a feature table (the paper's CSV, optionally with a `label`
 * column) or from JSON (an array of problem records, or `{"records": [...]}`) or JSONL.
 * Every failure is an InputError naming the file, the line or record, the column, and the fix.
 */
export async function loadProblemRecords(path: string): Promise<ProblemRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.trim() === '') throw new InputError(`${path} is empty: expected a feature table (CSV) or problem records (JSON)`);
  const ext = extname(path).toLowerCase();
  const looksJson = ext === '.json' || ext === '.jsonl' || /^\s*[[{]/.test(text);
  return looksJson ? parseRecordsJson(text, path, ext === '.jsonl') : parseFeatureTableCsv(text, path);
}

/**
 * Parses the paper's feature-table CSV into problem records. A column named twice is refused
 * (a CSV reader would keep the last silently). Errors name the line and column, never quote the file.
 */
export function parseFeatureTableCsv(text: string, source = 'feature table'): ProblemRecord[] {
  let rows: Record<string, string>[];
  const columns = (header: string[]) => {
    const seen = new Map<string, number>();
    header.forEach((name, i) => {
      const first = seen.get(name);
      if (first !== undefined) {
        const known = (FEATURE_TABLE_COLUMNS as readonly string[]).includes(name) || name === 'label';
        throw new InputError(`${source} names ${known ? `the column "${name}"` : 'a column'} twice (columns ${first + 1} and ${i + 1}); a feature table names each column once`);
      }
      seen.set(name, i);
    });
    return header;
  };
  try {
    rows = parse(text, { columns, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as { code?: string; lines?: number };
    throw new InputError(`${source}: not valid CSV${e.lines ? ` at line ${e.lines}` : ''}${e.code ? ` (${e.code})` : ''}`);
  }
  if (rows.length === 0) throw new InputError(`${source} has a header but no rows`);
  const header = Object.keys(rows[0]!);
  const missing = FEATURE_TABLE_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new InputError(
      `${source} is missing column(s) ${missing.map((c) => `"${c}"`).join(', ')}; ` +
        `a feature table has the columns ${FEATURE_TABLE_COLUMNS.join(',')} (plus an optional label)`,
    );
  }
  return rows.map((row, i) => {
    // Line numbers count the header as line 1.
    const where = `${source}, line ${i + 2}`;
    try {
      return featureRowToRecord(parseWith(FeatureRowSchema, row, where));
    } catch (err) {
      throw toInputError(err, where, 'column');
    }
  });
}

function parseRecordsJson(text: string, source: string, jsonl: boolean): ProblemRecord[] {
  let data: unknown;
  if (jsonl) {
    data = text.split('\n').flatMap((l, i) => {
      if (l.trim() === '') return [];
      try {
        return [JSON.parse(l) as unknown];
      } catch {
        throw new InputError(`${source}: line ${i + 1} is not valid JSON`);
      }
    });
  } else {
    try {
      data = JSON.parse(text) as unknown;
    } catch {
      // Never the parser's message: it quotes the file.
      throw new InputError(`${source}: not valid JSON`);
    }
  }
  const list = Array.isArray(data) ? data : (data as { records?: unknown })?.records;
  if (!Array.isArray(list)) {
    throw new InputError(`${source}: expected an array of problem records or {"records": [...]}`);
  }
  if (list.length === 0) throw new InputError(`${source} holds no problem records`);
  return list.map((item, i) => {
    const where = `${source}, record #${i}`;
    try {
      return parseWith(ProblemRecordSchema, item, where);
    } catch (err) {
      throw toInputError(err, where, 'field');
    }
  });
}

function toInputError(err: unknown, where: string, noun: 'column' | 'field'): InputError {
  if (err instanceof ContractError) {
    const lines = err.problems.map((p) => `${noun} "${p.path}": ${p.message}`);
    return new InputError(`${where}: ${lines.join('; ')}`);
  }
  return new InputError(`${where}: ${(err as Error).message}`);
}
