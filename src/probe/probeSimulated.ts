import pLimit from 'p-limit';
import { captureRollouts } from '../capture/captureRollouts.js';
import { normalizeAnswer } from '../core/blackbox/answerDistribution.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { seedOf } from '../core/random/seededRandom.js';
import { INTERVENTION_DEFAULTS } from '../interventions/applyIntervention.js';
import type { OperatorSpec } from '../interventions/operators.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import type { Mix } from '../simulator/mechanisms.js';
import { simPrompts } from '../simulator/simPrompts.js';
import { ProbeJournal } from './probeJournal.js';
import { type ProbeResult, type ProbeTarget, runProbe } from './rescueProbe.js';

export interface SimulatedProbeOptions {
  problems: number;
  seed: number;
  mix?: Mix;
  samples: number;
  attempts: number;
  temperature?: number;
  topK?: number;
  maxTokens?: number;
  maxFailedPerProblem?: number;
  operators?: OperatorSpec[];
  continuation?: 'temperature' | 'greedy';
  junction?: 'replay' | 'online';
  journalPath?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SimulatedTargets {
  simulator: LineageSimulator;
  targets: ProbeTarget[];
  /** Problems sampled, and how many had at least one failed rollout. */
  sampled: number;
}

/** Grades a text by its extracted final answer against an expected value. */
export function answerGrader(expected: string | number): (text: string) => boolean {
  const want = normalizeAnswer(String(expected));
  return (text) => normalizeAnswer(extractAnswer(text)) === want;
}

/** Samples K rollouts per simulated problem and keeps the problems with failures as probe targets. */
export async function simulatedTargets(opts: SimulatedProbeOptions): Promise<SimulatedTargets> {
  const simulator = new LineageSimulator({ seed: opts.seed, ...(opts.mix ? { mix: opts.mix } : {}) });
  const { specialist, ancestor } = simulator;
  const limit = pLimit(opts.concurrency ?? 8);
  const prompts = simPrompts(opts.problems, opts.seed);
  const captured = await Promise.all(
    prompts.map((p) =>
      limit(async () => {
        const ids = await specialist.tokenize(p.prompt);
        const rollouts = await captureRollouts(specialist, ancestor, ids, {
          samples: opts.samples,
          temperature: opts.temperature ?? INTERVENTION_DEFAULTS.temperature,
          topK: opts.topK ?? INTERVENTION_DEFAULTS.topK,
          ancestorTopK: opts.topK ?? INTERVENTION_DEFAULTS.topK,
          maxTokens: opts.maxTokens ?? 128,
          seed: seedOf('rollouts', opts.seed, p.id),
        });
        const isCorrect = answerGrader(p.expected);
        const failed = rollouts.filter((r) => !isCorrect(r.text));
        return {
          problemId: p.id,
          cell: 'sim|arith',
          model: 'sim',
          task: 'arith',
          prompt: ids,
          isCorrect,
          nRollouts: rollouts.length,
          nPassed: rollouts.length - failed.length,
          failed: failed.map((r) => ({ index: r.index, tokens: r.tokens, summary: r.summary! })),
        } satisfies ProbeTarget;
      }),
    ),
  );
  return { simulator, targets: captured.filter((t) => t.failed.length > 0), sampled: prompts.length };
}

/** `recoverability probe --sim`: sample, keep failures, featurize, probe, label. */
export async function probeSimulated(opts: SimulatedProbeOptions): Promise<ProbeResult & { sampled: number; failedProblems: number }> {
  const { simulator, targets, sampled } = await simulatedTargets(opts);
  const { journalPath: _path, onProgress: _progress, concurrency: _concurrency, ...settings } = opts;
  const journal = opts.journalPath ? await ProbeJournal.open(opts.journalPath, settings) : ProbeJournal.inMemory();
  const result = await runProbe(
    targets,
    {
      ...INTERVENTION_DEFAULTS,
      specialist: simulator.specialist,
      ancestor: simulator.ancestor,
      temperature: opts.temperature ?? INTERVENTION_DEFAULTS.temperature,
      topK: opts.topK ?? INTERVENTION_DEFAULTS.topK,
      maxTokens: opts.maxTokens ?? 128,
      continuation: opts.continuation ?? INTERVENTION_DEFAULTS.continuation,
      junction: opts.junction ?? INTERVENTION_DEFAULTS.junction,
    },
    {
      attempts: opts.attempts,
      seed: opts.seed,
      journal,
      ...(opts.operators ? { operators: opts.operators } : {}),
      ...(opts.maxFailedPerProblem ? { maxFailedPerProblem: opts.maxFailedPerProblem } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    },
  );
  return { ...result, sampled, failedProblems: targets.length };
}
