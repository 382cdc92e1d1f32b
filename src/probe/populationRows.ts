import pLimit from 'p-limit';
import { captureRollouts } from '../capture/captureRollouts.js';
import type { RolloutSummary } from '../core/contracts/rollout.js';
import { seedOf } from '../core/random/seededRandom.js';
import { featureScale } from '../core/regimes/featureScale.js';
import { prospectiveRegime } from '../core/regimes/prospectiveRegime.js';
import { rowSignals, type RowSignalValues } from '../core/signals/rowSignals.js';
import { arithProblem, gradeArith } from '../lineage/arithProblems.js';
import { loadArithLineage } from '../lineage/loadArithLineage.js';
import type { TokenModel } from '../models/tokenModel.js';
import { seededRandom } from '../core/random/seededRandom.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import type { Mix } from '../simulator/mechanisms.js';
import { simPrompts } from '../simulator/simPrompts.js';
import type { FailingRow } from './failingRow.js';
import { answerGrader } from './probeSimulated.js';

/** One problem of a generated population: its prompt and how to grade an answer to it. */
export interface PopulationProblem {
  id: string;
  description: string;
  prompt: string;
  isCorrect: (text: string) => boolean;
}

export interface SamplingOptions {
  seed: number;
  /** Rollouts K per problem. */
  samples: number;
  /** The ancestor's own samples per problem (its pass rate is a signal); 0 for none. */
  ancestorSamples: number;
  temperature: number;
  /** Top-K log-probs per position, for the specialist and the ancestor's scores. */
  topK: number;
  /** Output budget per rollout, lowered to the room the prompt leaves in the context. */
  maxTokens: number;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Population {
  /** Problems sampled. */
  sampled: number;
  /** The rows with at least one failed rollout, in problem order, regime estimated by the paper's rule. */
  rows: FailingRow[];
  specialist: TokenModel;
  ancestor: TokenModel;
}

/**
 * Samples K rollouts per problem from the specialist, scores each under the ancestor, draws the
 * ancestor's own samples, grades everything and keeps the rows with failed rollouts, with their
 * prospective signals (rowSignals) and the paper's regime estimate (prospectiveRegime on the
 * z-scale of this population's failures).
 */
export async function samplePopulation(
  problems: readonly PopulationProblem[],
  models: { specialist: TokenModel; ancestor: TokenModel },
  identity: { cell: string; model: string; task: string },
  opts: SamplingOptions,
): Promise<Population> {
  const { specialist, ancestor } = models;
  const limit = pLimit(opts.concurrency);
  const contextWindow = (await specialist.contextWindow?.()) ?? null;
  let done = 0;
  const sampled = await Promise.all(
    problems.map((p) =>
      limit(async () => {
        const ids = await specialist.tokenize(p.prompt);
        const maxTokens = contextWindow === null ? opts.maxTokens : Math.min(opts.maxTokens, contextWindow - ids.length - 1);
        const seed = seedOf('rollouts', opts.seed, p.id);
        const rollouts = await captureRollouts(specialist, ancestor, ids, { samples: opts.samples, temperature: opts.temperature, topK: opts.topK, ancestorTopK: opts.topK, maxTokens, seed });
        const own = opts.ancestorSamples > 0 ? await ancestor.sample(ids, { n: opts.ancestorSamples, temperature: opts.temperature, seed: seedOf('ancestor-samples', seed), maxTokens, topK: 1 }) : [];
        const passed = rollouts.map((r) => p.isCorrect(r.text));
        const signals = rowSignals(
          rollouts.map((r, i) => ({ passed: passed[i]!, answer: r.answer, summary: r.summary })),
          { withAncestor: true, ancestorPassed: own.length > 0 ? own.map((g) => p.isCorrect(g.text)) : null },
        );
        opts.onProgress?.(++done, problems.length);
        return { p, ids, maxTokens, rollouts, passed, signals };
      }),
    ),
  );
  const failing = sampled.filter((s) => s.passed.some((ok) => !ok));
  const features = (s: RowSignalValues) =>
    s.spread !== null && s.concentration !== null && s.logit_dispersion !== null ? { spread: s.spread, concentration: s.concentration, logit_dispersion: s.logit_dispersion } : null;
  const scale = featureScale(failing.flatMap((s) => (features(s.signals) ? [{ features: features(s.signals)! }] : [])));
  const rows = failing.map((s): FailingRow => {
    const estimate = prospectiveRegime({ nRollouts: s.rollouts.length, nPassed: s.signals.n_passed, features: features(s.signals) }, { scale });
    return {
      problemId: s.p.id,
      description: s.p.description,
      testIdx: null,
      cell: identity.cell,
      model: identity.model,
      task: identity.task,
      prompt: s.ids,
      isCorrect: s.p.isCorrect,
      nRollouts: s.rollouts.length,
      nPassed: s.signals.n_passed,
      failed: s.rollouts.flatMap((r, i) => (s.passed[i] || !r.summary ? [] : [{ index: r.index, tokens: r.tokens, summary: r.summary as RolloutSummary }])),
      maxTokens: s.maxTokens,
      signals: s.signals,
      estimatedRegime: estimate.regime,
      ancestorSamples: opts.ancestorSamples > 0 ? opts.ancestorSamples : null,
    };
  });
  return { sampled: problems.length, rows, specialist, ancestor };
}

/** How many of `total` problems each chain length gets: an even split, the remainder to the first lengths. */
export function problemsPerLength(total: number, operations: readonly number[]): number[] {
  const base = Math.floor(total / operations.length);
  return operations.map((_, i) => base + (i < total % operations.length ? 1 : 0));
}

/**
 * The embedded lineage's population: `problems` chain-arithmetic problems split evenly over the
 * given chain lengths (problem j of length k is arithProblem(seededRandom(seedOf('arith', seed,
 * k, j)), k), as arithProblems draws them), graded by their final answer.
 */
export function lineageProblems(problems: number, operations: readonly number[], seed: number): PopulationProblem[] {
  const counts = problemsPerLength(problems, operations);
  return operations.flatMap((k, i) =>
    Array.from({ length: counts[i]! }, (_, j) => {
      const p = arithProblem(seededRandom(seedOf('arith', seed, k, j)), k);
      return { id: `arith-${seed}-${k}-${j}`, description: p.prompt.trim(), prompt: p.prompt, isCorrect: (text: string) => gradeArith(text, p.answer) };
    }),
  );
}

/** `probe --lineage`'s population: the embedded real lineage on lineageProblems. */
export async function lineagePopulation(opts: SamplingOptions & { problems: number; operations: readonly number[]; dir?: string }): Promise<Population> {
  const { specialist, ancestor } = loadArithLineage(opts.dir);
  return samplePopulation(lineageProblems(opts.problems, opts.operations, opts.seed), { specialist, ancestor }, { cell: 'arith-specialist|arith', model: 'arith-specialist', task: 'arith' }, opts);
}

/** `probe --sim`'s population: the planted simulator on simPrompts. */
export async function simPopulation(opts: SamplingOptions & { problems: number; mix?: Mix }): Promise<Population> {
  const simulator = new LineageSimulator({ seed: opts.seed, ...(opts.mix ? { mix: opts.mix } : {}) });
  const problems = simPrompts(opts.problems, opts.seed).map((p) => ({ id: p.id, description: p.prompt, prompt: p.prompt, isCorrect: answerGrader(p.expected) }));
  return samplePopulation(problems, { specialist: simulator.specialist, ancestor: simulator.ancestor }, { cell: 'sim|arith', model: 'sim', task: 'arith' }, opts);
}
