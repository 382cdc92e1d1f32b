import { LABELS, type Label } from '../core/contracts/operators.js';
import { probeOperators, type ProbeRecord } from '../core/contracts/probeRecord.js';
import type { Meter } from '../models/meteredModel.js';
import type { LabelCeiling, Measurement, OperatorCost } from './measureRows.js';
import { totalCost } from './measureRows.js';

/** Mean eval-split rescue per operator over some probed rows (null when there are none). */
export function meanEvalRescue(records: readonly ProbeRecord[]): Record<string, number> | null {
  if (records.length === 0) return null;
  return Object.fromEntries(probeOperators(records[0]!).map((op) => [op, records.reduce((s, r) => s + (r.eval_rescue[op] ?? 0), 0) / records.length]));
}

/**
 * What `recoverability probe` reports (printed, and written as `<out>.summary.json`). Keys:
 * - source: `eval` | `lineage` | `sim`; eval_id (eval only); settings: the fingerprint on every record;
 * - population: rows read (or problems sampled), failing rows, rows skipped by reason, rows selected
 *   (budget, strata: rows per stratum, estimated regime × pass-rate band), token provenance;
 * - labels: Eq. 2 label counts of the label split; reprobed and ceiling (agreement, kappa,
 *   balanced_accuracy of probe vs independent re-probe);
 * - eval_rescue: mean fresh (eval-split) rescue per operator over all probed rows and over the rows
 *   labelled steerable;
 * - cost: per operator attempts, requests, prompt_tokens (read) and generated_tokens, and their
 *   total; row_cost: the same per row and operator; errors: units that failed.
 */
export interface ProbeSummary {
  source: 'eval' | 'lineage' | 'sim';
  eval_id: string | null;
  settings: string;
  population: {
    rows: number;
    failing: number;
    skipped: Record<string, number>;
    selected: number;
    budget: number | null;
    strata: Record<string, number>;
    tokens: { stored: number; resampled: number; retokenized: number; unreadable: string[] } | null;
  };
  attempts: { label: number; eval: number; reprobe: number };
  probed: number;
  labels: Record<Label, number>;
  reprobed: number;
  ceiling: LabelCeiling | null;
  eval_rescue: { all: Record<string, number> | null; steerable: Record<string, number> | null };
  cost: (OperatorCost & { requests_per_attempt: number | null })[];
  total: OperatorCost;
  /** Requests made outside the operators (learning an endpoint's stop token, re-sampling missing rollouts). */
  overhead_requests: number;
  row_cost: { problem_id: string; cost: Record<string, { requests: number; prompt_tokens: number; generated_tokens: number }> }[];
  errors: number;
}

const meterJson = (m: Meter) => ({ requests: m.requests, prompt_tokens: m.promptTokens, generated_tokens: m.generatedTokens });

export function probeSummary(
  m: Measurement,
  context: {
    source: ProbeSummary['source'];
    evalId: string | null;
    settings: string;
    population: ProbeSummary['population'];
    attempts: ProbeSummary['attempts'];
    overheadRequests: number;
  },
): ProbeSummary {
  const steerable = m.records.filter((r) => r.label === 'steerable');
  return {
    source: context.source,
    eval_id: context.evalId,
    settings: context.settings,
    population: context.population,
    attempts: context.attempts,
    probed: m.records.length,
    labels: Object.fromEntries(LABELS.map((l) => [l, m.labels[l]])) as Record<Label, number>,
    reprobed: m.reprobed,
    ceiling: m.ceiling,
    eval_rescue: { all: meanEvalRescue(m.records), steerable: meanEvalRescue(steerable) },
    cost: m.cost.map((c) => ({ ...c, requests_per_attempt: c.attempts > 0 ? c.requests / c.attempts : null })),
    total: totalCost(m.cost),
    overhead_requests: context.overheadRequests,
    row_cost: m.rowCost.map((r) => ({ problem_id: r.problem_id, cost: Object.fromEntries(Object.entries(r.cost).map(([op, c]) => [op, meterJson(c)])) })),
    errors: m.errors.length,
  };
}
