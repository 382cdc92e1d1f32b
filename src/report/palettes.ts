/**
 * One colour per meaning across the report's charts and tables: regimes (and the probe's
 * measured labels, which name the same regimes) in one palette, routes (= operators, and stop)
 * in another, with no colour in both.
 */
export const REGIME_COLORS: Readonly<Record<string, string>> = {
  resample: '#4c78a8',
  steerable: '#f58518',
  beyond_reach: '#e45756',
  retry_insufficient: '#b279a2',
  solved: '#9d9d9d',
};

export const ROUTE_COLORS: Readonly<Record<string, string>> = {
  retry: '#54a24b',
  sparse_steer: '#d6a300',
  sparse_steer_random: '#9d755d',
  local_temp: '#17becf',
  dense_steer: '#7b4fd1',
  stop: '#333333',
  none: '#c7c7c7',
};

/** Colours for routes outside the known ones (another operator a policy names), never a regime's. */
const EXTRA_ROUTE_COLORS = ['#8c564b', '#bcbd22', '#1f3b73', '#637939', '#e377c2', '#006d5b'];

/** The regimes in reading order (chart axes, legends). */
export const REGIME_ORDER = ['resample', 'steerable', 'beyond_reach', 'retry_insufficient'] as const;

/** A Vega-Lite colour scale for these regimes (fixed domain, so a regime keeps its colour in every chart). */
export function regimeScale(regimes: readonly string[] = REGIME_ORDER) {
  return { domain: [...regimes], range: regimes.map((g) => REGIME_COLORS[g] ?? '#9d9d9d') };
}

/** A Vega-Lite colour scale for these routes, known ones first in a fixed order. */
export function routeScale(routes: readonly string[]) {
  const known = Object.keys(ROUTE_COLORS).filter((r) => routes.includes(r));
  const other = [...new Set(routes.filter((r) => !(r in ROUTE_COLORS)))].sort();
  return { domain: [...known, ...other], range: [...known.map((r) => ROUTE_COLORS[r]!), ...other.map((_, i) => EXTRA_ROUTE_COLORS[i % EXTRA_ROUTE_COLORS.length]!)] };
}
