import type { EvalReport } from '../core/contracts/evalReport.js';
import { LABELS } from '../core/contracts/operators.js';
import { mdText } from './markdownText.js';
import { whyOnly } from './reasonLine.js';
import { budgetCaption, FEATURE_SCALES, interval, num, pct, points, routeSourceDetail, routeSourceHeadline, routingPanelCaption } from './reportText.js';

/** Table-cell text: untrusted text made inert for GitHub-flavoured Markdown (mdText), one line, shortened. */
export function cell(s: string, max = 80): string {
  return mdText(s, max);
}
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const ORDER = ['beyond_reach', 'steerable', 'retry_insufficient', 'resample', 'solved'];

/**
 * The report as Markdown, fit for a PR comment or a CI job summary: every text that comes from
 * the eval (test names, reasons, errors, paths) goes through mdText, so mentions, links, images
 * and HTML in it do nothing. It leads with whether the routes are measured or the paper's
 * untested rule, then the estimate, then what was measured (probe, policy, journal) when given.
 */
export function renderMarkdown(report: EvalReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const { totals: t, regimes } = report;
  const out: string[] = ['# Recoverability report', ''];
  const verdicts = t.rows_passed === null ? '' : ` (promptfoo's verdicts: ${t.rows_passed} passed, ${t.rows - t.rows_passed} failed)`;
  const errors = t.error_rows > 0 ? ` ${t.error_rows} error rows were not graded (listed under Error rows).` : '';
  out.push(`**${t.rows} rows graded**${verdicts}.${errors}`);
  out.push('', `**${mdText(routeSourceHeadline(report))}** ${mdText(routeSourceDetail(report))}`);
  out.push(
    '',
    `- Rollout pass rate: ${pct(t.rollout_pass_rate)} (mean over the ${t.rows} graded rows; ${t.passed_rollouts}/${t.rollouts} rollouts).`,
    `- Rows with a failed rollout: ${t.failures} (${t.with_features} with trajectory features).`,
    `- z-scale: ${report.scale_source === 'reference' ? `reference ${mdText(report.reference ?? '', 200)}` : report.scale_source === 'eval' ? "this eval's failures" : 'none'}.`,
  );

  const m = report.measured;
  out.push('', `## Regimes among failures (${report.estimate.source === 'policy' ? 'estimated by the learned policy' : report.estimate.source === 'mixed' ? 'estimated' : "estimated by the paper's rule"})`, '');
  const head = ['regime', 'tests', 'share of tests'];
  if (m) head.push(`measured share of the ${m.regime_shares.n} probed rows`);
  out.push(
    table(
      head,
      ORDER.filter((g) => g !== 'solved').map((g) => {
        const row = [g, String(regimes.counts[g as keyof typeof regimes.counts]), pct(regimes.share_of_tests[g as keyof typeof regimes.share_of_tests])];
        if (m) row.push((LABELS as readonly string[]).includes(g) ? `${pct(m.regime_shares.shares[g as keyof typeof m.regime_shares.shares])} (${m.regime_shares.counts[g as keyof typeof m.regime_shares.counts]})` : '—');
        return row;
      }),
    ),
  );
  out.push('', `Solved (every rollout passed): ${regimes.counts.solved} (${pct(regimes.share_of_tests.solved)} of tests).`);

  const routes = Object.entries(report.routing.counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (routes.length > 0) {
    out.push('', '## Recommended interventions', '');
    out.push(table(['route', 'tests', 'share of rows with a failed rollout'], routes.map(([r, n]) => [cell(r, 40), String(n), pct(t.failures > 0 ? n / t.failures : null)])));
    out.push('', `Routing panel (HTML): ${mdText(routingPanelCaption(report))}`);
  }
  if (report.clusters.length > 0) {
    out.push('', "## Failure clusters (k-means over this eval's failures; centroids in z-scores over them)", '');
    out.push(
      table(
        ['cluster', 'size', 'z spread', 'z concentration', 'z logit dispersion', "paper's rule at the centroid"],
        report.clusters.map((c) => [cell(c.name), String(c.size), num(c.centroid_z.spread, 2), num(c.centroid_z.concentration, 2), num(c.centroid_z.logit_dispersion, 2), c.route ? cell(c.route, 40) : '—']),
      ),
    );
  }

  if (m) out.push('', ...measuredMarkdown(report));
  if (report.policy) out.push('', ...policyMarkdown(report));
  if (report.budget) out.push('', ...budgetMarkdown(report));
  if (report.measurement_notes.length > 0) {
    out.push('', '## Measurements not used', '');
    for (const n of report.measurement_notes) out.push(`- ${cell(n, 400)}`);
  }

  const failing = report.rows
    .filter((r) => r.regime !== 'solved')
    .sort((a, b) => ORDER.indexOf(a.regime) - ORDER.indexOf(b.regime) || a.pass_rate - b.pass_rate || a.test_idx - b.test_idx);
  if (failing.length > 0) {
    out.push('', '## Rows with a failed rollout', '');
    const headRow = ['test', 'regime → route', ...(m ? ['measured'] : []), 'why', 'pass rate', 'ancestor', 'spread', 'conc.', 'disp.'];
    out.push(
      table(
        headRow,
        failing.slice(0, maxRows).map((r) => [
          cell(r.description, 60),
          `${r.regime}${r.route ? ` → ${cell(r.route, 40)}` : ''}${r.route_source === 'policy' ? ` (learned${r.precision !== null ? `, precision ${pct(r.precision, 0)}` : ''})` : ''}`,
          ...(m ? [r.measured ? `${r.measured.label}${r.measured.route_rescue !== null ? `, route rescued ${pct(r.measured.route_rescue, 0)}` : ''}` : '—'] : []),
          cell(whyOnly(r.why, r.route), 120),
          pct(r.pass_rate),
          pct(r.ancestor_pass_rate, 0),
          num(r.features?.spread),
          num(r.features?.concentration),
          num(r.features?.logit_dispersion),
        ]),
      ),
    );
    if (failing.length > maxRows) out.push('', `… and ${failing.length - maxRows} more in recoverability.json.`);
    out.push('', `Features: ${mdText(FEATURE_SCALES)}`);
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

function measuredMarkdown(report: EvalReport): string[] {
  const m = report.measured!;
  const p = m.probe;
  const out = ['## Measured on this model (rescue probe)', ''];
  out.push(
    `Probe ${mdText(p.path, 200)}: ${p.records} probed failing rows (${p.format}, ${p.split === 'disjoint' ? 'labels and reported rescue from disjoint attempts' : p.split === 'same' ? 'labels and rescue from the same attempts' : 'mixed splits'}${p.settings ? `, settings ${mdText(p.settings, 40)}` : ''}); ${p.matched} of them are tests of this eval.`,
  );
  const a = m.agreement;
  out.push('', `### Estimate vs measurement${a ? ` (${a.n} probed rows; estimate: ${a.estimate === 'policy' ? 'the learned policy' : a.estimate === 'paper_rule' ? "the paper's rule" : 'learned policy and paper\'s rule'})` : ''}`, '');
  if (!a) out.push('No probed row is a row of this eval with a failed rollout: no agreement to measure.');
  else {
    const predicted = Object.keys(a.confusion[LABELS[0]] ?? {});
    out.push(table(['measured \\ estimated', ...predicted, 'total'], LABELS.map((l) => [l, ...predicted.map((g) => String(a.confusion[l]?.[g] ?? 0)), String(predicted.reduce((s, g) => s + (a.confusion[l]?.[g] ?? 0), 0))])));
    out.push(
      '',
      `Balanced accuracy ${pct(a.balanced_accuracy)} against ${pct(a.majority.balanced_accuracy)} for the majority class (always ${a.majority.label}); accuracy ${pct(a.accuracy)} against ${pct(a.majority.accuracy)}.`,
    );
  }
  const c = m.ceiling;
  out.push(
    '',
    c
      ? `Ceiling (${c.source === 'probe' ? 'this probe' : 'the policy\'s probe'}): on ${c.n} rows probed twice, independently, the two labels agree on ${pct(c.agreement)} (Cohen's κ ${c.kappa === null ? 'undefined: one label throughout' : num(c.kappa, 2)}, balanced accuracy ${pct(c.balanced_accuracy)}): no estimate can agree with the labels much better than the labels agree with themselves.`
      : 'Ceiling: no row was re-probed (probe --reprobe), so the labels\' own noise is not measured.',
  );
  for (const n of m.notes) out.push('', `Note: ${mdText(n, 400)}`);
  return out;
}

function policyMarkdown(report: EvalReport): string[] {
  const p = report.policy!;
  const best = p.choice.best_fixed;
  const out = [`## The learned policy against every alternative (${mdText(p.path, 200)}, cross-validated on ${p.probe.rows} probed rows of ${mdText(p.probe.path, 200)})`, ''];
  out.push(
    table(
      ['candidate', 'rescue, all probed rows (95% CI)', 'rescue, steerable rows', `vs always ${cell(best, 40)} (points)`],
      p.candidates.map((c) => [
        `${cell(c.name, 60)}${c.name === p.choice.name ? ' (chosen)' : ''}`,
        c.available ? interval(c.rescue_all) : `— (${cell(c.note ?? 'not available', 80)})`,
        c.available ? interval(c.rescue_steerable) : '—',
        c.available ? points(c.vs_best_fixed) : '—',
      ]),
    ),
  );
  out.push('', `Chosen: ${mdText(p.choice.why, 400)}`);
  out.push(
    '',
    `Regime estimate: ${cell(p.regime_estimate.chosen, 40)} — ${p.regime_estimate.candidates.map((c) => `${cell(c.name, 40)} balanced accuracy ${c.available ? pct(c.balanced_accuracy) : '—'}`).join(', ')}${p.regime_estimate.ceiling ? `; ceiling (probe vs re-probe, ${p.regime_estimate.ceiling.n} rows): balanced accuracy ${pct(p.regime_estimate.ceiling.balanced_accuracy)}, κ ${num(p.regime_estimate.ceiling.kappa, 2)}` : ''}.`,
  );
  for (const w of p.warnings) out.push('', `Warning: ${mdText(w, 400)}`);
  return out;
}

function budgetMarkdown(report: EvalReport): string[] {
  const b = report.budget!;
  const budgets = [...new Set(b.curves.flatMap((c) => c.points.map((p) => p.budget)))].sort((x, y) => x - y);
  const out = ['## Rescue at budget on this model', '', mdText(budgetCaption(b)), ''];
  out.push(
    table(
      ['operator', 'failed rollouts', ...budgets.map((k) => `${k} attempt${k === 1 ? '' : 's'}`), 'tokens'],
      b.curves.map((c) => [cell(c.operator, 40), String(c.units), ...budgets.map((k) => pct(c.points.find((p) => p.budget === k)?.rescue)), c.tokens === null ? '—' : c.tokens.toLocaleString('en-US')]),
    ),
  );
  for (const n of b.notes) out.push('', `Note: ${mdText(n, 400)}`);
  return out;
}
