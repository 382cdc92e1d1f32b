import type { FeatureTableAnalysis } from '../core/analysis/analyzeFeatureTable.js';
import { LABELS } from '../core/contracts/operators.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signed = (x: number | undefined) => (x === undefined ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);

/** Renders aligned text columns. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The human-readable form of `recoverability route`. */
export function formatRouteText(a: FeatureTableAnalysis, ctx: { title: string; zScope: string }): string {
  const { taxonomy: t, routing: r } = a;
  const lines = [`Failures: ${ctx.title} (${t.n})`, ''];
  lines.push(table([['regime', 'count', 'share'], ...LABELS.map((l) => [l, String(t.counts[l]), pct(t.shares[l])])]));
  lines.push('');
  if (!r) {
    lines.push(`Routing: skipped (${a.routingSkipped})`);
    return lines.join('\n');
  }
  lines.push(`Routing the ${r.n} steerable failures (z-scores ${ctx.zScope}):`);
  const features = Object.keys(Object.values(r.meanZ)[0] ?? {});
  lines.push(
    table([
      ['routed to', 'count', ...features.map((f) => `mean z ${f}`)],
      ...Object.entries(r.counts)
        .sort((x, y) => y[1] - x[1])
        .map(([op, n]) => [op, String(n), ...features.map((f) => signed(r.meanZ[op]?.[f as keyof (typeof r.meanZ)[string]]))]),
    ]),
  );
  lines.push('');
  const fixed = Object.entries(r.fixed_rescue).sort((x, y) => y[1] - x[1]);
  lines.push(
    table([
      ['rescue on the steerable failures', 'rate'],
      ['routed (the rule)', pct(r.routed_rescue)],
      ...fixed.map(([op, rate]) => [`always ${op}`, pct(rate)]),
      ['retry', pct(r.retry_rescue)],
    ]),
  );
  return lines.join('\n');
}
