import type { EvalReport } from '../core/contracts/evalReport.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
/** Table-cell text: one line, pipes escaped, HTML-ish characters neutralized, shortened. */
export function cell(s: string, max = 80): string {
  const one = s.replace(/\s+/g, ' ').trim();
  const short = one.length > max ? `${one.slice(0, max - 1)}…` : one;
  return short.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const ORDER = ['beyond_reach', 'steerable', 'retry_insufficient', 'resample', 'solved'];

/** The report as Markdown, fit for a PR comment or a CI job summary. */
export function renderMarkdown(report: EvalReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const { totals, regimes } = report;
  const out: string[] = ['# Recoverability report', ''];
  out.push(
    `${totals.rows} rows, ${totals.failures} with failed rollouts (${totals.with_features} with trajectory features); ` +
      `${totals.passed_rollouts}/${totals.rollouts} rollouts passed. z-scale: ${report.scale_source === 'reference' ? `reference \`${report.reference}\`` : report.scale_source === 'eval' ? "this eval's failures" : 'none'}.`,
  );
  out.push('', '## Regimes among failures', '');
  out.push(table(['regime', 'rows', 'share of failures'], ORDER.filter((g) => g !== 'solved').map((g) => [g, String(regimes.counts[g as keyof typeof regimes.counts]), pct(regimes.shares[g as keyof typeof regimes.shares])])));
  out.push('', `Solved (every rollout passed): ${regimes.counts.solved}.`);
  const routes = Object.entries(report.routing.counts).sort((a, b) => b[1] - a[1]);
  if (routes.length > 0) {
    out.push('', '## Recommended interventions', '');
    out.push(table(['route', 'rows'], routes.map(([r, n]) => [r, String(n)])));
  }
  if (report.clusters.length > 0) {
    out.push('', '## Failure clusters (k-means on z-scored features)', '');
    out.push(
      table(
        ['cluster', 'size', 'spread', 'concentration', 'logit dispersion', 'route of centroid'],
        report.clusters.map((c) => [cell(c.name), String(c.size), num(c.centroid.spread), num(c.centroid.concentration), num(c.centroid.logit_dispersion), c.route ?? '—']),
      ),
    );
  }
  const failing = report.rows
    .filter((r) => r.regime !== 'solved')
    .sort((a, b) => ORDER.indexOf(a.regime) - ORDER.indexOf(b.regime) || (a.pass_rate ?? 0) - (b.pass_rate ?? 0) || a.key.localeCompare(b.key));
  if (failing.length > 0) {
    out.push('', '## Failures', '');
    out.push(
      table(
        ['test', 'regime', 'route', 'why', 'pass rate', 'spread', 'conc.', 'disp.'],
        failing.slice(0, maxRows).map((r) => [
          cell(r.description, 60),
          r.regime,
          r.route ?? '—',
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
  if (report.notes.length > 0) {
    out.push('', '## Unavailable signals', '');
    for (const n of report.notes) out.push(`- ${cell(n.message, 300)} (${n.rows} rows)`);
  }
  return out.join('\n') + '\n';
}
