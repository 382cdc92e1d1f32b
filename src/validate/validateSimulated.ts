import { routingReport } from '../core/analysis/routingReport.js';
import { rescueAtBudget } from '../core/analysis/rescueAtBudget.js';
import { LABELS, RETRY } from '../core/contracts/operators.js';
import { FEATURE_NAMES } from '../core/contracts/problemRecord.js';
import { seedOf } from '../core/random/seededRandom.js';
import { zScores } from '../core/routing/zScore.js';
import { accuracyOf, nearestCentroidCV } from '../core/stats/nearestCentroidCV.js';
import { INTERVENTION_DEFAULTS, type InterventionContext } from '../interventions/applyIntervention.js';
import { type OperatorSpec, operatorName, PAPER_OPERATOR_SPECS } from '../interventions/operators.js';
import { ProbeJournal } from '../probe/probeJournal.js';
import { simulatedTargets } from '../probe/probeSimulated.js';
import { runProbe, type ProbeTarget } from '../probe/rescueProbe.js';
import type { Mix } from '../simulator/mechanisms.js';

export interface ValidateOptions {
  problems: number;
  seed: number;
  mix?: Mix;
  samples?: number;
  attempts?: number;
  /** Largest retry budget (attempts per failed rollout) of the rescue-at-budget study. */
  budgetMax?: number;
  /** Largest routed budget. */
  routedBudgetMax?: number;
  /** The stage (sampling, probing, budget) and, within probing and budget, units done of total. */
  onProgress?: (phase: string, done?: number, total?: number) => void;
}

export interface ValidationResult {
  problems: number;
  failed_problems: number;
  labels: Record<string, number>;
  /** (a) Cross-validated nearest-centroid accuracy of the three features at predicting the Eq. 2 label. */
  accuracy: number;
  majority: number;
  /** confusion[true][predicted]. */
  confusion: Record<string, Record<string, number>>;
  /** (b) On the steerable failures (best-of-`attempts`). */
  steerable: number;
  routed_rescue: number | null;
  fixed_rescue: Record<string, number>;
  retry_rescue: number | null;
  /** (c) Rescue within b attempts per failed rollout, b = 1…budget. */
  retry_at_budget: number[];
  routed_at_budget: number[];
  routed_at_10_reaches_retry_at_50: boolean | null;
}

/**
 * The paper's experiment on a simulated population: sample, probe (best-of-n per operator),
 * label by Eq. 2; then (a) how well the three features predict the labels — nearest-centroid
 * 5-fold CV against the majority class, with the confusion matrix; (b) on the steerable
 * failures, routed rescue against every fixed operator and retry; (c) rescue at budget on the
 * steerable failures: retry at 1…budgetMax attempts against the routed operator at 1…10.
 */
