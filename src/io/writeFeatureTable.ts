import { FEATURE_TABLE_COLUMNS } from '../core/contracts/featureRow.js';
import type { ProblemRecord } from '../core/contracts/problemRecord.js';
import { PAPER_OPERATORS } from '../core/contracts/operators.js';

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Problem records as the paper's feature table plus a `label` column, so `recoverability route`
 * reads it back. Extra operators (beyond the paper's five) are appended as further columns.
 * Throws when a record lacks a feature or a rescue rate the table needs, naming it.
 */
export function writeFeatureTable(records: readonly ProblemRecord[]): string {
  const extra = [...new Set(records.flatMap((r) => Object.keys(r.rescue ?? {})))].filter((op) => !(PAPER_OPERATORS as readonly string[]).includes(op));
  const header = [...FEATURE_TABLE_COLUMNS, ...extra, 'label'];
  const lines = [header.join(',')];
  for (const r of records) {
    const need = (name: string, v: number | null | undefined): number => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`problem ${r.problem_id}: "${name}" is ${v}; a feature table needs every feature and rescue rate`);
      }
      return v;
    };
    const row = [
      r.cell,
      r.model ?? r.cell.split('|')[0] ?? '',
      r.task ?? r.cell.split('|')[1] ?? '',
      r.problem_id,
      r.n_failed_rollouts,
      need('spread', r.features.spread),
      need('concentration', r.features.concentration),
      need('logit_dispersion', r.features.logit_dispersion),
      ...[...PAPER_OPERATORS, ...extra].map((op) => need(op, r.rescue?.[op])),
      r.label ?? '',
    ];
    lines.push(row.map(field).join(','));
  }
  return lines.join('\n') + '\n';
}
