import { ProbeRecordSchema, type ProbeRecord, type ProbeRecordInput } from '../../src/core/contracts/probeRecord.js';
import { seededRandom, type Random } from '../../src/core/random/seededRandom.js';

export const OPS = ['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer'] as const;
export type Op = (typeof OPS)[number];

/** A row's planted signals (what a policy may read). */
export interface Planted {
  n_rollouts: number;
  n_passed: number;
  ancestor_pass_rate: number;
  spread: number;
  concentration: number;
  logit_dispersion: number;
}

export interface PopulationSpec {
  rows: number;
  seed: number;
  /** Failed rollouts probed per row: each split's rate is k/n_probed. */
  probed?: number;
  /** True per-rollout rescue probability of each operator, for the label and the eval split. */
  rescue: (s: Planted, random: Random) => { label: Record<Op, number>; eval?: Record<Op, number> };
  split?: 'disjoint' | 'same';
  /** Share of rows with an independent re-probe label. */
  reprobe?: number;
  problemId?: (i: number) => string;
}

const draw = (p: number, n: number, random: Random) => {
  let k = 0;
  for (let i = 0; i < n; i++) if (random.uniform() < p) k++;
  return k / n;
};

/**
 * A synthetic probe: rows whose signals are drawn at random and whose rescue rates are binomial
 * draws (n_probed rollouts) from planted per-operator probabilities; the label and eval splits
 * are independent draws (or the same draw with split "same").
 */
export function population(spec: PopulationSpec): ProbeRecord[] {
  const random = seededRandom(spec.seed);
  const probed = spec.probed ?? 6;
  const out: ProbeRecord[] = [];
  for (let i = 0; i < spec.rows; i++) {
    const n_rollouts = 8;
    const n_passed = Math.floor(random.uniform() * 4);
    const s: Planted = {
      n_rollouts,
      n_passed,
      ancestor_pass_rate: Math.round(random.uniform() * 8) / 8,
      spread: random.uniform(),
      concentration: 1 + 2 * random.uniform(),
      logit_dispersion: -2 + random.uniform(),
    };
    const p = spec.rescue(s, random);
    const labelRates = Object.fromEntries(OPS.map((op) => [op, draw(p.label[op], probed, random)]));
    const evalP = p.eval ?? p.label;
    const evalRates = spec.split === 'same' ? labelRates : Object.fromEntries(OPS.map((op) => [op, draw(evalP[op], probed, random)]));
    const reprobeRates = Object.fromEntries(OPS.map((op) => [op, draw(p.label[op], probed, random)]));
    const input: ProbeRecordInput = {
      problem_id: spec.problemId ? spec.problemId(i) : `p${i}`,
      cell: 'sim|arith',
      model: 'sim',
      task: 'arith',
      ...s,
      pass_rate: n_passed / n_rollouts,
      ancestor_samples: 8,
      n_probed: probed,
      label_attempts: 3,
      eval_attempts: 3,
      label_rescue: labelRates,
      eval_rescue: evalRates,
      split: spec.split ?? 'disjoint',
    };
    const record = ProbeRecordSchema.parse(input);
    if (spec.reprobe && random.uniform() < spec.reprobe) {
      record.reprobe_label = ProbeRecordSchema.parse({ ...input, label_rescue: reprobeRates, eval_rescue: reprobeRates, split: 'same' }).label;
    }
    out.push(record);
  }
  return out;
}

export const uniformRates = (p: number): Record<Op, number> => Object.fromEntries(OPS.map((op) => [op, p])) as Record<Op, number>;
