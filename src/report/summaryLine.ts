import type { EvalReport } from '../core/contracts/evalReport.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The report in one line, each quantity named so it cannot be mistaken for promptfoo's own
 * counts, with one denominator each (the same as in recoverability.md and the gate):
 * `40 rows graded (promptfoo: 17 passed, 23 failed; 5 error rows: 5 EndpointTimeoutError) ·
 * rollout pass rate 38.5% (mean over rows) · 33 rows with a failed rollout · share of tests:
 * steerable 15.0%, beyond_reach 10.0%, …`. For the CLI and the afterAll hook's console line.
 */
export function reportSummaryLine(report: EvalReport): string {
  const t = report.totals;
  const verdicts = t.rows_passed === null ? '' : `promptfoo: ${t.rows_passed} passed, ${t.rows - t.rows_passed} failed`;
  const errors = t.error_rows > 0 ? `${t.error_rows} error row${t.error_rows === 1 ? '' : 's'}: ${Object.entries(report.errors.by_kind).map(([k, n]) => `${n} ${k}`).join(', ')}` : '';
  const paren = [verdicts, errors].filter(Boolean).join('; ');
  const shares = PROSPECTIVE_REGIMES.filter((g) => g !== 'solved' && report.regimes.counts[g] > 0).map((g) => `${g} ${pct(report.regimes.share_of_tests[g])}`);
  return [
    `${t.rows} rows graded${paren ? ` (${paren})` : ''}`,
    `rollout pass rate ${t.rollout_pass_rate === null ? '—' : pct(t.rollout_pass_rate)} (mean over rows)`,
    `${t.failures} rows with a failed rollout`,
    `share of tests: ${shares.length > 0 ? shares.join(', ') : 'all solved'}`,
  ].join(' · ');
}
