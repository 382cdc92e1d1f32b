import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { closest, distance } from 'fastest-levenshtein';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { FEATURE_TABLE_COLUMNS } from '../core/contracts/featureRow.js';
import { PROBE_SIGNALS, ProbeRecordSchema, probeOperators, type ProbeRecord, type ProbeRecordInput } from '../core/contracts/probeRecord.js';
import { InputError } from './inputError.js';
import { parseFeatureTableCsv } from './loadProblemRecords.js';

/** probe.csv's columns before the per-operator ones. */
export const PROBE_LEAD_COLUMNS = [
  'problem_id',
  'description',
  'cell',
  'model',
  'task',
  'n_rollouts',
  'n_passed',
  ...PROBE_SIGNALS.slice(0, 4),
  'ancestor_pass_rate',
  'ancestor_samples',
  ...PROBE_SIGNALS.slice(5),
  'n_probed',
  'label_attempts',
  'eval_attempts',
] as const;
/** probe.csv's columns after the per-operator ones. */
export const PROBE_TAIL_COLUMNS = ['label', 'reprobe_label', 'split', 'settings'] as const;

const TEXT_COLUMNS = new Set(['problem_id', 'description', 'cell', 'model', 'task', 'label', 'reprobe_label', 'split', 'settings']);
const FIXED_COLUMNS = new Set<string>([...PROBE_LEAD_COLUMNS, ...PROBE_TAIL_COLUMNS]);

/** The operators named by a header's `<prefix>_<op>` columns (prefix label or eval). */
function operatorsIn(header: readonly string[], prefix: 'label' | 'eval'): string[] {
  return header.filter((c) => c.startsWith(`${prefix}_`) && !FIXED_COLUMNS.has(c)).map((c) => c.slice(prefix.length + 1));
}

/**
 * probe.csv's header for these operators: identity, counts and signals, the probe's sizes, then
 * `label_<op>` for every operator, `eval_<op>` for every operator, `tokens_<op>` for every
 * operator, then label, reprobe_label, split, settings. A blank cell means "not measured".
 */
export function probeCsvColumns(operators: readonly string[]): string[] {
  return [...PROBE_LEAD_COLUMNS, ...operators.map((op) => `label_${op}`), ...operators.map((op) => `eval_${op}`), ...operators.map((op) => `tokens_${op}`), ...PROBE_TAIL_COLUMNS];
}

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record as a probe.csv line (no newline) under `probeCsvColumns(operators)`; for appending as a probe runs. */
export function probeCsvLine(record: ProbeRecord, operators: readonly string[]): string {
  const r = record as unknown as Record<string, unknown>;
  return probeCsvColumns(operators)
    .map((col) => {
      if (FIXED_COLUMNS.has(col)) return field(r[col] as string | number | null);
      if (col.startsWith('label_')) return field(record.label_rescue[col.slice(6)]);
      if (col.startsWith('eval_')) return field(record.eval_rescue[col.slice(5)]);
      return field(record.tokens[col.slice(7)]);
    })
    .join(',');
}

/** Records as probe.csv (header and one line per record). Throws when they measured different operators. */
export function formatProbeCsv(records: readonly ProbeRecord[]): string {
  const operators = records.length > 0 ? probeOperators(records[0]!) : ['retry'];
  records.forEach((r, i) => {
    const ops = probeOperators(r);
    if (ops.length !== operators.length || ops.some((op) => !operators.includes(op))) {
      throw new Error(`record #${i} (${r.problem_id}) measured ${ops.join(', ')}, not ${operators.join(', ')}: one probe.csv holds one set of operators`);
    }
  });
  return [probeCsvColumns(operators).join(','), ...records.map((r) => probeCsvLine(r, operators))].join('\n') + '\n';
}

/** Records as JSONL, one record (the zod contract's shape) per line. */
export function formatProbeJsonl(records: readonly ProbeRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}

