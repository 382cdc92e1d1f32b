import { createHash } from 'node:crypto';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { FEATURE_NAMES } from '../core/contracts/problemRecord.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Rescue rate of an operator at a budget of attempts, for the rescue-at-budget panel. */
export interface BudgetPoint {
  operator: string;
  budget: number;
  rescue: number;
}

const REGIME_ORDER = ['resample', 'steerable', 'beyond_reach', 'retry_insufficient'];

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 420, height: 240, config: { font: 'sans-serif' } } as const;

/**
 * The report as one standalone HTML page that works offline: regime shares, the routing panel
 * (concentration − spread against logit dispersion, coloured by route), per-feature
 * distributions, rescue-at-budget curves when probe results are given, and a sortable table of
 * failures. Charts are Vega-Lite rendered to inline SVG here; every text is escaped, and a
 * Content-Security-Policy allows only the page's own sorting script (by hash).
 */
export async function renderHtml(report: EvalReport, options: { title?: string; budgets?: BudgetPoint[] } = {}): Promise<string> {
  const failing = report.rows.filter((r) => r.regime !== 'solved');
  const charts: { title: string; svg: string }[] = [];

  charts.push({
    title: 'Regimes among failures',
    svg: await svg({
      ...base,
      data: { values: REGIME_ORDER.map((g) => ({ regime: g, tests: report.regimes.counts[g as keyof typeof report.regimes.counts] })) },
      mark: 'bar',
      encoding: {
        x: { field: 'regime', type: 'nominal', sort: REGIME_ORDER, axis: { labelAngle: 0 } },
        y: { field: 'tests', type: 'quantitative', title: 'tests' },
        color: { field: 'regime', type: 'nominal', sort: REGIME_ORDER, legend: null },
      },
    }),
  });

  const routed = failing.filter((r) => r.z && Number.isFinite(r.z.concentration!) && Number.isFinite(r.z.spread!));
  if (routed.length > 0) {
    charts.push({
      title: 'Routing panel (z-scores): concentration − spread against logit dispersion',
      svg: await svg({
        ...base,
        width: 340,
        data: { values: routed.map((r) => ({ x: r.z!.concentration! - r.z!.spread!, y: r.z!.logit_dispersion!, route: r.route ?? 'none' })) },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'z concentration − z spread' },
          y: { field: 'y', type: 'quantitative', title: 'z logit dispersion' },
          color: { field: 'route', type: 'nominal', title: 'route' },
          shape: { field: 'route', type: 'nominal' },
        },
      }),
    });
  }

  const featured = failing.filter((r) => r.features && FEATURE_NAMES.every((f) => Number.isFinite(r.features![f] as number)));
  for (const f of FEATURE_NAMES) {
    if (featured.length === 0) break;
    charts.push({
      title: `Distribution of ${f.replace('_', ' ')} over failures`,
      svg: await svg({
        ...base,
        height: 160,
        data: { values: featured.map((r) => ({ value: r.features![f], regime: r.regime })) },
        mark: 'bar',
        encoding: {
          x: { field: 'value', type: 'quantitative', bin: { maxbins: 20 }, title: f },
          y: { aggregate: 'count', type: 'quantitative', title: 'failures' },
          color: { field: 'regime', type: 'nominal', sort: REGIME_ORDER },
        },
      }),
    });
  }

  if (options.budgets && options.budgets.length > 0) {
    charts.push({
      title: 'Rescue at budget (probe)',
      svg: await svg({
        ...base,
        width: 340,
        data: { values: options.budgets },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'budget', type: 'quantitative', title: 'attempts per failed rollout', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'rescue', type: 'quantitative', title: 'rescue rate', axis: { format: '%' } },
          color: { field: 'operator', type: 'nominal' },
        },
      }),
    });
  }

  const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '' : x.toFixed(d));
  const rows = failing
    .map(
      (r) => `<tr><td>${escapeHtml(r.description)}</td><td>${escapeHtml(r.regime)}</td><td>${escapeHtml(r.route ?? '')}</td><td>${escapeHtml(r.why)}</td>` +
        `<td data-v="${r.pass_rate}">${(100 * r.pass_rate).toFixed(1)}%</td>` +
        `<td data-v="${num(r.features?.spread, 6)}">${num(r.features?.spread)}</td><td data-v="${num(r.features?.concentration, 6)}">${num(r.features?.concentration)}</td>` +
        `<td data-v="${num(r.features?.logit_dispersion, 6)}">${num(r.features?.logit_dispersion)}</td><td class="out">${escapeHtml(r.sample_output.slice(0, 300))}</td></tr>`,
    )
    .join('\n');

  const script = `for (const th of document.querySelectorAll('th[data-col]')) th.addEventListener('click', () => {
  const table = th.closest('table'); const col = Number(th.dataset.col); const body = table.tBodies[0];
  const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc'; th.dataset.dir = dir;
  const key = (tr) => { const td = tr.children[col]; const v = td.dataset.v; return v !== undefined && v !== '' ? Number(v) : td.textContent; };
  const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b); const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)); return dir === 'asc' ? c : -c; });
  for (const r of rows) body.appendChild(r);
});`;
  const hash = createHash('sha256').update(script).digest('base64');
  const t = report.totals;
  const title = options.title ?? 'Recoverability report';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:2rem 0 .6rem}
