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
import { ProbeJournal } from './probeJournal.js';

/** A failed problem to probe: its prompt, how to grade, and its failed rollouts. */
export interface ProbeTarget {
  problemId: string;
  cell?: string;
  model?: string;
  task?: string;
  prompt: readonly number[];
  isCorrect: (text: string) => boolean;
  nRollouts: number;
  nPassed: number;
  failed: { index: number; tokens: readonly number[]; summary: RolloutSummary }[];
}

export interface ProbeOptions {
  operators?: OperatorSpec[];
  /** Attempts per operator per failed rollout: a rollout counts as rescued if any succeeds (ref 3). */
  attempts?: number;
  /** Failed rollouts probed per problem (the first ones). */
  maxFailedPerProblem?: number;
  concurrency?: number;
  seed?: number;
  journal?: ProbeJournal;
  thresholds?: Partial<Eq2Thresholds>;
  /** Called after each finished (rollout, operator) unit. */
  onProgress?: (done: number, total: number) => void;
}

export interface ProbeError {
  problem_id: string;
  operator: string;
  rollout: number;
  message: string;
}

export interface ProbeResult {
  /** One record per fully probed problem, with rescue rates and (when the operators allow) its Eq. 2 label. */
  records: ProblemRecord[];
  /** Units that failed (endpoint errors …); their problems have no record. Rerun to resume. */
  errors: ProbeError[];
}

/**
 * The rescue probe: for each failed problem, up to `maxFailedPerProblem` failed rollouts, each
 * operator tried up to `attempts` times per rollout (stopping at the first success, which is all
 * best-of-n needs). r_op = rescued rollouts / probed rollouts; the label follows Eq. 2. Every
 * attempt goes to the journal as it finishes, so an interrupted probe resumes where it stopped.
 */
export async function runProbe(
  targets: readonly ProbeTarget[],
  context: Omit<InterventionContext, 'prompt'>,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const operators = options.operators ?? PAPER_OPERATOR_SPECS;
  const attempts = options.attempts ?? 3;
  const maxFailed = options.maxFailedPerProblem ?? 4;
  const seed = options.seed ?? 0;
  const journal = options.journal ?? ProbeJournal.inMemory();
  const limit = pLimit(options.concurrency ?? 8);

  const units = targets.flatMap((target) =>
    target.failed.slice(0, maxFailed).flatMap((rollout) => operators.map((op) => ({ target, rollout, op, name: operatorName(op) }))),
  );
  const rescued = new Map<string, boolean>();
  const errors: ProbeError[] = [];
  let finished = 0;

  await Promise.all(
    units.map((u) =>
      limit(async () => {
        const k = `${u.target.problemId}\u0000${u.rollout.index}\u0000${u.name}`;
        try {
          let ok = false;
          for (let attempt = 0; attempt < attempts && !ok; attempt++) {
            const prior = journal.get(u.target.problemId, u.rollout.index, u.name, attempt);
            if (prior) {
              ok = prior.success;
              continue;
            }
            const result = await applyIntervention(
              u.op,
              { ...context, prompt: u.target.prompt },
              { tokens: u.rollout.tokens, junction: u.rollout.summary.junction },
              attempt,
              seedOf('probe', seed, u.target.problemId, u.rollout.index, u.name, attempt),
            );
            ok = u.target.isCorrect(result.text);
            await journal.record({
              problem_id: u.target.problemId,
              rollout: u.rollout.index,
              operator: u.name,
              attempt,
              success: ok,
              position: result.position,
              token: result.token,
            });
          }
          rescued.set(k, ok);
        } catch (err) {
          errors.push({ problem_id: u.target.problemId, operator: u.name, rollout: u.rollout.index, message: (err as Error).message });
        }
        options.onProgress?.(++finished, units.length);
      }),
    ),
  );
  await journal.flush();

  const failedProblems = new Set(errors.map((e) => e.problem_id));
  const records = targets
    .filter((t) => !failedProblems.has(t.problemId) && t.failed.length > 0)
    .map((t): ProblemRecord => {
      const probed = t.failed.slice(0, maxFailed);
      const rescue = Object.fromEntries(
        operators.map((op) => {
          const name = operatorName(op);
          const n = probed.filter((r) => rescued.get(`${t.problemId}\u0000${r.index}\u0000${name}`)).length;
          return [name, n / probed.length];
        }),
      );
      return {
        problem_id: t.problemId,
        cell: t.cell ?? 'all',
        ...(t.model ? { model: t.model } : {}),
        ...(t.task ? { task: t.task } : {}),
        n_rollouts: t.nRollouts,
        n_passed: t.nPassed,
        n_failed_rollouts: t.failed.length,
        features: problemFeatures(t.failed.map((r) => r.summary)),
        rescue,
        // Eq. 2 needs retry and at least one intervention; a retry-only probe has no label.
        ...(RETRY in rescue && Object.keys(rescue).length > 1 ? { label: eq2Label(rescue, options.thresholds) } : {}),
      };
    });
  return { records, errors };
}
