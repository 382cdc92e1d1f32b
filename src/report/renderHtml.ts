import { createHash } from 'node:crypto';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalReport, EvalReportRow } from '../core/contracts/evalReport.js';
import { LABELS } from '../core/contracts/operators.js';
import { FEATURE_NAMES } from '../core/contracts/problemRecord.js';
import { REGIME_COLORS, REGIME_ORDER, regimeScale, ROUTE_COLORS, routeScale } from './palettes.js';
import { whyOnly } from './reasonLine.js';
import { budgetCaption, FEATURE_SCALES, interval, num, pct, points, routeSourceDetail, routeSourceHeadline, routingPanelCaption } from './reportText.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

/** Chart sizes that fit a card of the two-column grid at 1400 px (legend and axes included). */
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 360, height: 220, config: { font: 'sans-serif', legend: { labelLimit: 130 } } } as const;

interface Chart {
  id: string;
  title: string;
  svg: string;
  /** A line under the chart: what it shows and leaves out, its n and source. */
  caption?: string;
}

/** A class name for a regime or route (their names are snake_case; anything else is reduced to that). */
const cls = (prefix: string, name: string) => `${prefix}-${name.replace(/[^a-z0-9_]/gi, '_')}`;

/**
 * The report as one standalone HTML page that works offline: whether the routes are measured or
 * the paper's untested rule, regime shares (beside the probe's measured shares when given), the
 * recommended interventions, the routing panel (saying which rows it leaves out), k-means
 * clusters, feature distributions, what was measured (agreement with the probe's labels, the
 * ceiling, the policy's cross-validated rescue against every alternative, rescue at budget on
 * this model), and a sortable table of failures with each probed row's measured label. Charts
 * are Vega-Lite rendered to inline SVG here, regimes and routes each in a palette of their own;
 * every text is escaped, and a Content-Security-Policy allows only the page's own sorting script.
 */