/** Writes records as JSONL (`.jsonl`) or probe.csv (anything else). */
export async function writeProbeTable(path: string, records: readonly ProbeRecord[]): Promise<void> {
  await writeFile(path, extname(path).toLowerCase() === '.jsonl' ? formatProbeJsonl(records) : formatProbeCsv(records));
}

/** What was read: the records, the format found, and what the reader should know about it. */
export interface ProbeTable {
  records: ProbeRecord[];
  format: 'probe-csv' | 'probe-jsonl' | 'feature-table';
  notes: string[];
}

/**
 * Reads probe records from probe.csv, from JSONL (one record per line), or from a feature table
 * (the paper's data/failure_profiles.csv or the old `recoverability probe --sim` CSV): a feature
 * table has one set of rescue rates per row, so label and eval coincide (split "same") and its
 * numbers carry the selection bias; a note says so. Every failure is an InputError naming the
 * file, the line, the column and the fix.
 */
export async function readProbeTable(path: string): Promise<ProbeTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseProbeTable(text, path);
}

/** parseProbeTable's text form of readProbeTable; `source` names the input in messages. */
export function parseProbeTable(text: string, source: string): ProbeTable {
  if (text.trim() === '') throw new InputError(`${source} is empty: expected probe.csv, probe records (JSONL) or a feature table`);
  if (extname(source).toLowerCase() === '.jsonl' || /^\s*\{/.test(text)) return { records: parseProbeJsonl(text, source), format: 'probe-jsonl', notes: [] };
  const header = firstCsvRow(text, source);
  if (operatorsIn(header, 'label').length > 0) return { records: parseProbeCsv(text, source), format: 'probe-csv', notes: [] };
  if (FEATURE_TABLE_COLUMNS.every((c) => header.includes(c))) {
    const records = parseFeatureTableCsv(text, source).map((p, i) =>
      parseRecord(
        {
          problem_id: p.problem_id,
          cell: p.cell,
          model: p.model ?? null,
          task: p.task ?? null,
          spread: p.features.spread,
          concentration: p.features.concentration,
          logit_dispersion: p.features.logit_dispersion,
          label_rescue: p.rescue!,
          eval_rescue: p.rescue!,
          split: 'same',
        },
        `${source}, line ${i + 2}`,
        (path) => path,
      ),
    );
    return {
      records,
      format: 'feature-table',
      notes: [
        `${source} is a feature table (the paper's, or the old probe --sim output): one set of rescue rates per row, so label and eval coincide and its numbers carry the selection bias; it has no pass rate, ancestor or black-box signals, and its labels are recomputed by Eq. 2`,
      ],
    };
  }
  throw new InputError(
    `${source} is neither probe.csv (columns ${PROBE_LEAD_COLUMNS.slice(0, 3).join(',')},…,label_<operator>,…,eval_<operator>,…,split) nor a feature table (columns ${FEATURE_TABLE_COLUMNS.join(',')}): header is ${header.join(',')}`,
  );
}

function firstCsvRow(text: string, source: string): string[] {
  try {
    const rows = parse(text, { to_line: 1, trim: true, bom: true, relax_column_count: true }) as string[][];
    return rows[0] ?? [];
  } catch (err) {
    throw new InputError(`${source}: not valid CSV: ${(err as Error).message}`);
  }
}

/** Parses probe.csv text into records (see probeCsvColumns). */
export function parseProbeCsv(text: string, source = 'probe.csv'): ProbeRecord[] {
  let parsed: { record: Record<string, string>; info: { lines: number } }[];
  try {
    parsed = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, info: true }) as typeof parsed;
  } catch (err) {
    throw new InputError(`${source}: not valid CSV: ${(err as Error).message}`);
  }
  const header = firstCsvRow(text, source);
  if (parsed.length === 0) throw new InputError(`${source} has a header but no rows: the probe wrote no failing row`);
  const labelOps = operatorsIn(header, 'label');
  const evalOps = operatorsIn(header, 'eval');
  for (const op of labelOps) if (!evalOps.includes(op)) throw new InputError(`${source} has column "label_${op}" but no "eval_${op}": every operator needs both rescue rates (label and eval splits)`);
  for (const op of evalOps) if (!labelOps.includes(op)) throw new InputError(`${source} has column "eval_${op}" but no "label_${op}": every operator needs both rescue rates (label and eval splits)`);
  if (!labelOps.includes('retry')) throw new InputError(`${source} has no "label_retry"/"eval_retry" columns: Eq. 2 compares every operator with retry`);
  const known = new Set<string>(probeCsvColumns(labelOps));
  for (const c of header) {
    if (!known.has(c)) {
      const suggestion = closest(c, [...known]);
      const hint = distance(c, suggestion) <= 3 ? `did you mean "${suggestion}"?` : `the columns are ${[...PROBE_LEAD_COLUMNS, 'label_<op>', 'eval_<op>', 'tokens_<op>', ...PROBE_TAIL_COLUMNS].join(', ')}`;
      throw new InputError(`${source}, line 1: unknown column "${c}": ${hint}`);
    }
  }
  if (!header.includes('split')) throw new InputError(`${source} has no "split" column: say for each row whether label and eval rates come from disjoint attempts ("disjoint") or the same ones ("same")`);

  return parsed.map(({ record, info }) => {
    const where = `${source}, line ${info.lines}`;
    const input: Record<string, unknown> = { label_rescue: {}, eval_rescue: {}, tokens: {} };
    for (const [col, raw] of Object.entries(record)) {
      const value = raw.trim();
      if (TEXT_COLUMNS.has(col)) {
        if (value !== '') input[col] = value;
        else if (col !== 'label' && col !== 'cell') input[col] = null;
        continue;
      }
      let n: number | null = null;
      if (value !== '') {
        n = Number(value);
        if (!Number.isFinite(n)) throw new InputError(`${where}: column "${col}": "${value}" is not a number (leave the cell blank when it was not measured)`);
      }
      if (FIXED_COLUMNS.has(col)) input[col] = n;
      else if (col.startsWith('label_')) (input.label_rescue as Record<string, unknown>)[col.slice(6)] = n;
      else if (col.startsWith('eval_')) (input.eval_rescue as Record<string, unknown>)[col.slice(5)] = n;
      else if (col.startsWith('tokens_')) {
        if (n !== null) (input.tokens as Record<string, unknown>)[col.slice(7)] = n;
      }
    }
    return parseRecord(input as ProbeRecordInput, where, csvColumnOf);
  });
}

