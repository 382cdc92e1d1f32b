import { seededRandom, seedOf, type Random } from '../core/random/seededRandom.js';

export type ArithOp = '+' | '-' | '*';

/** A chain-arithmetic problem in the arith lineage's format (MODEL_CARD.md, "Format"). */
export interface ArithProblem {
  /** The prompt text, e.g. `Q: 23+45*3-12=\n` (encode it with <bos>). */
  prompt: string;
  operands: number[];
  ops: ArithOp[];
  /** The value after each operation, left to right; the last one is the answer. */
  values: number[];
  answer: number;
  /** The full expected completion, e.g. `23+45=68;68*3=204;204-12=192;Answer: 192\n` (then <eos>). */
  completion: string;
}

const OPS: readonly ArithOp[] = ['+', '-', '*'];

/** A whole number uniform in [lo, hi]. */
function between(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random.uniform() * (hi - lo + 1));
}

/**
 * One problem of `operations` operations: the first operand uniform in 2–99; each operation
 * uniform among + − *, its operand uniform in 2–99, or in 2–9 after `*`; evaluated left to
 * right, negative intermediate values written with a leading '-'.
 */
export function arithProblem(random: Random, operations: number): ArithProblem {
  if (!(Number.isInteger(operations) && operations >= 1)) throw new RangeError(`operations must be a whole number ≥ 1, got ${operations}`);
  const operands = [between(random, 2, 99)];
  const ops: ArithOp[] = [];
  const values: number[] = [];
  const steps: string[] = [];
  let value = operands[0]!;
  for (let i = 0; i < operations; i++) {
    const op = OPS[Math.floor(random.uniform() * OPS.length)]!;
    const operand = op === '*' ? between(random, 2, 9) : between(random, 2, 99);
    const next = op === '+' ? value + operand : op === '-' ? value - operand : value * operand;
    steps.push(`${value}${op}${operand}=${next};`);
    ops.push(op);
    operands.push(operand);
    values.push(next);
    value = next;
  }
  const expression = operands.map((x, i) => (i === 0 ? `${x}` : `${ops[i - 1]}${x}`)).join('');
  return { prompt: `Q: ${expression}=\n`, operands, ops, values, answer: value, completion: `${steps.join('')}Answer: ${value}\n` };
}

/**
 * `count` problems for each number of operations in `operations`, grouped in that order,
 * reproducible from `seed` (problem j of length k draws from seedOf('arith', seed, k, j), so a
 * length's problems do not change when other lengths are added).
 */
export function arithProblems(options: { seed: number; operations: readonly number[]; count: number }): ArithProblem[] {
  const { seed, operations, count } = options;
  if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
  return operations.flatMap((k) => Array.from({ length: count }, (_, j) => arithProblem(seededRandom(seedOf('arith', seed, k, j)), k)));
}

/** The final answer of a completion: the integer after the last "Answer: " on its line, else null. */
export function arithAnswer(text: string): number | null {
  const at = text.lastIndexOf('Answer: ');
  if (at < 0) return null;
  const m = /^(-?\d+)\s*(?:\n|$)/.exec(text.slice(at + 'Answer: '.length));
  return m ? Number(m[1]) : null;
}

/** Whether a completion's final answer equals `answer`. */
export function gradeArith(text: string, answer: number): boolean {
  return arithAnswer(text) === answer;
}
