import { createHash } from 'node:crypto';
import { LABELS, type Label } from '../core/contracts/operators.js';
import type { ProbeRecord } from '../core/contracts/probeRecord.js';
import { accuracy, balancedAccuracy } from '../core/policy/balancedAccuracy.js';
import { cohenKappa } from '../core/policy/cohenKappa.js';
import type { InterventionContext } from '../interventions/applyIntervention.js';
import { operatorName, PAPER_OPERATOR_SPECS, type OperatorSpec } from '../interventions/operators.js';
import { addMeters, emptyMeter, type Meter } from '../models/meteredModel.js';
import type { FailingRow } from './failingRow.js';
import { type ProbePhase, ProbeJournal } from './probeJournal.js';
import { type PhaseSpec, type ProbedProblem, type ProbeError, runProbe } from './rescueProbe.js';
import { reprobeRows, rowStratum } from './selectRows.js';
import { toProbeRecord } from './toProbeRecord.js';

export interface MeasureOptions {
  /** Default models and intervention settings (a row's own models and room win). */
  context: Omit<InterventionContext, 'prompt'>;
  /** Attempts per operator per probed rollout that decide the Eq. 2 label (ref 3). */
  attempts: number;
  /** Fresh attempts that measure the rescue reported (the eval split). */
  evalAttempts: number;
  /** Share of the rows probed again, independently, for the noise ceiling (0 = none). */
  reprobe: number;
  /** Failed rollouts probed per row (the first ones). */
  maxFailed: number;
  concurrency: number;
  seed: number;
  operators?: OperatorSpec[];
  journal?: ProbeJournal;
  /** The probe's settings fingerprint, stored on every record (see settingsFingerprint). */
  settings: string;
  cell?: string;
  onProgress?: (done: number, total: number) => void;
}

/** What one operator cost over the probe: attempts made, requests, tokens read and generated. */
export interface OperatorCost extends Meter {
  operator: string;
  attempts: number;
}

/** Probe-vs-re-probe agreement of the Eq. 2 label on the re-probed rows: the noise ceiling. */
export interface LabelCeiling {
  n: number;
  agreement: number;
  /** Null when κ is undefined (both probes gave every row one and the same label). */
  kappa: number | null;
  balanced_accuracy: number;
}

export interface Measurement {
  /** One probe record per fully probed row (the contract `calibrate` reads). */
  records: ProbeRecord[];
  problems: ProbedProblem[];
  /** Units that failed (endpoint errors …): their rows have no record; rerun to resume. */
  errors: ProbeError[];
  labels: Record<Label, number>;
  /** Rows the re-probe ran on, and the agreement there (null without a re-probe). */
  reprobed: number;
  ceiling: LabelCeiling | null;
  /** Per operator, over every phase of this probe (journalled attempts included). */
  cost: OperatorCost[];
  /** Per row and operator (also in the records' `tokens`, which sums read and generated tokens). */
  rowCost: { problem_id: string; cost: Record<string, Meter> }[];
}

/** A short, stable fingerprint of a probe's settings (sha-256 of their JSON, 16 hex digits). */
export function settingsFingerprint(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/** Probe-vs-re-probe agreement, Cohen's κ and balanced accuracy over the rows with both labels. */
export function labelCeiling(pairs: readonly { label: Label; reprobe: Label }[]): LabelCeiling | null {
  if (pairs.length === 0) return null;
  const a = pairs.map((p) => p.label);
  const b = pairs.map((p) => p.reprobe);
  const kappa = cohenKappa(a, b);
  return { n: pairs.length, agreement: accuracy(a, b), kappa: Number.isFinite(kappa) ? kappa : null, balanced_accuracy: balancedAccuracy(a, b) };
}

/**
 * Measures rescue on failing rows, free of selection bias and aware of noise (method.md):
 * every operator on up to `maxFailed` failed rollouts per row, in three phases with disjoint
 * seeds — `label` attempts decide the Eq. 2 label; fresh `eval` attempts give the rescue that is
 * reported; a `reprobe` of a seeded stratified share of the rows repeats the label phase
 * independently, so label noise is measured (the ceiling any regime estimate can reach).
 * Journalled per attempt, resumable, concurrency-limited; returns the probe records, the label
 * counts, the ceiling and what each operator cost.
 */
export async function measureRows(rows: readonly FailingRow[], options: MeasureOptions): Promise<Measurement> {
  const operators = options.operators ?? PAPER_OPERATOR_SPECS;
  const reprobe = reprobeRows(rows, rowStratum, options.reprobe, options.seed);
  const phases: PhaseSpec[] = [
    { phase: 'label', attempts: options.attempts },
    { phase: 'eval', attempts: options.evalAttempts },
    ...(reprobe.length > 0 ? [{ phase: 'reprobe' as const, attempts: options.attempts, problems: new Set(reprobe.map((r) => r.problemId)) }] : []),
  ];
  const journal = options.journal ?? ProbeJournal.inMemory();
  const result = await runProbe(rows, options.context, {
    operators,
    phases,
    maxFailedPerProblem: options.maxFailed,
    concurrency: options.concurrency,
    seed: options.seed,
    journal,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });

  const byId = new Map(rows.map((r) => [r.problemId, r]));
  const records = result.problems
    .filter((p) => p.rescue.label)
    .map((p) => {
      const row = byId.get(p.record.problem_id)!;
      return toProbeRecord(p, row.signals, {
        description: row.description,
        ...(row.cell ? { cell: row.cell } : options.cell ? { cell: options.cell } : {}),
        model: row.model ?? null,
        task: row.task ?? null,
        ancestorSamples: row.ancestorSamples,
        labelAttempts: options.attempts,
        evalAttempts: options.evalAttempts,
        settings: options.settings,
      });
    });
  const labels = Object.fromEntries(LABELS.map((l) => [l, records.filter((r) => r.label === l).length])) as Record<Label, number>;
  const pairs = records.flatMap((r) => (r.reprobe_label ? [{ label: r.label, reprobe: r.reprobe_label }] : []));

  const probed = new Set(rows.map((r) => r.problemId));
  const names = operators.map(operatorName);
  const attempts = new Map<string, number>(names.map((n) => [n, 0]));
  for (const e of journal.entries()) if (probed.has(e.problem_id) && attempts.has(e.operator)) attempts.set(e.operator, attempts.get(e.operator)! + 1);
  const cost = names.map((operator) => ({ operator, attempts: attempts.get(operator)!, ...(result.cost[operator] ?? emptyMeter()) }));
  return {
    records,
    problems: result.problems,
    errors: result.errors,
    labels,
    reprobed: reprobe.length,
    ceiling: labelCeiling(pairs),
    cost,
    rowCost: result.problems.map((p) => ({ problem_id: p.record.problem_id, cost: p.cost })),
  };
}

/** The total of a cost table. */
export function totalCost(cost: readonly OperatorCost[]): OperatorCost {
  return cost.reduce((acc, c) => ({ ...addMeters(acc, c), operator: 'total', attempts: acc.attempts + c.attempts }), { operator: 'total', attempts: 0, ...emptyMeter() });
}

export type { ProbePhase };
