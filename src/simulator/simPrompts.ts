import { seededRandom, seedOf } from '../core/random/seededRandom.js';

export interface SimPrompt {
  id: string;
  prompt: string;
  /** The expected final answer, computed here, independently of the simulator. */
  expected: number;
}

/**
 * N seeded arithmetic prompts ("Compute ((17 * 4) + 45) - 8. Work step by step and end with
 * 'Answer: <number>'."), 2–5 operations, small enough to stay in the simulator's range.
 * The expected answer is evaluated here, left to right, so grading never trusts the simulator.
 */
export function simPrompts(n: number, seed: number): SimPrompt[] {
  return Array.from({ length: n }, (_, i) => {
    const r = seededRandom(seedOf('prompts', seed, i));
    const ops = 2 + Math.floor(r.uniform() * 4);
    let expr = String(10 + Math.floor(r.uniform() * 90));
    let value = Number(expr);
    for (let k = 0; k < ops; k++) {
      const pick = r.uniform();
      const op = pick < 0.25 && Math.abs(value) < 2000 ? '*' : pick < 0.65 ? '+' : '-';
      const operand = op === '*' ? 2 + Math.floor(r.uniform() * 8) : 1 + Math.floor(r.uniform() * 99);
      value = op === '*' ? value * operand : op === '+' ? value + operand : value - operand;
      // Parenthesized so the left-to-right order is also what precedence says.
      expr = k === 0 ? `${expr} ${op} ${operand}` : `(${expr}) ${op} ${operand}`;
    }
    return { id: `sim-${seed}-${i}`, prompt: `Compute ${expr}. Work step by step and end with 'Answer: <number>'.`, expected: value };
  });
}
