import { mean } from 'simple-statistics';
import { RETRY } from '../contracts/operators.js';
import type { FeatureName, ProblemRecord } from '../contracts/problemRecord.js';
import { route, type RouteDecision } from '../routing/route.js';
import { ContractError } from '../contracts/validate.js';
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from '../routing/routingPolicy.js';

export interface RoutingReport {
  n: number;
  /** Failures routed to each operator. */
  counts: Record<string, number>;
  /** Mean z-score of every feature within each routed group. */
  meanZ: Record<string, Partial<Record<FeatureName, number>>>;
  /** Mean over the failures of the rescue rate of the operator each was routed to. */
  routed_rescue: number;
  /** Mean rescue rate of each intervention applied to every failure (retry excluded). */
  fixed_rescue: Record<string, number>;
  retry_rescue: number;
  decisions: RouteDecision[];
}

/**
 * The paper's routing evaluation on a set of failures that have rescue rates (normally the
 * steerable ones): route with `policy` (z over this set, or within each group of `groupBy`),
 * then compare routed rescue with every fixed operator and with retry. Throws a ContractError when
 * a record lacks a needed rescue rate, naming the record and the operator.
 */
export function routingReport(
  records: readonly ProblemRecord[],
  policy: RoutingPolicy = DEFAULT_ROUTING_POLICY,
  groupBy?: (record: ProblemRecord) => string,
): RoutingReport {
  const decisions = route(records, policy, groupBy && ((i) => groupBy(records[i]!)));
  const rate = (i: number, op: string): number => {
    const r = records[i]!.rescue?.[op];
    if (r === undefined) {
      throw new ContractError(`record #${i} (${records[i]!.problem_id}) has no rescue rate for "${op}", which the routing report needs`, [{ path: `[${i}].rescue.${op}`, message: 'missing' }]);
    }
    return r;
  };

  const counts: Record<string, number> = {};
  const members: Record<string, number[]> = {};
  decisions.forEach((d, i) => {
    const op = d.operator ?? 'unrouted';
    counts[op] = (counts[op] ?? 0) + 1;
    (members[op] ??= []).push(i);
  });

  const features = Object.keys(policy.mapping) as FeatureName[];
  const meanZ: RoutingReport['meanZ'] = {};
  for (const [op, idx] of Object.entries(members)) {
    meanZ[op] = Object.fromEntries(features.map((f) => [f, mean(idx.map((i) => decisions[i]!.z[f]!))]));
  }

  const n = records.length;
  const average = (values: number[]) => (values.length > 0 ? mean(values) : NaN);
  const operators = commonOperators(records).filter((op) => op !== RETRY);
  return {
    n,
    counts,
    meanZ,
    routed_rescue: average(decisions.map((d, i) => (d.operator === null ? 0 : rate(i, d.operator)))),
    fixed_rescue: Object.fromEntries(operators.map((op) => [op, average(records.map((_, i) => rate(i, op)))])),
    retry_rescue: average(records.map((_, i) => rate(i, RETRY))),
    decisions,
  };
}

/** Operators with a rescue rate on every record, in first-seen order. */
function commonOperators(records: readonly ProblemRecord[]): string[] {
  if (records.length === 0) return [];
  const first = Object.keys(records[0]!.rescue ?? {});
  return first.filter((op) => records.every((r) => r.rescue?.[op] !== undefined));
}