.summary{color:#4a5162} .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
figure{margin:0;border:1px solid #e3e6ee;border-radius:8px;padding:.8rem} figcaption{font-weight:600;margin-bottom:.4rem}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #e3e6ee;padding:.35rem .5rem;text-align:left;vertical-align:top}
th[data-col]{cursor:pointer;user-select:none;background:#f5f6fa} th[data-col]:hover{background:#e9ecf5}
td.out{font-family:ui-monospace,monospace;white-space:pre-wrap;max-width:28rem;color:#4a5162}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="summary"><b>${t.rows} rows graded</b>${t.rows_passed === null ? '' : ` (promptfoo's verdicts: ${t.rows_passed} passed, ${t.rows - t.rows_passed} failed)`}${t.error_rows > 0 ? `; <b>${t.error_rows} error rows</b> not graded (listed below)` : ''}.
Rollout pass rate ${t.rollout_pass_rate === null ? '—' : (100 * t.rollout_pass_rate).toFixed(1) + '%'} (mean over graded rows; ${t.passed_rollouts}/${t.rollouts} rollouts). ${t.failures} rows with a failed rollout (${t.with_features} with trajectory features).
z-scale: ${escapeHtml(report.scale_source === 'reference' ? `reference ${report.reference ?? ''}` : report.scale_source === 'eval' ? "this eval's failures" : 'none')}.${report.eval_id ? ` Eval ${escapeHtml(report.eval_id)}.` : ''}</p>
<div class="charts">
${charts.map((c) => `<figure><figcaption>${escapeHtml(c.title)}</figcaption>${c.svg}</figure>`).join('\n')}
</div>
<h2>Rows with a failed rollout (${failing.length}) — click a column to sort</h2>
<table id="failures"><thead><tr>${['test', 'regime', 'route', 'why', 'rollout pass rate', 'spread', 'concentration', 'logit dispersion', 'sample output'].map((h, i) => `<th data-col="${i}">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
${report.errors.count > 0 ? `<h2 id="errors">Error rows (${report.errors.count}, not graded)</h2><p>${Object.entries(report.errors.by_kind).map(([k, n]) => `${n} ${escapeHtml(k)}`).join(', ')}</p>
<table id="error-rows"><thead><tr><th>test</th><th>error</th><th>message</th></tr></thead><tbody>
${report.errors.rows.map((e) => `<tr><td>${escapeHtml(e.description)}</td><td>${escapeHtml(e.kind)}</td><td class="out">${escapeHtml(e.message)}</td></tr>`).join('\n')}
</tbody></table>` : ''}
${report.notes.length ? `<h2>Unavailable signals</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n.message)} (${n.rows} rows)</li>`).join('')}</ul>` : ''}
<script>${script}</script>
</body></html>
`;
}
