import { PROBE_SIGNALS, type ProbeRecord, type ProbeSignal } from '../contracts/probeRecord.js';

export { PROBE_SIGNALS, type ProbeSignal };

/**
 * What a policy reads from one row: its prospective signals (null or absent = not measured)
 * and the rollout counts. A probe record is one; so is what `gradeRollouts` computes per row.
 */
export type RowSignals = Partial<Record<ProbeSignal, number | null>> & {
  n_rollouts?: number | null;
  n_passed?: number | null;
};

/** The row's value of a signal, or null when it is absent or not finite. */
export function signalValue(row: RowSignals, name: ProbeSignal): number | null {
  const v = row[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The signals of a probe record, as a policy reads them. */
export function recordSignals(r: ProbeRecord): RowSignals {
  const out: RowSignals = { n_rollouts: r.n_rollouts, n_passed: r.n_passed };
  for (const s of PROBE_SIGNALS) out[s] = r[s];
  return out;
}

/**
 * The signals a learned model may use on these rows: measured on every row and not constant.
 * The others come back with the reason they were left out.
 */
export function usableSignals(rows: readonly RowSignals[]): { usable: ProbeSignal[]; skipped: Partial<Record<ProbeSignal, string>> } {
  const usable: ProbeSignal[] = [];
  const skipped: Partial<Record<ProbeSignal, string>> = {};
  for (const s of PROBE_SIGNALS) {
    const values = rows.map((r) => signalValue(r, s));
    const missing = values.filter((v) => v === null).length;
    if (missing === rows.length) skipped[s] = 'not measured';
    else if (missing > 0) skipped[s] = `missing on ${missing} of ${rows.length} rows`;
    else if (values.every((v) => v === values[0])) skipped[s] = 'constant';
    else usable.push(s);
  }
  return { usable, skipped };
}
