import pLimit from 'p-limit';
import type { Eq2Thresholds } from '../core/defaults.js';
import type { ProblemRecord } from '../core/contracts/problemRecord.js';
import type { RolloutSummary } from '../core/contracts/rollout.js';
import { problemFeatures } from '../core/features/problemFeatures.js';
import { RETRY } from '../core/contracts/operators.js';
import { eq2Label } from '../core/labels/eq2Label.js';
import { seedOf } from '../core/random/seededRandom.js';
import { applyIntervention, type InterventionContext } from '../interventions/applyIntervention.js';
import { operatorName, PAPER_OPERATOR_SPECS, type OperatorSpec } from '../interventions/operators.js';
import { addMeters, emptyMeter, type Meter, meteredModel } from '../models/meteredModel.js';
import type { TokenModel } from '../models/tokenModel.js';
import { type ProbePhase, ProbeJournal } from './probeJournal.js';

/** A failed problem to probe: its prompt, how to grade, and its failed rollouts. */
export interface ProbeTarget {
  problemId: string;
  cell?: string;
  model?: string;
  task?: string;
  prompt: readonly number[];
  /** Grades an attempt's text (a function grader may be async). */
  isCorrect: (text: string) => boolean | Promise<boolean>;
  nRollouts: number;
  nPassed: number;
  failed: { index: number; tokens: readonly number[]; summary: RolloutSummary }[];
  /** This problem's own models (rows of one eval may name different endpoints); default the context's. */
  models?: { specialist: TokenModel; ancestor?: TokenModel | undefined };
  /** This problem's own output budget (the room its prompt leaves in the context); default the context's. */
  maxTokens?: number;
}

/**
 * A part of the probe with its own, disjoint attempts (method.md: selection bias):
 * - label: decides the Eq. 2 label (and selects "steerable" problems);
 * - eval: fresh attempts whose rescue rates are the ones reported, so "routed beats retry" is
 *   not inflated by choosing problems where retry happened to fail in the label attempts;
 * - reprobe: an independent repeat of the label probe on a subset, whose agreement with the
 *   label is the noise ceiling any regime estimate can reach.
 */
export interface PhaseSpec {
  phase: ProbePhase;
  /** Attempts per operator per failed rollout (best-of-n: a rollout is rescued if any succeeds). */
  attempts: number;
  /** Problems this phase runs on (default: every target). */
  problems?: ReadonlySet<string>;
}

export interface ProbeOptions {
  operators?: OperatorSpec[];
  /** Attempts of the label phase (ref 3); used when `phases` is not given. */
  attempts?: number;
  /** The phases to run; default a single label phase of `attempts`. */
  phases?: PhaseSpec[];
  /** Failed rollouts probed per problem (the first ones). */
  maxFailedPerProblem?: number;
  concurrency?: number;
  seed?: number;
  journal?: ProbeJournal;
  thresholds?: Partial<Eq2Thresholds>;
  /** Called after each finished (phase, rollout, operator) unit. */
  onProgress?: (done: number, total: number) => void;
}

export interface ProbeError {
  problem_id: string;
  operator: string;
  rollout: number;
  phase: ProbePhase;
  message: string;
}

/** One fully probed problem: the label phase's record, plus the other phases' measurements. */
export interface ProbedProblem {
  record: ProblemRecord;
  /** Failed rollouts probed. */
  probed: number;
  /** Rescue rate per operator in each phase that ran on this problem. */
  rescue: Partial<Record<ProbePhase, Record<string, number>>>;
  /** The Eq. 2 label of the re-probe, when it ran on this problem. */
  reprobeLabel: ProblemRecord['label'] | null;
  /** What each operator cost on this problem, over every phase. */
  cost: Record<string, Meter>;
}

export interface ProbeResult {
  /** One record per fully probed problem, with the label phase's rescue rates and Eq. 2 label. */
  records: ProblemRecord[];
  /** The same problems with every phase's rates and the cost per operator. */
  problems: ProbedProblem[];
  /** Units that failed (endpoint errors …); their problems have no record. Rerun to resume. */
  errors: ProbeError[];
  /** Cost per operator over the whole probe (journalled attempts included). */
  cost: Record<string, Meter>;
}

/**
 * The rescue probe: for each failed problem, up to `maxFailedPerProblem` failed rollouts, each
 * operator tried up to `attempts` times per rollout in each phase (stopping at the first success,
 * which is all best-of-n needs). r_op = rescued rollouts / probed rollouts per phase; the label
 * follows Eq. 2 on the label phase. Every attempt goes to the journal as it finishes (with what
 * it cost), so an interrupted probe resumes where it stopped and never pays twice.
 */
