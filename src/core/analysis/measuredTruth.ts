import type { EvalReportRow, Measured } from '../contracts/evalReport.js';
import { LABELS, type Label } from '../contracts/operators.js';
import type { ProbeRecord } from '../contracts/probeRecord.js';
import { accuracy, balancedAccuracy } from '../policy/balancedAccuracy.js';
import { cohenKappa } from '../policy/cohenKappa.js';
import { confusionMatrix } from '../policy/confusionMatrix.js';

/** A probe's records, as read (`readProbeTable`), and where they came from. */
export interface ProbeInput {
  path: string;
  format: string;
  records: readonly ProbeRecord[];
  notes?: readonly string[];
}

/** How the probe names a row by its RolloutProvider row key: its first 16 hex digits. */
export const probeRowId = (rowKey: string) => rowKey.slice(0, 16);

/** The estimated regimes a confusion matrix has columns for, in reading order. */
const ESTIMATED = ['resample', 'steerable', 'beyond_reach', 'retry_insufficient'] as const;

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * The probe joined to this eval's rows, and what it measured:
 * - a record joins the graded row its `problem_id` names — the row's `test_key`, else the first 16
 *   hex digits of its RolloutProvider row key (what `recoverability probe` writes) — when exactly
 *   one row has it (a test repeated over prompts, providers or `--repeat` is ambiguous by its
 *   test_key: left out, counted);
 * - regime shares: the Eq. 2 labels of every probe record (the probe's own sample of failing rows);
 * - agreement, on the joined rows: confusion[measured label][estimated regime], accuracy,
 *   balanced accuracy (mean recall over the labels present; an estimate that is not a label —
 *   retry_insufficient — counts as wrong; rows solved in this eval are left out), and the majority class for comparison
 *   (always the commonest label: accuracy = its share, balanced accuracy = 1 / labels present);
 *   `estimate` says whether those rows carry the learned policy's estimate or the paper's rule;
 * - the ceiling: label vs independent re-probe label on the records that have one (agreement,
 *   Cohen's κ, balanced accuracy), the best any estimate can agree with a noisy label.
 * Returns the section and each joined row's measurement, by row key.
 */
export function measuredTruth(rows: readonly EvalReportRow[], probe: ProbeInput): { measured: Measured; byRow: Map<string, NonNullable<EvalReportRow['measured']>> } {
  const byKey = new Map<string, EvalReportRow[]>();
  const byRowKey = new Map<string, EvalReportRow[]>();
  const add = (map: Map<string, EvalReportRow[]>, key: string, r: EvalReportRow) => {
    const list = map.get(key);
    if (list) list.push(r);
    else map.set(key, [r]);
  };
  for (const r of rows) {
    add(byKey, r.test_key, r);
    if (r.row_key) add(byRowKey, probeRowId(r.row_key), r);
  }
  const joined: { row: EvalReportRow; record: ProbeRecord }[] = [];
  const unmatched: string[] = [];
  let ambiguous = 0;
  for (const record of probe.records) {
    const hits = byKey.get(record.problem_id) ?? byRowKey.get(record.problem_id) ?? [];
    if (hits.length === 1) joined.push({ row: hits[0]!, record });
    else if (hits.length === 0) unmatched.push(record.problem_id);
    else ambiguous++;
  }

  const byRow = new Map<string, NonNullable<EvalReportRow['measured']>>();
  for (const { row, record } of joined) {
    const routeRescue = row.route !== null && record.eval_rescue[row.route] !== undefined ? record.eval_rescue[row.route]! : null;
    byRow.set(row.key, { label: record.label, reprobe_label: record.reprobe_label, eval_rescue: { ...record.eval_rescue }, route_rescue: routeRescue });
  }

  const counts = Object.fromEntries(LABELS.map((l) => [l, probe.records.filter((r) => r.label === l).length])) as Record<Label, number>;
  const n = probe.records.length;
  const shares = Object.fromEntries(LABELS.map((l) => [l, n > 0 ? counts[l] / n : 0])) as Record<Label, number>;

  let agreement: Measured['agreement'] = null;
  // A row every rollout of which passed in this eval has no failure to estimate a regime for.
  const judged = joined.filter((j) => j.row.regime !== 'solved');
  if (judged.length > 0) {
    const truth = judged.map((j) => j.record.label);
    const predicted = judged.map((j) => j.row.regime as string);
    const present = LABELS.filter((l) => truth.includes(l));
    const columns = ESTIMATED.filter((g) => (LABELS as readonly string[]).includes(g) || predicted.includes(g));
    const majorityLabel = [...present].sort((a, b) => countOf(truth, b) - countOf(truth, a) || LABELS.indexOf(a) - LABELS.indexOf(b))[0]!;
    const sources = new Set(judged.map((j) => j.row.route_source));
    agreement = {
      estimate: sources.size > 1 ? 'mixed' : (sources.values().next().value as 'policy' | 'paper_rule'),
      n: judged.length,
      confusion: confusionMatrix<Label, string>(truth, predicted, LABELS, columns),
      accuracy: accuracy(truth, predicted),
      balanced_accuracy: balancedAccuracy(truth, predicted),
      majority: { label: majorityLabel, accuracy: countOf(truth, majorityLabel) / truth.length, balanced_accuracy: 1 / present.length },
    };
  }

  const pairs = probe.records.filter((r) => r.reprobe_label !== null);
  const ceiling: Measured['ceiling'] =
    pairs.length > 0
      ? {
          n: pairs.length,
          agreement: accuracy(pairs.map((r) => r.label), pairs.map((r) => r.reprobe_label!)),
          kappa: finiteOrNull(cohenKappa(pairs.map((r) => r.label), pairs.map((r) => r.reprobe_label!))),
          balanced_accuracy: balancedAccuracy(pairs.map((r) => r.label), pairs.map((r) => r.reprobe_label!)),
          source: 'probe',
        }
      : null;

  const splits = new Set(probe.records.map((r) => r.split));
  const settings = [...new Set(probe.records.map((r) => r.settings))];
  const notes = [...(probe.notes ?? [])];
  if (unmatched.length > 0) {
    notes.push(
      `${unmatched.length} of ${n} probed rows are not rows of this eval (their problem_id is no graded row's test_key or row key): left out of the agreement; they still count in the measured shares`,
    );
  }
  if (judged.length < joined.length) notes.push(`${joined.length - judged.length} probed rows passed every rollout in this eval (solved): no regime to compare`);
  if (ambiguous > 0) notes.push(`${ambiguous} probed rows match several rows of this eval (prompts, providers or repeats): left out of the agreement`);
  if (splits.has('same')) notes.push('label and eval rescue come from the same attempts on some rows (split "same"): rescue on rows selected by their label carries the selection bias');
  return {
    measured: {
      probe: {
        path: probe.path,
        format: probe.format,
        records: n,
        settings: settings.length === 1 ? settings[0]! : null,
        split: splits.size > 1 ? 'mixed' : splits.has('same') ? 'same' : 'disjoint',
        matched: joined.length,
        unmatched: unmatched.length,
        ambiguous,
        unmatched_examples: unmatched.slice(0, 5),
      },
      regime_shares: { n, counts, shares },
      agreement,
      ceiling,
      notes,
    },
    byRow,
  };
}

function countOf(labels: readonly string[], label: string): number {
  let k = 0;
  for (const l of labels) if (l === label) k++;
  return k;
}