export async function renderHtml(report: EvalReport, options: { title?: string } = {}): Promise<string> {
  const failing = report.rows.filter((r) => r.regime !== 'solved');
  const charts: Chart[] = [];
  const m = report.measured;

  // Regimes: estimated (this eval), beside measured (the probed rows) when a probe is given.
  if (m) {
    const kinds: [string, string] = ['estimated', 'measured'];
    const values = [
      ...REGIME_ORDER.map((g) => ({ regime: g, kind: kinds[0], share: report.regimes.shares[g] })),
      ...LABELS.map((g) => ({ regime: g, kind: kinds[1], share: m.regime_shares.shares[g] })),
    ];
    charts.push({
      id: 'regimes',
      title: 'Regimes among failures: estimated and measured',
      svg: await svg({
        ...base,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'regime', type: 'nominal', sort: [...REGIME_ORDER], axis: { labelAngle: 0, labelLimit: 110 }, title: null },
          xOffset: { field: 'kind', type: 'nominal', sort: kinds },
          y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
          color: { field: 'regime', type: 'nominal', scale: regimeScale(), legend: null },
          opacity: { field: 'kind', type: 'ordinal', sort: kinds, scale: { domain: kinds, range: [0.45, 1] }, legend: { orient: 'bottom', title: null, direction: 'vertical' } },
        },
      }),
      caption: `Faded: the estimate, share of this eval's ${report.totals.failures} rows with a failed rollout; solid: the Eq. 2 label measured by the probe, share of its ${m.regime_shares.n} probed rows (a stratified sample, not weighted).`,
    });
  } else {
    charts.push({
      id: 'regimes',
      title: 'Regimes among failures (estimated)',
      svg: await svg({
        ...base,
        data: { values: REGIME_ORDER.map((g) => ({ regime: g, tests: report.regimes.counts[g] })) },
        mark: 'bar',
        encoding: {
          x: { field: 'regime', type: 'nominal', sort: [...REGIME_ORDER], axis: { labelAngle: 0, labelLimit: 110 }, title: null },
          y: { field: 'tests', type: 'quantitative', title: 'tests' },
          color: { field: 'regime', type: 'nominal', scale: regimeScale(), legend: null },
        },
      }),
    });
  }

  const routed = failing.filter((r) => r.z && Number.isFinite(r.z.concentration!) && Number.isFinite(r.z.spread!) && Number.isFinite(r.z.logit_dispersion!));
  if (routed.length > 0) {
    const routeNames = [...new Set(routed.map((r) => r.route ?? 'none'))];
    charts.push({
      id: 'routing',
      title: 'Routing panel (z-scores): concentration − spread against logit dispersion',
      svg: await svg({
        ...base,
        width: 300,
        data: { values: routed.map((r) => ({ x: r.z!.concentration! - r.z!.spread!, y: r.z!.logit_dispersion!, route: r.route ?? 'none' })) },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'z concentration − z spread' },
          y: { field: 'y', type: 'quantitative', title: 'z logit dispersion' },
          color: { field: 'route', type: 'nominal', title: 'route', scale: routeScale(routeNames) },
          shape: { field: 'route', type: 'nominal', scale: { domain: routeScale(routeNames).domain } },
        },
      }),
      caption: routingPanelCaption(report),
    });
  }

  const featured = failing.filter((r) => r.features && FEATURE_NAMES.every((f) => Number.isFinite(r.features![f] as number)));
  const presentRegimes = REGIME_ORDER.filter((g) => featured.some((r) => r.regime === g));
  for (const f of FEATURE_NAMES) {
    if (featured.length === 0) break;
    const title = f === 'spread' ? 'spread (share of tokens)' : f === 'concentration' ? 'concentration (log10 max J / mean J)' : 'logit dispersion (log10 of a variance)';
    charts.push({
      id: `hist-${f}`,
      title: `Distribution of ${title} over failures`,
      svg: await svg({
        ...base,
        height: 150,
        data: { values: featured.map((r) => ({ value: r.features![f], regime: r.regime })) },
        mark: 'bar',
        encoding: {
          x: { field: 'value', type: 'quantitative', bin: { maxbins: 20 }, title: f },
          y: { aggregate: 'count', type: 'quantitative', title: 'failures' },
          color: { field: 'regime', type: 'nominal', scale: regimeScale(presentRegimes), sort: [...presentRegimes] },
        },
      }),
      ...(f === 'logit_dispersion' ? { caption: 'log10 of the logit variance around the junction: negative is normal (a variance under 1); higher is more temperature-sensitive.' } : {}),
    });
  }

  const b = report.budget;
  if (b && b.curves.length > 0) {
    const operators = b.curves.map((c) => c.operator);
    charts.push({
      id: 'budget',
      title: `Rescue at budget on this model (${b.phase} phase)`,
      svg: await svg({
        ...base,
        width: 300,
        data: { values: b.curves.flatMap((c) => c.points.map((p) => ({ operator: c.operator, budget: p.budget, rescue: p.rescue }))) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'budget', type: 'quantitative', title: 'attempts per failed rollout', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'rescue', type: 'quantitative', title: 'rescued', axis: { format: '%' } },
          color: { field: 'operator', type: 'nominal', title: 'operator', scale: routeScale(operators) },
        },
      }),
      caption: budgetCaption(b),
    });
  }

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
  const routeNames = [...new Set([...Object.keys(report.routing.counts), ...report.rows.map((r) => r.route ?? 'none'), ...(b?.curves.map((c) => c.operator) ?? [])])];
  const routeColors = routeScale(routeNames);
  const colourCss = [
    ...Object.entries(REGIME_COLORS).map(([g, c]) => `.${cls('rg', g)}{border-left:.5em solid ${c}}`),
    ...routeColors.domain.map((r, i) => `.${cls('rt', r)}{border-left:.5em solid ${routeColors.range[i]}}`),
  ].join('\n');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:2rem 0 .6rem} h3{font-size:1rem;margin:1.2rem 0 .4rem}
