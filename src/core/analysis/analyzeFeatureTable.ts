import type { Eq2Thresholds } from '../defaults.js';
import type { ProblemRecord } from '../contracts/problemRecord.js';
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from '../routing/routingPolicy.js';
import { labelRecords } from './labelRecords.js';
import { routingReport, type RoutingReport } from './routingReport.js';
import { taxonomy, type Taxonomy } from './taxonomy.js';

export interface FeatureTableAnalysis {
  taxonomy: Taxonomy;
  /** The routing report on the steerable failures, or null when there are none or no rescue rates. */
  routing: RoutingReport | null;
  /** Why `routing` is null, when it is. */
  routingSkipped?: string;
}

export interface AnalyzeOptions {
  policy?: RoutingPolicy;
  thresholds?: Partial<Eq2Thresholds>;
  /** z-score within each cell instead of over the pooled steerable failures. */
  byCell?: boolean;
}

/**
 * The worked example of method.md on a feature table: Eq. 2 taxonomy of all failures, then
 * the routing rule evaluated on the steerable ones (z over the steerable set being routed —
 * the protocol behind the reference numbers — pooled or within each cell).
 */
export function analyzeFeatureTable(records: readonly ProblemRecord[], options: AnalyzeOptions = {}): FeatureTableAnalysis {
  const labelled = labelRecords(records, options.thresholds);
  const tax = taxonomy(labelled.map((r) => r.label));
  const steerable = labelled.filter((r) => r.label === 'steerable');
  if (steerable.length === 0) return { taxonomy: tax, routing: null, routingSkipped: 'no steerable failures' };
  if (!steerable.every((r) => r.rescue)) {
    return { taxonomy: tax, routing: null, routingSkipped: 'the steerable failures have no rescue rates (run the probe)' };
  }
  const routing = routingReport(steerable, options.policy ?? DEFAULT_ROUTING_POLICY, options.byCell ? (r) => r.cell : undefined);
  return { taxonomy: tax, routing };
}
