import type { RowSignalValues } from '../core/signals/rowSignals.js';
import type { ProbeTarget } from './rescueProbe.js';

/**
 * A failing row ready to be probed, from any source (an eval output, the embedded lineage, the
 * simulator): the probe target (prompt ids, grader, failed rollouts with their tokens and
 * junctions, models, output room) and what its probe record carries besides the measurement.
 */
export interface FailingRow extends ProbeTarget {
  /** promptfoo's test description (or a readable name), for people. */
  description: string | null;
  /** promptfoo's test index, when the row came from an eval. */
  testIdx: number | null;
  /** The row's prospective signals (rowSignals), computed before any repair. */
  signals: RowSignalValues;
  /** The regime estimated before probing (the eval's verdict, or the paper's rule): one stratum axis. */
  estimatedRegime: string;
  /** Ancestor samples behind `signals.ancestor_pass_rate` (null when none were drawn). */
  ancestorSamples: number | null;
}
