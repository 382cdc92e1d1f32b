import { z } from 'zod';
import { LabelSchema, PAPER_OPERATORS } from './operators.js';
import type { ProblemRecord } from './problemRecord.js';

/**
 * A decimal number as written in a table: optional sign, digits with an optional fraction, an
 * optional exponent. `Number()` alone also reads `0x10` as 16, `0b11` as 3, `Infinity` and `''` as 0.
 */
export const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV cell holding a finite decimal number (no blanks, no hex/binary/octal, no Infinity). */
const numericCell = z
  .string()
  .trim()
  .min(1, 'empty cell: expected a number')
  .refine((s) => DECIMAL_NUMBER.test(s) && Number.isFinite(Number(s)), { message: 'expected a finite number, written in decimal (like 0.25 or -1.5e-3; not hex, not Infinity)' })
  .transform(Number);

const rateCell = numericCell.pipe(z.number().min(0, 'a rescue rate is ≥ 0').max(1, 'a rescue rate is ≤ 1'));
const countCell = numericCell.pipe(z.number().int('expected a whole number').nonnegative());

/** Column order of the paper's table (shared/data/NOTICE.md); probe output appends `label`. */
export const FEATURE_TABLE_COLUMNS = [
  'cell',
  'model',
  'task',
  'problem_id',
  'n_failed_rollouts',
  'spread',
  'concentration',
  'logit_dispersion',
  ...PAPER_OPERATORS,
] as const;

/** One row of the paper's feature table, as read from CSV (all cells are strings). */
export const FeatureRowSchema = z.object({
  cell: z.string().min(1, 'empty cell: expected a model|task cell name'),
  model: z.string(),
  task: z.string(),
  problem_id: z.string().min(1, 'empty cell: expected a problem id'),
  n_failed_rollouts: countCell,
  spread: numericCell,
  concentration: numericCell,
  logit_dispersion: numericCell,
  retry: rateCell,
  sparse_steer: rateCell,
  sparse_steer_random: rateCell,
  local_temp: rateCell,
  dense_steer: rateCell,
  label: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()))
    .pipe(LabelSchema.optional()),
});
export type FeatureRow = z.output<typeof FeatureRowSchema>;

/** A feature-table row as a problem record (the common currency of the core). */
export function featureRowToRecord(row: FeatureRow): ProblemRecord {
  const rescue: Record<string, number> = {};
  for (const op of PAPER_OPERATORS) rescue[op] = row[op];
  return {
    problem_id: row.problem_id,
    cell: row.cell,
    model: row.model,
    task: row.task,
    n_failed_rollouts: row.n_failed_rollouts,
    features: {
      spread: row.spread,
      concentration: row.concentration,
      logit_dispersion: row.logit_dispersion,
    },
    rescue,
    ...(row.label ? { label: row.label } : {}),
  };
}
