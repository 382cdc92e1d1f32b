import { type ProbeRecord, ProbeRecordSchema } from '../core/contracts/probeRecord.js';
import { parseWith } from '../core/contracts/validate.js';
import type { RowSignalValues } from '../core/signals/rowSignals.js';
import type { ProbedProblem } from './rescueProbe.js';

export interface ProbeRecordContext {
  description?: string | null;
  cell?: string;
  model?: string | null;
  task?: string | null;
  /** Ancestor samples behind `ancestor_pass_rate` (null when none were drawn). */
  ancestorSamples: number | null;
  labelAttempts: number;
  /** Attempts of the fresh eval phase; null when the probe ran none (then label and eval coincide). */
  evalAttempts: number | null;
  /** Fingerprint of the probe's settings. */
  settings: string;
}

/**
 * A probed problem as the probe record `calibrate` reads: the row's prospective signals, the
 * label phase's rates as `label_rescue`, the eval phase's fresh rates as `eval_rescue` (split
 * "disjoint"; without an eval phase the label rates serve both and the split is "same"), the
 * re-probe label, and the tokens each operator cost (read + generated, every phase).
 */
export function toProbeRecord(p: ProbedProblem, signals: RowSignalValues, ctx: ProbeRecordContext): ProbeRecord {
  const label = p.rescue.label;
  if (!label) throw new Error(`problem ${p.record.problem_id} has no label-phase rates`);
  const evalRates = p.rescue.eval ?? null;
  const tokens = Object.fromEntries(Object.entries(p.cost).map(([op, m]) => [op, m.promptTokens + m.generatedTokens]));
  return parseWith(
    ProbeRecordSchema,
    {
      problem_id: p.record.problem_id,
      description: ctx.description ?? null,
      cell: ctx.cell ?? p.record.cell,
      model: ctx.model ?? p.record.model ?? null,
      task: ctx.task ?? p.record.task ?? null,
      ...signals,
      ancestor_samples: signals.ancestor_pass_rate === null ? null : ctx.ancestorSamples,
      n_probed: p.probed,
      label_attempts: ctx.labelAttempts,
      eval_attempts: evalRates ? ctx.evalAttempts : ctx.labelAttempts,
      label_rescue: label,
      eval_rescue: evalRates ?? label,
      tokens,
      reprobe_label: p.reprobeLabel,
      split: evalRates ? 'disjoint' : 'same',
      settings: ctx.settings,
    },
    `probe record ${p.record.problem_id}`,
  );
}