/** Parses JSONL text, one probe record per line. */
export function parseProbeJsonl(text: string, source = 'probe.jsonl'): ProbeRecord[] {
  const records: ProbeRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}, line ${i + 1}`;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${where}: not valid JSON: ${(err as Error).message}`);
    }
    records.push(parseRecord(data as ProbeRecordInput, where, (path) => path));
  });
  if (records.length === 0) throw new InputError(`${source} holds no probe records`);
  return records;
}

/** The probe.csv column behind a record path, e.g. `label_rescue.retry` → `label_retry`. */
function csvColumnOf(path: string): string {
  const m = /^(label_rescue|eval_rescue|tokens)(?:\.(.+))?$/.exec(path);
  if (!m) return path;
  const prefix = m[1] === 'label_rescue' ? 'label' : m[1] === 'eval_rescue' ? 'eval' : 'tokens';
  return `${prefix}_${m[2] ?? '*'}`;
}

function parseRecord(input: ProbeRecordInput, where: string, columnOf: (path: string) => string): ProbeRecord {
  try {
    return parseWith(ProbeRecordSchema, input, where);
  } catch (err) {
    if (err instanceof ContractError) {
      const noun = columnOf === csvColumnOf ? 'column' : 'field';
      throw new InputError(`${where}: ${err.problems.map((p) => `${noun} "${columnOf(p.path)}": ${p.message}`).join('; ')}`);
    }
    throw err;
  }
}
