import type { EvalReport } from '../contracts/evalReport.js';
import type { Policy } from '../policy/policySchema.js';
import { measuredTruth, type ProbeInput } from './measuredTruth.js';
import { policySummary } from './policySummary.js';
import { budgetSection, type AttemptRecord } from './rescueAtBudget.js';

/** What was measured on this model, for the report: any of the probe, the policy and the journal. */
export interface Measurements {
  probe?: ProbeInput | null;
  policy?: { path: string; policy: Policy } | null;
  journal?: { path: string; settings: string | null; entries: readonly AttemptRecord[] } | null;
  /** What was looked for and not used, said in the report. */
  notes?: readonly string[];
}

/**
 * The report with what was measured added: `measured` and each probed row's `measured` (from the
 * probe), `policy` (from policy.json; with no re-probed rows in the probe, its recorded ceiling)
 * and `budget` (from the journal). Pure: returns a new report.
 */
export function addMeasurements(report: EvalReport, m: Measurements): EvalReport {
  const out: EvalReport = { ...report };
  if (m.probe) {
    const { measured, byRow } = measuredTruth(report.rows, m.probe);
    out.measured = measured;
    out.rows = report.rows.map((r) => (byRow.has(r.key) ? { ...r, measured: byRow.get(r.key)! } : r));
  }
  if (m.policy) {
    out.policy = policySummary(m.policy.path, m.policy.policy);
    const recorded = m.policy.policy.regime_estimate.ceiling;
    if (out.measured && out.measured.ceiling === null && recorded && recorded.n > 0) {
      out.measured = { ...out.measured, ceiling: { ...recorded, source: 'policy' } };
    }
  }
  if (m.journal) out.budget = budgetSection(m.journal.path, m.journal.settings, m.journal.entries);
  if (m.notes && m.notes.length > 0) out.measurement_notes = [...report.measurement_notes, ...m.notes];
  return out;
}
