import { columnScale } from './viewColumns.js';

/** promptfoo's per-prompt metrics, the parts the view's column header reads. */
export interface PromptMetricsLike {
  namedScores?: Record<string, number>;
  namedScoresCount?: Record<string, number>;
  namedScoreWeights?: Record<string, number>;
}

/**
 * Makes the `promptfoo view` column header read right for our columns. promptfoo 0.121.20 shows
 * a metric in the header as namedScores / total × 100 "%" with total = namedScoreWeights (else
 * namedScoresCount), and, when that total is 0, the plain value of namedScores. So, per prompt:
 * - a share column (0–1) is left as promptfoo summed it: its header is the mean as a percentage;
 * - an indicator column (`regime_<r>`, `route_<r>`: 1 on its own rows only) gets the prompt's
 *   graded rows as its total, so its header is the share of graded rows (a regime or route no
 *   row has is not in the header);
 * - any other column (a plain number in the unit its name says: `concentration_log10`, `z_spread`, …)
 *   gets the mean over its rows as its value and a total of 0, so its header is that mean, not a
 *   percentage; namedScoresCount keeps how many rows had it.
 * `gradedRows` is the number of rows gradeRollouts graded for this prompt; `prefix` the
 * assertion's prefix. Columns that are not ours (another assertion's metrics) are left alone.
 * Mutates and returns `metrics`.
 */
export function fixHeaderMetrics<T extends PromptMetricsLike>(
  metrics: T,
  options: { gradedRows: number; ours: ReadonlySet<string>; prefix?: string },
): T {
  const prefix = options.prefix ?? '';
  const scores = (metrics.namedScores ??= {});
  const counts = (metrics.namedScoresCount ??= {});
  const weights = (metrics.namedScoreWeights ??= {});
  for (const key of Object.keys(scores)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if (!options.ours.has(name)) continue;
    const scale = columnScale(name);
    if (scale === 'indicator') {
      counts[key] = options.gradedRows;
      weights[key] = options.gradedRows;
    } else if (scale === 'number') {
      const n = weights[key] ?? counts[key] ?? 0;
      if (n > 0) scores[key] = scores[key]! / n;
      weights[key] = 0;
    }
  }
  return metrics;
}
