import { seededRandom, seedOf } from '../core/random/seededRandom.js';
import { MAX_ABS_NUMBER } from './vocabulary.js';

export type Op = '+' | '-' | '*';

/** An arithmetic problem evaluated left to right: ((a op1 b) op2 c) … */
export interface Problem {
  operands: number[];
  ops: Op[];
  /** The value after each step; the last one is the answer. */
  values: number[];
  answer: number;
}

export const MAX_STEPS = 6;

/** Evaluates one step. */
export function applyOp(a: number, op: Op, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/**
 * The problem a prompt poses: its whole numbers in order (at most MAX_STEPS + 1), joined by the
 * operator written between them (+, -, *, ×, x, "plus", "minus", "times"); where none is written
 * the operator is drawn from the prompt's hash. A prompt with fewer than two numbers gets numbers
 * from its hash too. The same prompt always gives the same problem. Throws when a value leaves the
 * simulator's number range.
 */
export function problemFromPrompt(prompt: string): Problem {
  const random = seededRandom(seedOf('problem', prompt));
  const matches = [...prompt.matchAll(/\d+/g)].slice(0, MAX_STEPS + 1);
  let operands = matches.map((m) => Number(m[0]));
  if (operands.length < 2) operands = [10 + Math.floor(random.uniform() * 90), 2 + Math.floor(random.uniform() * 20)];
  const ops = operands.slice(1).map((_, i): Op => {
    const between = matches[i] && matches[i + 1] ? prompt.slice(matches[i]!.index! + matches[i]![0].length, matches[i + 1]!.index) : '';
    if (/[*×]|\btimes\b|(^|\s)x(\s|$)/i.test(between)) return '*';
    if (/\+|\bplus\b/i.test(between)) return '+';
    if (/-|−|\bminus\b/i.test(between)) return '-';
    return (['+', '-', '*'] as const)[Math.floor(random.uniform() * 3)]!;
  });
  const values: number[] = [];
  let acc = operands[0]!;
  ops.forEach((op, i) => {
    acc = applyOp(acc, op, operands[i + 1]!);
    if (Math.abs(acc) >= MAX_ABS_NUMBER / 4) {
      throw new RangeError(`the simulator keeps values below ${MAX_ABS_NUMBER / 4}; "${prompt.slice(0, 60)}" reaches ${acc} at step ${i + 1}`);
    }
    values.push(acc);
  });
  return { operands, ops, values, answer: acc };
}
