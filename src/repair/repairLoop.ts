import { seedOf } from '../core/random/seededRandom.js';
import { addMeters, emptyMeter, type Meter } from '../models/meteredModel.js';

/** A failed rollout a repair may act on: its index in the row, its tokens and its junction j*. */
export interface RepairTarget {
  index: number;
  tokens: readonly number[];
  /** Index of j* in `tokens` (from the rollout summary); null when it was not scored. */
  junction: number | null;
}

/** What one attempt produced. Its cost is counted into the meter it was handed. */
export interface AttemptOutput {
  text: string;
  /** Where in the generated tokens the operator acted (null: from the prompt). */
  position: number | null;
}

/**
 * Runs one attempt of the routed operator on `target` (its `attemptOnTarget`-th, 0-based), with
 * `seed`, counting every request it makes into `meter` (also when it fails part-way).
 */
export type RunAttempt = (target: RepairTarget, attemptOnTarget: number, seed: number, meter: Meter) => Promise<AttemptOutput>;

/** One attempt, as recorded on the row. */
export interface AttemptRecord {
  /** 0-based attempt number within the row. */
  attempt: number;
  /** The failed rollout it acted on. */
  rollout: number;
  passed: boolean;
  position: number | null;
  requests: number;
  prompt_tokens: number;
  tokens: number;
}

export interface RepairLoopResult {
  attempts: AttemptRecord[];
  rescued: boolean;
  /** The passing attempt's text, else the last finished attempt's text; null when none finished. */
  text: string | null;
  /** Every attempt's cost (failed ones included, as far as they got). */
  cost: Meter;
  /** The error that ended the loop early (`Name: message`), or null. */
  error: string | null;
}

/**
 * The budgeted repair of one row: attempt i (0 ≤ i < budget) acts on failed rollout
 * targets[i mod F] as that rollout's ⌊i / F⌋-th attempt (round robin, so junction operators try
 * every failed rollout's junction before a second try at any), with seed
 * seedOf('repair', seed, i); it stops at the first attempt `isCorrect` accepts. At most `budget`
 * attempts run, so a row never spends more; an attempt that throws (an endpoint fault) ends the
 * loop with `error` set and is counted, with what it cost before it failed.
 *
 * @example repairLoop({ targets, budget: 4, seed: 7, run, isCorrect }) // { rescued: true, attempts: [{attempt: 0, …}, {attempt: 1, passed: true, …}], … }
 */
export async function repairLoop(options: {
  targets: readonly RepairTarget[];
  budget: number;
  seed: number;
  run: RunAttempt;
  isCorrect: (text: string, target: RepairTarget) => Promise<boolean>;
}): Promise<RepairLoopResult> {
  const { targets, budget, seed, run, isCorrect } = options;
  const attempts: AttemptRecord[] = [];
  let cost = emptyMeter();
  let text: string | null = null;
  if (targets.length === 0) return { attempts, rescued: false, text, cost, error: null };
  for (let i = 0; i < budget; i++) {
    const target = targets[i % targets.length]!;
    const meter = emptyMeter();
    let out: AttemptOutput;
    try {
      out = await run(target, Math.floor(i / targets.length), seedOf('repair', seed, i), meter);
    } catch (err) {
      cost = addMeters(cost, meter);
      attempts.push({ attempt: i, rollout: target.index, passed: false, position: null, requests: meter.requests, prompt_tokens: meter.promptTokens, tokens: meter.generatedTokens });
      return { attempts, rescued: false, text, cost, error: `${(err as Error).name}: ${(err as Error).message}` };
    }
    cost = addMeters(cost, meter);
    text = out.text;
    const passed = await isCorrect(out.text, target);
    attempts.push({ attempt: i, rollout: target.index, passed, position: out.position, requests: meter.requests, prompt_tokens: meter.promptTokens, tokens: meter.generatedTokens });
    if (passed) return { attempts, rescued: true, text, cost, error: null };
  }
  return { attempts, rescued: false, text, cost, error: null };
}
