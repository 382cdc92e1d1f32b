import { mean } from 'simple-statistics';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProblemRecord } from '../../src/core/index.js';
import { answerGrader, probeSimulated, simulatedTargets } from '../../src/probe/probeSimulated.js';
import { runProbe } from '../../src/probe/rescueProbe.js';
import { INTERVENTION_DEFAULTS } from '../../src/interventions/applyIntervention.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import type { Mechanism } from '../../src/simulator/mechanisms.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';

/**
 * The pipeline (sample → features → probe → label) runs blind; only this test looks up each
 * problem's planted mechanism, to check the simulator's mechanisms behave as designed.
 */
const SEED = 21;
const PROBLEMS = 240;
let byMechanism: Map<Mechanism, ProblemRecord[]>;

beforeAll(async () => {
  const result = await probeSimulated({ problems: PROBLEMS, seed: SEED, samples: 12, attempts: 3 });
  expect(result.errors).toEqual([]);
  const truth = new LineageSimulator({ seed: SEED });
  const prompts = new Map(simPrompts(PROBLEMS, SEED).map((p) => [p.id, p.prompt]));
  byMechanism = new Map();
  for (const r of result.records) {
    const m = truth.groundTruth(prompts.get(r.problem_id)!).mechanism;
    byMechanism.set(m, [...(byMechanism.get(m) ?? []), r]);
  }
});

const rescue = (m: Mechanism, op: string) => mean(byMechanism.get(m)!.map((r) => r.rescue![op]!));
const feature = (m: Mechanism, f: 'spread' | 'concentration' | 'logit_dispersion') => mean(byMechanism.get(m)!.map((r) => r.features[f]!));
const FAILING: Mechanism[] = ['unlucky', 'demoted', 'deformed', 'temperature', 'beyond'];

describe('simulator mechanisms (validation against planted ground truth)', () => {
  it('has enough failed problems of every failing mechanism', () => {
    for (const m of FAILING) expect(byMechanism.get(m)?.length ?? 0, m).toBeGreaterThanOrEqual(10);
  });

  it('demoted step: sparse steer rescues far more than retry', () => {
    expect(rescue('demoted', 'sparse_steer')).toBeGreaterThan(rescue('demoted', 'retry') + 0.4);
    expect(rescue('demoted', 'sparse_steer')).toBeGreaterThan(rescue('demoted', 'sparse_steer_random') + 0.4);
  });

  it('trace-wide deformation: dense steer beats sparse steer', () => {
    expect(rescue('deformed', 'dense_steer')).toBeGreaterThan(rescue('deformed', 'sparse_steer') + 0.25);
  });

  it('temperature-sensitive junction: local temperature lift beats retry and sparse steer', () => {
    expect(rescue('temperature', 'local_temp')).toBeGreaterThan(rescue('temperature', 'retry') + 0.1);
    expect(rescue('temperature', 'local_temp')).toBeGreaterThan(rescue('temperature', 'sparse_steer') + 0.2);
  });

  it('unlucky sampling: retry already rescues most (resample)', () => {
    expect(rescue('unlucky', 'retry')).toBeGreaterThan(0.7);
    const labels = byMechanism.get('unlucky')!.map((r) => r.label);
    expect(labels.filter((l) => l === 'resample').length / labels.length).toBeGreaterThan(0.6);
  });

  it('beyond reach: nothing rescues, every problem is labelled beyond_reach', () => {
    // Not exactly 0: a slip before the junction and one after can cancel (e.g. 21 − 69 = −47, then
    // −47 + 82 = 34), each a distractor at logit −6 (≈ 5·10⁻⁵ per sample at T = 0.6).
    for (const op of ['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer']) expect(rescue('beyond', op), op).toBeLessThan(0.01);
    expect(new Set(byMechanism.get('beyond')!.map((r) => r.label))).toEqual(new Set(['beyond_reach']));
  });

  it('features move as method.md predicts: concentration ↔ demoted, spread ↔ deformed, dispersion ↔ temperature', () => {
    for (const m of FAILING.filter((x) => x !== 'demoted')) expect(feature('demoted', 'concentration'), m).toBeGreaterThan(feature(m, 'concentration'));
    for (const m of FAILING.filter((x) => x !== 'deformed')) expect(feature('deformed', 'spread'), m).toBeGreaterThan(feature(m, 'spread'));
    for (const m of FAILING.filter((x) => x !== 'temperature')) expect(feature('temperature', 'logit_dispersion'), m).toBeGreaterThan(feature(m, 'logit_dispersion'));
  });
});

describe('the online junction detector (re-decode from the prompt)', () => {
  it('finds the demoted step on the simulator: online sparse steer beats retry', async () => {
    const { simulator, targets } = await simulatedTargets({ problems: 30, seed: 5, samples: 8, attempts: 3, mix: { demoted: 1 } });
    const ctx = { ...INTERVENTION_DEFAULTS, specialist: simulator.specialist, ancestor: simulator.ancestor, maxTokens: 128, junction: 'online' as const };
    const { records, errors } = await runProbe(targets, ctx, {
      operators: [{ kind: 'retry', name: 'retry' }, { kind: 'sparse_steer', geometry: 'e', position: 'junction' }],
      seed: 5,
    });
    expect(errors).toEqual([]);
    const r = (op: string) => mean(records.map((x) => x.rescue![op]!));
    expect(r('sparse_steer')).toBeGreaterThan(r('retry') + 0.3);
  });

  it('grades by the final answer, not by the simulator', () => {
    const grade = answerGrader(105);
    expect(grade('Step 1: …\nAnswer: 105')).toBe(true);
    expect(grade('Answer: 105.0')).toBe(true);
    expect(grade('Answer: 104')).toBe(false);
  });
});