export async function runProbe(
  targets: readonly ProbeTarget[],
  context: Omit<InterventionContext, 'prompt'>,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const operators = options.operators ?? PAPER_OPERATOR_SPECS;
  const phases = options.phases ?? [{ phase: 'label' as const, attempts: options.attempts ?? 3 }];
  const maxFailed = options.maxFailedPerProblem ?? 4;
  const seed = options.seed ?? 0;
  const journal = options.journal ?? ProbeJournal.inMemory();
  const limit = pLimit(options.concurrency ?? 8);

  const units = phases.flatMap((p) =>
    targets
      .filter((t) => !p.problems || p.problems.has(t.problemId))
      .flatMap((target) =>
        target.failed.slice(0, maxFailed).flatMap((rollout) => operators.map((op) => ({ phase: p, target, rollout, op, name: operatorName(op) }))),
      ),
  );
  const rescued = new Map<string, boolean>();
  const costs = new Map<string, Record<string, Meter>>();
  const errors: ProbeError[] = [];
  let finished = 0;
  const charge = (problemId: string, op: string, m: Meter) => {
    const byOp = costs.get(problemId) ?? {};
    byOp[op] = addMeters(byOp[op] ?? emptyMeter(), m);
    costs.set(problemId, byOp);
  };

  await Promise.all(
    units.map((u) =>
      limit(async () => {
        const { phase } = u.phase;
        try {
          let ok = false;
          for (let attempt = 0; attempt < u.phase.attempts && !ok; attempt++) {
            const prior = journal.get(u.target.problemId, u.rollout.index, u.name, attempt, phase);
            if (prior) {
              ok = prior.success;
              charge(u.target.problemId, u.name, { requests: prior.requests ?? 0, promptTokens: prior.prompt_tokens ?? 0, generatedTokens: prior.tokens ?? 0 });
              continue;
            }
            const meter = emptyMeter();
            const specialist = u.target.models?.specialist ?? context.specialist;
            const ancestor = u.target.models ? u.target.models.ancestor : context.ancestor;
            const result = await applyIntervention(
              u.op,
              {
                ...context,
                specialist: meteredModel(specialist, meter),
                ancestor: ancestor ? meteredModel(ancestor, meter) : undefined,
                prompt: u.target.prompt,
                maxTokens: u.target.maxTokens ?? context.maxTokens,
              },
              { tokens: u.rollout.tokens, junction: u.rollout.summary.junction },
              attempt,
              attemptSeed(seed, u.target.problemId, u.rollout.index, u.name, phase, attempt),
            );
            ok = await u.target.isCorrect(result.text);
            charge(u.target.problemId, u.name, meter);
            await journal.record({
              problem_id: u.target.problemId,
              rollout: u.rollout.index,
              operator: u.name,
              attempt,
              ...(phase === 'label' ? {} : { phase }),
              success: ok,
              position: result.position,
              token: result.token,
              tokens: meter.generatedTokens,
              prompt_tokens: meter.promptTokens,
              requests: meter.requests,
            });
          }
          rescued.set(unitKey(phase, u.target.problemId, u.rollout.index, u.name), ok);
        } catch (err) {
          errors.push({ problem_id: u.target.problemId, operator: u.name, rollout: u.rollout.index, phase, message: (err as Error).message });
        }
        options.onProgress?.(++finished, units.length);
      }),
    ),
  );
  await journal.flush();

  const failedProblems = new Set(errors.map((e) => e.problem_id));
  const rate = (phase: ProbePhase, t: ProbeTarget, probed: ProbeTarget['failed']) =>
    Object.fromEntries(
      operators.map((op) => {
        const name = operatorName(op);
        return [name, probed.filter((r) => rescued.get(unitKey(phase, t.problemId, r.index, name))).length / probed.length];
      }),
    );
  const labelOf = (rescue: Record<string, number>) => (RETRY in rescue && Object.keys(rescue).length > 1 ? eq2Label(rescue, options.thresholds) : undefined);
  const problems = targets
    .filter((t) => !failedProblems.has(t.problemId) && t.failed.length > 0)
    .map((t): ProbedProblem => {
      const probed = t.failed.slice(0, maxFailed);
      const rescue: ProbedProblem['rescue'] = {};
      for (const p of phases) if (!p.problems || p.problems.has(t.problemId)) rescue[p.phase] = rate(p.phase, t, probed);
      const labelRescue = rescue.label ?? {};
      const label = labelOf(labelRescue);
      const record: ProblemRecord = {
        problem_id: t.problemId,
        cell: t.cell ?? 'all',
        ...(t.model ? { model: t.model } : {}),
        ...(t.task ? { task: t.task } : {}),
        n_rollouts: t.nRollouts,
        n_passed: t.nPassed,
        n_failed_rollouts: t.failed.length,
        features: problemFeatures(t.failed.map((r) => r.summary)),
        rescue: labelRescue,
        // Eq. 2 needs retry and at least one intervention; a retry-only probe has no label.
        ...(label ? { label } : {}),
      };
      return { record, probed: probed.length, rescue, reprobeLabel: rescue.reprobe ? (labelOf(rescue.reprobe) ?? null) : null, cost: costs.get(t.problemId) ?? {} };
    });
  const cost: Record<string, Meter> = {};
  for (const byOp of costs.values()) for (const [op, m] of Object.entries(byOp)) cost[op] = addMeters(cost[op] ?? emptyMeter(), m);
  return { records: problems.filter((p) => p.rescue.label).map((p) => p.record), problems, errors, cost };
}

const unitKey = (phase: string, problem: string, rollout: number, op: string) => `${phase}\u0000${problem}\u0000${rollout}\u0000${op}`;

/** The label phase keeps the seeds of the original (single-phase) probe; other phases draw fresh ones. */
function attemptSeed(seed: number, problem: string, rollout: number, op: string, phase: ProbePhase, attempt: number): number {
  return phase === 'label' ? seedOf('probe', seed, problem, rollout, op, attempt) : seedOf('probe', seed, problem, rollout, op, phase, attempt);
}