export async function validateSimulated(opts: ValidateOptions): Promise<ValidationResult> {
  const attempts = opts.attempts ?? 3;
  const budgetMax = opts.budgetMax ?? 50;
  const routedMax = opts.routedBudgetMax ?? 10;
  opts.onProgress?.('sampling');
  const { simulator, targets } = await simulatedTargets({ problems: opts.problems, seed: opts.seed, samples: opts.samples ?? 12, attempts, ...(opts.mix ? { mix: opts.mix } : {}) });
  const ctx: Omit<InterventionContext, 'prompt'> = { ...INTERVENTION_DEFAULTS, specialist: simulator.specialist, ancestor: simulator.ancestor, maxTokens: 128 };
  opts.onProgress?.('probing');
  const { records, errors } = await runProbe(targets, ctx, { attempts, seed: opts.seed, onProgress: (d, t) => opts.onProgress?.('probing', d, t) });
  if (errors.length > 0) throw new Error(`probe failed on ${errors.length} units: ${errors[0]!.message}`);

  // (a) features → labels.
  const labelIndex = (l: string) => LABELS.indexOf(l as (typeof LABELS)[number]);
  const cols = FEATURE_NAMES.map((f) => zScores(records.map((r) => r.features[f] as number)));
  const X = records.map((_, i) => cols.map((c) => c[i]!));
  const y = records.map((r) => labelIndex(r.label!));
  const counts = Object.fromEntries(LABELS.map((l) => [l, records.filter((r) => r.label === l).length]));
  const predicted = records.length >= 10 ? nearestCentroidCV(X, y, 5, opts.seed) : y.map(() => -1);
  const confusion = Object.fromEntries(LABELS.map((t) => [t, Object.fromEntries(LABELS.map((p) => [p, 0]))])) as Record<string, Record<string, number>>;
  predicted.forEach((p, i) => {
    if (p >= 0) confusion[LABELS[y[i]!]!]![LABELS[p]!]!++;
  });

  // (b) routing on the steerable failures (z over that set, pooled).
  const steerable = records.filter((r) => r.label === 'steerable');
  const routing = steerable.length > 0 ? routingReport(steerable) : null;

  // (c) rescue at budget on the steerable failures: fresh probes with larger budgets.
  let retryAtBudget: number[] = [];
  let routedAtBudget: number[] = [];
  if (routing) {
    opts.onProgress?.('budget');
    const byId = new Map(targets.map((t) => [t.problemId, t]));
    const steerTargets = steerable.map((r) => byId.get(r.problem_id)!);
    const budgetSeed = seedOf('budget', opts.seed);
    const retryJournal = ProbeJournal.inMemory();
    await runProbe(steerTargets, ctx, { operators: [{ kind: 'retry', name: RETRY }], attempts: budgetMax, seed: budgetSeed, journal: retryJournal, onProgress: (d, t) => opts.onProgress?.('budget: retry', d, t) });
    retryAtBudget = curve(retryJournal, budgetMax);

    const routedJournal = ProbeJournal.inMemory();
    const groups = new Map<string, ProbeTarget[]>();
    routing.decisions.forEach((d, i) => {
      const op = d.operator ?? 'sparse_steer_random';
      groups.set(op, [...(groups.get(op) ?? []), steerTargets[i]!]);
    });
    for (const [op, group] of groups) {
      await runProbe(group, ctx, { operators: [specFor(op)], attempts: routedMax, seed: budgetSeed, journal: routedJournal, onProgress: (d, t) => opts.onProgress?.(`budget: ${op}`, d, t) });
    }
    const routedEntries = routedJournal.entries().map((e) => ({ ...e, operator: 'routed' }));
    routedAtBudget = rescueAtBudget(routedEntries).map((p) => p.rescue);
    while (routedAtBudget.length < routedMax && routedAtBudget.length > 0) routedAtBudget.push(routedAtBudget.at(-1)!);
  }

  return {
    problems: opts.problems,
    failed_problems: records.length,
    labels: counts,
    accuracy: accuracyOf(predicted, y),
    majority: records.length > 0 ? Math.max(...Object.values(counts)) / records.length : NaN,
    confusion,
    steerable: steerable.length,
    routed_rescue: routing?.routed_rescue ?? null,
    fixed_rescue: routing?.fixed_rescue ?? {},
    retry_rescue: routing?.retry_rescue ?? null,
    retry_at_budget: retryAtBudget,
    routed_at_budget: routedAtBudget,
    routed_at_10_reaches_retry_at_50:
      routedAtBudget.length >= 10 && retryAtBudget.length >= 50 ? routedAtBudget[9]! >= retryAtBudget[49]! - 1e-12 : null,
  };
}

function curve(journal: ProbeJournal, budget: number): number[] {
  const points = rescueAtBudget(journal.entries());
  const out = points.map((p) => p.rescue);
  while (out.length < budget && out.length > 0) out.push(out.at(-1)!); // every unit was rescued before the budget ran out
  return out;
}

function specFor(operator: string): OperatorSpec {
  const spec = PAPER_OPERATOR_SPECS.find((s) => operatorName(s) === operator);
  if (!spec) throw new Error(`no operator spec for routed operator "${operator}"`);
  return spec;
}