.summary{color:#4a5162}
.source{border-radius:8px;padding:.7rem .9rem;margin:1rem 0;border:1px solid #e3e6ee}
.source.paper_rule{background:#fff7e6;border-color:#f0c36d} .source.policy{background:#eef8ee;border-color:#9fd19f} .source.mixed{background:#f3f0fa;border-color:#c2b5e6}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
figure,.card{margin:0;border:1px solid #e3e6ee;border-radius:8px;padding:.8rem;min-width:0;overflow:hidden}
figcaption{font-weight:600;margin-bottom:.4rem} figure svg{display:block;max-width:100%;height:auto} figure p.caption{color:#4a5162;font-size:12px;margin:.4rem 0 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem;align-items:start}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #e3e6ee;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
.card h2,.card h3{margin-top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th[data-col]{cursor:pointer;user-select:none;background:#f5f6fa} th[data-col]:hover{background:#e9ecf5}
table#failures{table-layout:fixed}
td.out{font-family:ui-monospace,monospace;color:#4a5162;white-space:nowrap;overflow:hidden}
td.out details summary{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;cursor:pointer}
td.out details[open]{white-space:pre-wrap}
td.why{font-size:12px;color:#4a5162}
.tag{padding-left:.35em;display:inline-block;margin:1px 0}
.note{color:#4a5162;font-size:13px}
${colourCss}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="summary"><b>${t.rows} rows graded</b>${t.rows_passed === null ? '' : ` (promptfoo's verdicts: ${t.rows_passed} passed, ${t.rows - t.rows_passed} failed)`}${t.error_rows > 0 ? `; <b>${t.error_rows} error rows</b> not graded (listed below)` : ''}.
Rollout pass rate ${t.rollout_pass_rate === null ? '—' : (100 * t.rollout_pass_rate).toFixed(1) + '%'} (mean over graded rows; ${t.passed_rollouts}/${t.rollouts} rollouts). ${t.failures} rows with a failed rollout (${t.with_features} with trajectory features).
z-scale: ${escapeHtml(report.scale_source === 'reference' ? `reference ${report.reference ?? ''}` : report.scale_source === 'eval' ? "this eval's failures" : 'none')}.${report.eval_id ? ` Eval ${escapeHtml(report.eval_id)}.` : ''}</p>
<div class="source ${report.estimate.source}" id="route-source"><b>${escapeHtml(routeSourceHeadline(report))}</b> ${escapeHtml(routeSourceDetail(report))}</div>
<div class="charts">
${charts.map((c) => `<figure id="chart-${c.id}"><figcaption>${escapeHtml(c.title)}</figcaption>${c.svg}${c.caption ? `<p class="caption">${escapeHtml(c.caption)}</p>` : ''}</figure>`).join('\n')}
</div>
<div class="cards">
${interventionsCard(report)}
${clustersCard(report)}
</div>
${m ? measuredSection(report) : ''}
${report.policy ? policySection(report) : ''}
${report.measurement_notes.length ? `<h2 id="measurement-notes">Measurements not used</h2><ul>${report.measurement_notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${failuresTable(report, failing)}
${report.errors.count > 0 ? `<h2 id="errors">Error rows (${report.errors.count}, not graded)</h2><p>${Object.entries(report.errors.by_kind).map(([k, n]) => `${n} ${escapeHtml(k)}`).join(', ')}</p>
<table id="error-rows"><thead><tr><th>test</th><th>error</th><th>message</th></tr></thead><tbody>
${report.errors.rows.map((e) => `<tr><td>${escapeHtml(e.description)}</td><td>${escapeHtml(e.kind)}</td><td class="why">${escapeHtml(e.message)}</td></tr>`).join('\n')}
</tbody></table>` : ''}
${report.notes.length ? `<h2>Unavailable signals</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n.message)} (${n.rows} rows)</li>`).join('')}</ul>` : ''}
<script>${script}</script>
</body></html>
`;
}

function interventionsCard(report: EvalReport): string {
  const routes = Object.entries(report.routing.counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (routes.length === 0) return '';
  const f = report.totals.failures;
  return `<section class="card" id="interventions"><h2>Recommended interventions</h2>
<table><thead><tr><th>route</th><th class="n">tests</th><th class="n">share of rows with a failed rollout</th></tr></thead><tbody>
${routes.map(([r, n]) => `<tr><td><span class="tag ${cls('rt', r)}">${escapeHtml(r)}</span></td><td class="n">${n}</td><td class="n">${pct(f > 0 ? n / f : null)}</td></tr>`).join('\n')}
</tbody></table></section>`;
}

function clustersCard(report: EvalReport): string {
  if (report.clusters.length === 0) return '';
  return `<section class="card" id="clusters"><h2>Failure clusters (k-means)</h2>
<p class="note">k-means over this eval's failures on their z-scored features; centroids in z-scores over those failures (0 = their average).</p>
<table><thead><tr><th>cluster</th><th class="n">size</th><th class="n">z spread</th><th class="n">z concentration</th><th class="n">z logit dispersion</th><th>paper&#39;s rule at the centroid</th></tr></thead><tbody>
${report.clusters.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td class="n">${c.size}</td><td class="n">${num(c.centroid_z.spread, 2)}</td><td class="n">${num(c.centroid_z.concentration, 2)}</td><td class="n">${num(c.centroid_z.logit_dispersion, 2)}</td><td>${c.route ? `<span class="tag ${cls('rt', c.route)}">${escapeHtml(c.route)}</span>` : '—'}</td></tr>`).join('\n')}
</tbody></table></section>`;
}

function measuredSection(report: EvalReport): string {
  const m = report.measured!;
  const p = m.probe;
  const a = m.agreement;
  const c = m.ceiling;
  const split = p.split === 'disjoint' ? 'labels and reported rescue from disjoint attempts' : p.split === 'same' ? 'labels and rescue from the same attempts' : 'mixed splits';
  const estimateName = a ? (a.estimate === 'policy' ? 'the learned policy' : a.estimate === 'paper_rule' ? "the paper's rule" : "the learned policy and the paper's rule") : '';
  const predicted = a ? Object.keys(a.confusion[LABELS[0]] ?? {}) : [];
  const confusion = a
    ? `<table id="confusion"><thead><tr><th>measured \\ estimated</th>${predicted.map((g) => `<th class="n"><span class="tag ${cls('rg', g)}">${escapeHtml(g)}</span></th>`).join('')}<th class="n">total</th></tr></thead><tbody>
${LABELS.map((l) => `<tr><th><span class="tag ${cls('rg', l)}">${l}</span></th>${predicted.map((g) => `<td class="n${g === l ? ' hit' : ''}">${a.confusion[l]?.[g] ?? 0}</td>`).join('')}<td class="n">${predicted.reduce((s, g) => s + (a.confusion[l]?.[g] ?? 0), 0)}</td></tr>`).join('\n')}
</tbody></table>
<p id="balanced-accuracy">Balanced accuracy <b>${pct(a.balanced_accuracy)}</b> against ${pct(a.majority.balanced_accuracy)} for the majority class (always ${escapeHtml(a.majority.label)}); accuracy ${pct(a.accuracy)} against ${pct(a.majority.accuracy)}.</p>`
    : '<p>No probed row is a row of this eval with a failed rollout: no agreement to measure.</p>';
  return `<h2 id="measured">Measured on this model (rescue probe)</h2>
<p class="note">Probe ${escapeHtml(p.path)}: ${p.records} probed failing rows (${escapeHtml(p.format)}, ${split}${p.settings ? `, settings ${escapeHtml(p.settings)}` : ''}); ${p.matched} of them are tests of this eval.</p>
<div class="cards">
<section class="card" id="measured-shares"><h3>Measured regimes (Eq. 2 labels of the probed rows)</h3>
<table><thead><tr><th>label</th><th class="n">probed rows</th><th class="n">share</th></tr></thead><tbody>
${LABELS.map((l) => `<tr><td><span class="tag ${cls('rg', l)}">${l}</span></td><td class="n">${m.regime_shares.counts[l]}</td><td class="n">${pct(m.regime_shares.shares[l])}</td></tr>`).join('\n')}
</tbody></table>
<p class="note">${c ? `Ceiling (${c.source === 'probe' ? 'this probe' : "the policy's probe"}): on ${c.n} rows probed twice, independently, the labels agree on ${pct(c.agreement)} (Cohen's κ ${c.kappa === null ? 'undefined: one label throughout' : num(c.kappa, 2)}, balanced accuracy ${pct(c.balanced_accuracy)}): no estimate can agree with the labels much better than they agree with themselves.` : "Ceiling: no row was re-probed (probe --reprobe), so the labels' own noise is not measured."}</p></section>
<section class="card" id="agreement"><h3>Estimate vs measurement${a ? ` (${a.n} rows; ${escapeHtml(estimateName)})` : ''}</h3>
${confusion}</section>
</div>
${m.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}`;
}

function policySection(report: EvalReport): string {
  const p = report.policy!;
  const best = p.choice.best_fixed;
  return `<h2 id="policy">The learned policy against every alternative</h2>
<p class="note">${escapeHtml(p.path)}, cross-validated on ${p.probe.rows} probed rows of ${escapeHtml(p.probe.path)}: the rescue each candidate's routes got on held-out problems (fresh eval-split attempts), with 95% bootstrap intervals.</p>
<section class="card"><table id="candidates"><thead><tr><th>candidate</th><th class="n">rescue, all probed rows</th><th class="n">rescue, steerable rows</th><th class="n">vs always ${escapeHtml(best)} (points)</th></tr></thead><tbody>
${p.candidates
  .map(
    (c) =>
      `<tr${c.name === p.choice.name ? ' class="chosen"' : ''}><td>${c.operator ? `<span class="tag ${cls('rt', c.operator)}">${escapeHtml(c.name)}</span>` : escapeHtml(c.name)}${c.name === p.choice.name ? ' <b>(chosen)</b>' : ''}</td>` +
      (c.available ? `<td class="n">${interval(c.rescue_all)}</td><td class="n">${interval(c.rescue_steerable)}</td><td class="n">${points(c.vs_best_fixed)}</td>` : `<td colspan="3">${escapeHtml(c.note ?? 'not available')}</td>`) +
      '</tr>',
  )
  .join('\n')}
</tbody></table>
<p class="note">Chosen: ${escapeHtml(p.choice.why)}</p>
<p class="note">Regime estimate: ${escapeHtml(p.regime_estimate.chosen)} — ${p.regime_estimate.candidates.map((c) => `${escapeHtml(c.name)} balanced accuracy ${c.available ? pct(c.balanced_accuracy) : '—'}`).join(', ')}${p.regime_estimate.ceiling ? `; ceiling (probe vs re-probe, ${p.regime_estimate.ceiling.n} rows): balanced accuracy ${pct(p.regime_estimate.ceiling.balanced_accuracy)}, κ ${num(p.regime_estimate.ceiling.kappa, 2)}` : ''}.</p>
${p.warnings.map((w) => `<p class="note">Warning: ${escapeHtml(w)}</p>`).join('\n')}</section>`;
}

function failuresTable(report: EvalReport, failing: readonly EvalReportRow[]): string {
  const measured = report.measured !== null;
  const cols: { head: string; width: string; cell: (r: EvalReportRow) => string }[] = [
    { head: 'test', width: '13%', cell: (r) => `<td>${escapeHtml(r.description)}</td>` },
    {
      head: 'estimate',
      width: '14%',
      cell: (r) =>
        `<td><span class="tag ${cls('rg', r.regime)}">${escapeHtml(r.regime)}</span>${r.route ? ` → <span class="tag ${cls('rt', r.route)}">${escapeHtml(r.route)}</span>` : ''}<br><span class="note">${r.route_source === 'policy' ? `learned${r.precision !== null ? `, precision ${pct(r.precision, 0)}` : ''}` : "paper's rule"}</span></td>`,
    },
    ...(measured
      ? [
          {
            head: 'measured',
            width: '10%',
            cell: (r: EvalReportRow) =>
              r.measured
                ? `<td><span class="tag ${cls('rg', r.measured.label)}">${escapeHtml(r.measured.label)}</span>${r.measured.route_rescue !== null ? `<br><span class="note">route rescued ${pct(r.measured.route_rescue, 0)}</span>` : ''}</td>`
                : '<td class="note">not probed</td>',
          },
        ]
      : []),
    { head: 'why', width: measured ? '21%' : '27%', cell: (r) => `<td class="why">${escapeHtml(whyOnly(r.why, r.route))}</td>` },
    { head: 'pass rate', width: '6%', cell: (r) => `<td class="n" data-v="${r.pass_rate}">${pct(r.pass_rate)}</td>` },
    { head: 'ancestor pass rate', width: '7%', cell: (r) => `<td class="n" data-v="${r.ancestor_pass_rate ?? ''}">${pct(r.ancestor_pass_rate, 0)}</td>` },
    ...FEATURE_NAMES.map((f) => ({
      head: f === 'logit_dispersion' ? 'disp. (log10)' : f === 'concentration' ? 'conc. (log10)' : 'spread',
      width: '6%',
      cell: (r: EvalReportRow) => {
        const v = r.features?.[f];
        return `<td class="n" data-v="${v === null || v === undefined || !Number.isFinite(v) ? '' : v}">${num(v)}</td>`;
      },
    })),
    {
      head: 'sample output',
      width: measured ? '11%' : '15%',
      cell: (r) => `<td class="out"><details><summary>${escapeHtml(r.sample_output.replace(/\s+/g, ' ').slice(0, 80))}</summary>${escapeHtml(r.sample_output.slice(0, 300))}</details></td>`,
    },
  ];
  return `<h2>Rows with a failed rollout (${failing.length}) — click a column to sort</h2>
<p class="note">${escapeHtml(FEATURE_SCALES)}</p>
<table id="failures"><colgroup>${cols.map((c) => `<col style="width:${c.width}">`).join('')}</colgroup>
<thead><tr>${cols.map((c, i) => `<th data-col="${i}">${escapeHtml(c.head)}</th>`).join('')}</tr></thead>
<tbody>
${failing.map((r) => `<tr>${cols.map((c) => c.cell(r)).join('')}</tr>`).join('\n')}
</tbody></table>`;
}

export { REGIME_COLORS, ROUTE_COLORS };
