import type { EvalReport } from '../core/contracts/evalReport.js';
import { mdText } from './markdownText.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** Table-cell text: untrusted text made inert for GitHub-flavoured Markdown (mdText), one line, shortened. */
export function cell(s: string, max = 80): string {
  return mdText(s, max);
}
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const ORDER = ['beyond_reach', 'steerable', 'retry_insufficient', 'resample', 'solved'];

/**
 * The report as Markdown, fit for a PR comment or a CI job summary: every text that comes from
 * the eval (test names, reasons, errors, the reference path) goes through mdText, so mentions,
 * links, images and HTML in it do nothing.
 */
export function renderMarkdown(report: EvalReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const { totals: t, regimes } = report;
  const out: string[] = ['# Recoverability report', ''];
  const verdicts = t.rows_passed === null ? '' : ` (promptfoo's verdicts: ${t.rows_passed} passed, ${t.rows - t.rows_passed} failed)`;
  const errors = t.error_rows > 0 ? ` ${t.error_rows} error rows were not graded (listed under Error rows).` : '';
  out.push(`**${t.rows} rows graded**${verdicts}.${errors}`);
  out.push(
    '',
    `- Rollout pass rate: ${pct(t.rollout_pass_rate)} (mean over the ${t.rows} graded rows; ${t.passed_rollouts}/${t.rollouts} rollouts).`,
    `- Rows with a failed rollout: ${t.failures} (${t.with_features} with trajectory features).`,
    `- z-scale: ${report.scale_source === 'reference' ? `reference ${mdText(report.reference ?? '', 200)}` : report.scale_source === 'eval' ? "this eval's failures" : 'none'}.`,
  );
  out.push('', '## Regimes among failures', '');
  out.push(
    table(
      ['regime', 'tests', 'share of tests'],
      ORDER.filter((g) => g !== 'solved').map((g) => [g, String(regimes.counts[g as keyof typeof regimes.counts]), pct(regimes.share_of_tests[g as keyof typeof regimes.share_of_tests])]),
    ),
  );
  out.push('', `Solved (every rollout passed): ${regimes.counts.solved} (${pct(regimes.share_of_tests.solved)} of tests).`);
  const routes = Object.entries(report.routing.counts).sort((a, b) => b[1] - a[1]);
  if (routes.length > 0) {
    out.push('', '## Recommended interventions', '');
    out.push(table(['route', 'tests'], routes.map(([r, n]) => [cell(r, 40), String(n)])));
  }
  if (report.clusters.length > 0) {
    out.push('', '## Failure clusters (k-means on z-scored features)', '');
    out.push(
      table(
        ['cluster', 'size', 'spread', 'concentration', 'logit dispersion', 'route of centroid'],
        report.clusters.map((c) => [cell(c.name), String(c.size), num(c.centroid.spread), num(c.centroid.concentration), num(c.centroid.logit_dispersion), c.route ? cell(c.route, 40) : '—']),
      ),
    );
  }
  const failing = report.rows
    .filter((r) => r.regime !== 'solved')
    .sort((a, b) => ORDER.indexOf(a.regime) - ORDER.indexOf(b.regime) || a.pass_rate - b.pass_rate || a.test_idx - b.test_idx);
  if (failing.length > 0) {
    out.push('', '## Rows with a failed rollout', '');
    out.push(
      table(
        ['test', 'regime', 'route', 'why', 'rollout pass rate', 'spread', 'conc.', 'disp.'],
        failing.slice(0, maxRows).map((r) => [
          cell(r.description, 60),
          r.regime,
          r.route ? cell(r.route, 40) : '—',
          cell(r.why, 120),
          pct(r.pass_rate),
          num(r.features?.spread),
          num(r.features?.concentration),
          num(r.features?.logit_dispersion),
        ]),
      ),
    );
    if (failing.length > maxRows) out.push('', `… and ${failing.length - maxRows} more in recoverability.json.`);
  }
  if (report.errors.count > 0) {
    out.push('', '## Error rows', '', `${report.errors.count} rows errored and were not graded:`, '');
    out.push(table(['error', 'rows'], Object.entries(report.errors.by_kind).sort((a, b) => b[1] - a[1]).map(([k, n]) => [cell(k, 60), String(n)])));
    out.push('', table(['test', 'error', 'message'], report.errors.rows.slice(0, maxRows).map((e) => [cell(e.description, 60), cell(e.kind, 60), cell(e.message, 160)])));
    if (report.errors.count > maxRows) out.push('', `… and ${report.errors.count - maxRows} more in recoverability.json.`);
  }
  if (report.notes.length > 0) {
    out.push('', '## Unavailable signals', '');
    for (const n of report.notes) out.push(`- ${cell(n.message, 300)} (${n.rows} rows)`);
  }
  return out.join('\n') + '\n';
}
