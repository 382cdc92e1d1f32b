import type { EvalReport } from '../core/contracts/evalReport.js';

/** Plain-text sentences both the Markdown and the HTML report say (each renderer escapes them). */

export const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(d)}%`);
export const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
/** A mean with its 95% interval: `54.2% [46.0%, 62.1%]`. */
export const interval = (e: { mean: number | null; lo: number | null; hi: number | null }) => (e.mean === null ? '—' : `${pct(e.mean)} [${pct(e.lo)}, ${pct(e.hi)}]`);
/** A paired difference in points with its interval: `+4.2 [−1.0, +9.5] points`. */
export const points = (e: { mean: number | null; lo: number | null; hi: number | null } | null) => {
  if (!e || e.mean === null) return '—';
  const p = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`);
  return `${p(e.mean)} [${p(e.lo)}, ${p(e.hi)}]`;
};

/** The headline: whether the routes are measured (a learned policy) or the paper's rule, untested here. */
export function routeSourceHeadline(report: EvalReport): string {
  const e = report.estimate;
  if (e.source === 'paper_rule') return "Routes: the paper's rule, untested on this model.";
  if (e.source === 'policy') return 'Routes: measured on this model (a learned policy).';
  return `Routes: mixed — ${e.rows.policy} rows by a learned policy (measured), ${e.rows.paper_rule} by the paper's rule (untested on this model).`;
}

/** What the headline rests on, in one or two sentences. */
export function routeSourceDetail(report: EvalReport): string {
  const e = report.estimate;
  const p = report.policy;
  if (e.source === 'paper_rule') {
    return (
      "Regimes and routes come from the paper's fixed rule (z-scores of spread, concentration and logit dispersion), whose fit to this model has not been measured: " +
      'run `recoverability probe` on this eval and `recoverability calibrate` on the probe to learn and measure a policy, then name it as the assertion\'s `policy`.'
    );
  }
  const chosen = p?.candidates.find((c) => c.name === p.choice.name);
  const best = p?.candidates.find((c) => c.kind === 'fixed' && c.operator === p.choice.best_fixed);
  const evidence = p
    ? ` ${p.path} was calibrated on ${p.probe.rows} probed failing rows of ${p.probe.path}; it chose ${p.choice.name} (${p.choice.kind})${chosen ? `, cross-validated rescue ${interval(chosen.rescue_all)}` : ''}${best && chosen !== best ? ` against ${best.name} ${interval(best.rescue_all)}` : ''}.`
    : ` The policy's file (${e.policy ?? 'unknown'}) was not read: pass it with --policy to show its evidence.`;
  return `Regimes and routes come from a policy learned from a rescue probe of this model, each regime with its cross-validated precision.${evidence}`;
}

/** Why the routing panel shows the rows it shows: how many of the failing rows, and which are left out. */
export function routingPanelCaption(report: EvalReport): string {
  const failing = report.rows.filter((r) => r.regime !== 'solved');
  const shown = failing.filter((r) => r.z && Number.isFinite(r.z.concentration!) && Number.isFinite(r.z.spread!) && Number.isFinite(r.z.logit_dispersion!));
  const out = failing.filter((r) => !shown.includes(r));
  const reasons = new Map<string, number>();
  for (const r of out) {
    const why =
      r.route_source === 'policy'
        ? 'routed by the learned policy (no z-scores)'
        : r.regime === 'resample'
          ? 'resample (routed to retry before the features are read)'
          : !r.features || r.features.spread === null || r.features.concentration === null || r.features.logit_dispersion === null
            ? 'without trajectory features (no log-probs or no ancestor)'
            : 'no z-scale';
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  const left = [...reasons].map(([why, n]) => `${n} ${why}`).join('; ');
  return `${shown.length} of ${failing.length} rows with a failed rollout${left ? `; left out: ${left}` : ''}.`;
}

/** The features' scales, said once where they are shown. */
export const FEATURE_SCALES =
  'spread: share of the failed rollouts\' tokens under demotion pressure (0–1); concentration: log10(max J / mean J), how much the worst step stands out (0 = not at all); ' +
  'logit dispersion: log10 of the logit variance around the junction — a log of a variance, so negative is normal (a variance under 1), and higher means more temperature-sensitive.';

/** The rescue-at-budget chart's source and size. */
export function budgetCaption(b: NonNullable<EvalReport['budget']>): string {
  const units = [...new Set(b.curves.map((c) => c.units))];
  return `${b.phase === 'eval' ? 'Fresh eval-phase attempts' : 'Label-phase attempts'} of ${b.path}: ${b.problems} probed problems, ${units.length === 1 ? `${units[0]} failed rollouts per operator` : `${b.curves.map((c) => `${c.operator} ${c.units}`).join(', ')} failed rollouts`}; rescue = share of failed rollouts with a success within the budget.`;
}
