import { quantileRankSorted } from 'simple-statistics';
import { FEATURE_NAMES, type FeatureName } from '../core/contracts/problemRecord.js';

/**
 * The columns a row shows in `promptfoo view` (its named scores), and how each reads.
 *
 * promptfoo 0.121.20 renders named scores as pills, sorted by name, the first 10 per row (the
 * rest behind "Show more…"), each value with two decimals; the column header shows each metric's
 * mean over the rows *as a percentage* (sum / count × 100). So every column shown by default is
 * a share from 0 to 1 (its header mean is then a true percentage), and the few that are not
 * (under `columns: all`) carry their unit in their name; the afterAll hook rewrites their header
 * entry to a plain mean (headerMetrics.ts).
 */
export const COLUMN_SETS = ['default', 'all'] as const;
export type ColumnSet = (typeof COLUMN_SETS)[number];

/** A column's scale: a share 0–1 (its header mean reads as a percentage), an indicator 0/1 present only on its rows, or a plain number in the unit its name says. */
export type ColumnScale = 'share' | 'indicator' | 'number';

/** What one row offers; null = not measured. */
export interface RowColumnValues {
  n_rollouts: number;
  n_passed: number;
  pass_rate: number | null;
  /** pass@k and pass^k per k (only k ≤ n). */
  pass_at: Record<number, number>;
  pass_hat: Record<number, number>;
  ancestor_pass_rate: number | null;
  spread: number | null;
  concentration: number | null;
  logit_dispersion: number | null;
  answer_entropy: number | null;
  wrong_mode_share: number | null;
  mean_token_entropy: number | null;
  mean_logprob: number | null;
  min_window_confidence: number | null;
  dispersion_at_min_confidence: number | null;
  retry_rescue_est: number | null;
  /** z-scores on the reference scale (paper's rule with `reference`), else null. */
  z: Partial<Record<FeatureName, number>> | null;
  regime: string;
  route: string | null;
  /** The learned policy's cross-validated precision for this regime (null for the paper's rule). */
  precision: number | null;
}

/** Sorted values of each feature over a reference population of failures (for percentiles). */
export type ReferenceValues = Record<FeatureName, readonly number[]>;

/**
 * Share of the reference failures at or below `value` (ties count half-way: simple-statistics'
 * quantileRankSorted): 0 = below every reference failure, 1 = above every one. Null without values.
 *
 * @example featurePercentile([1, 2, 3, 4], 3) // 0.75
 */
export function featurePercentile(sorted: readonly number[], value: number): number | null {
  if (sorted.length === 0 || !Number.isFinite(value)) return null;
  return quantileRankSorted(sorted as number[], value);
}

/** The scale of each column gradeRollouts can write (names without the user's prefix). */
export function columnScale(name: string): ColumnScale {
  if (name.startsWith('regime_') && name !== 'regime_precision') return 'indicator';
  if (name.startsWith('route_')) return 'indicator';
  if (SHARE_COLUMNS.has(name) || /^pass_(at|hat)_\d+$/.test(name) || name.endsWith('_pctl')) return 'share';
  return 'number';
}

/** Shares 0–1 by name; `rescued` (1/0 per repaired row, the repair's columns) averages to the rescue rate. */
const SHARE_COLUMNS = new Set(['pass_rate', 'ancestor_pass_rate', 'spread', 'wrong_mode_share', 'retry_rescue_est', 'regime_precision', 'rescued']);

/**
 * The named scores of one row.
 * Default (`columns: default`) — only what a person reads first, each a share 0–1 or an indicator:
 * - `pass_rate`: share of the K rollouts that pass (= pass@1);
 * - `pass_at_<k>` for the largest configured k with 1 < k ≤ K: P(at least one of k samples passes);
 * - `ancestor_pass_rate`: share of the ancestor's own samples that pass (when drawn);
 * - `spread`: share of the failed rollouts' tokens under demotion pressure (J > 0);
 * - `concentration_pctl`, `logit_dispersion_pctl`: percentile of the row's feature among the
 *   reference population's failures (with `reference`); without one, `concentration_log10`
 *   (log10 of max J / mean J) and `logit_dispersion_log10` (log10 of a logit variance: negative is normal);
 * - `regime_<regime>` and `route_<route>`: 1, present only on the rows of that regime / route
 *   (filter "is defined"; the afterAll hook turns their header into the share of graded rows);
 * - `regime_precision`: the learned policy's cross-validated precision for the row's regime.
 * `columns: all` adds every other pass@k and pass^k, `spread_pctl`, the z-scores (`z_<feature>`,
 * in reference SDs), the raw features with their unit (`concentration_log10`,
 * `logit_dispersion_log10`), the answer distribution (`answer_entropy_nats`, `wrong_mode_share`),
 * the specialist-only signals (`mean_token_entropy_nats`, `mean_logprob_nats`,
 * `min_window_confidence_nats`, `dispersion_at_min_confidence_log10`) and `retry_rescue_est`.
 * Non-finite values are left out.
 */
export function rowColumns(v: RowColumnValues, options: { set?: ColumnSet; reference?: ReferenceValues | null; prefix?: string } = {}): Record<string, number> {
  const all = options.set === 'all';
  const ref = options.reference ?? null;
  const out: Record<string, number> = {};
  const put = (name: string, x: number | null | undefined) => {
    if (typeof x === 'number' && Number.isFinite(x)) out[(options.prefix ?? '') + name] = x;
  };

  put('pass_rate', v.pass_rate);
  const ks = Object.keys(v.pass_at).map(Number).sort((a, b) => a - b);
  const shownK = ks.filter((k) => k > 1 && k <= v.n_rollouts).at(-1);
  for (const k of ks) {
    if (all || k === shownK) put(`pass_at_${k}`, v.pass_at[k]);
    if (all) put(`pass_hat_${k}`, v.pass_hat[k]);
  }
  put('ancestor_pass_rate', v.ancestor_pass_rate);
  put('spread', v.spread);
  for (const f of FEATURE_NAMES) {
    const value = v[f];
    const pctl = ref && value !== null ? featurePercentile(ref[f], value) : null;
    if (f !== 'spread' || all) put(`${f}_pctl`, pctl);
    if (f !== 'spread' && (all || pctl === null)) put(`${f}_log10`, value);
  }
  put(`regime_${v.regime}`, 1);
  if (v.route) put(`route_${v.route}`, 1);
  put('regime_precision', v.precision);
  if (all) {
    for (const f of FEATURE_NAMES) put(`z_${f}`, v.z?.[f]);
    put('answer_entropy_nats', v.answer_entropy);
    put('wrong_mode_share', v.wrong_mode_share);
    put('mean_token_entropy_nats', v.mean_token_entropy);
    put('mean_logprob_nats', v.mean_logprob);
    put('min_window_confidence_nats', v.min_window_confidence);
    put('dispersion_at_min_confidence_log10', v.dispersion_at_min_confidence);
    put('retry_rescue_est', v.retry_rescue_est);
  }
  return out;
}
