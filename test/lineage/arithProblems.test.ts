import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Random } from '../../src/core/random/seededRandom.js';
import { arithAnswer, arithProblem, arithProblems, gradeArith, loadArithLineage } from '../../src/lineage/index.js';

/** A Random that returns the given uniforms in order. */
function scripted(uniforms: number[]): Random {
  let i = 0;
  const uniform = () => {
    if (i >= uniforms.length) throw new Error('script exhausted');
    return uniforms[i++]!;
  };
  return { uniform, gaussian: () => 0, between: (lo, hi) => lo + (hi - lo) * uniform() };
}
/** The uniform that makes `between(lo, hi)` give v. */
const pick = (v: number, lo: number, hi: number) => (v - lo + 0.5) / (hi - lo + 1);
const OP = { '+': 0.1, '-': 0.5, '*': 0.9 };

describe('arith problems (MODEL_CARD.md "Format")', () => {
  it("writes the card's example exactly", () => {
    const p = arithProblem(scripted([pick(23, 2, 99), OP['+'], pick(45, 2, 99), OP['*'], pick(3, 2, 9), OP['-'], pick(12, 2, 99)]), 3);
    expect(p.prompt).toBe('Q: 23+45*3-12=\n');
    expect(p.completion).toBe('23+45=68;68*3=204;204-12=192;Answer: 192\n');
    expect(p).toMatchObject({ operands: [23, 45, 3, 12], ops: ['+', '*', '-'], values: [68, 204, 192], answer: 192 });
  });

  it("writes negative intermediates with a leading '-', evaluated left to right", () => {
    const p = arithProblem(scripted([pick(5, 2, 99), OP['-'], pick(50, 2, 99), OP['*'], pick(9, 2, 9), OP['+'], pick(99, 2, 99)]), 3);
    expect(p.prompt).toBe('Q: 5-50*9+99=\n');
    expect(p.completion).toBe('5-50=-45;-45*9=-405;-405+99=-306;Answer: -306\n');
  });

  it('draws operands 2–99, `*` by a single digit 2–9, within the vocabulary and the context', () => {
    const { specialist } = loadArithLineage();
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 5 }), (seed, k) => {
        const [p] = arithProblems({ seed, operations: [k], count: 1 });
        expect(p!.ops).toHaveLength(k);
        expect(p!.operands[0]).toBeGreaterThanOrEqual(2);
        p!.ops.forEach((op, i) => {
          const x = p!.operands[i + 1]!;
          expect(x).toBeGreaterThanOrEqual(2);
          expect(x).toBeLessThanOrEqual(op === '*' ? 9 : 99);
        });
        let v = p!.operands[0]!;
        p!.ops.forEach((op, i) => (v = op === '+' ? v + p!.operands[i + 1]! : op === '-' ? v - p!.operands[i + 1]! : v * p!.operands[i + 1]!));
        expect(p!.answer).toBe(v);
        const ids = specialist.encode(p!.prompt + p!.completion, true);
        expect(ids.length + 1).toBeLessThanOrEqual(128); // <eos> included
        expect(gradeArith(p!.completion, p!.answer)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is reproducible, grouped by length, each length independent of the others', () => {
    const a = arithProblems({ seed: 9, operations: [2, 3, 4, 5], count: 10 });
    expect(a).toHaveLength(40);
    expect(a.map((p) => p.ops.length)).toEqual([2, 3, 4, 5].flatMap((k) => Array(10).fill(k)));
    expect(arithProblems({ seed: 9, operations: [2, 3, 4, 5], count: 10 })).toEqual(a);
    expect(arithProblems({ seed: 9, operations: [4], count: 10 })).toEqual(a.slice(20, 30));
    expect(new Set(a.map((p) => p.prompt)).size).toBeGreaterThan(35);
  });

  it('grades the integer after the last "Answer: "', () => {
    expect(arithAnswer('2+3=5;Answer: 5\n')).toBe(5);
    expect(arithAnswer('Answer: 1\n5-9=-4;Answer: -4')).toBe(-4);
    expect(arithAnswer('2+3=5;68')).toBeNull();
    expect(arithAnswer('Answer: 5;6')).toBeNull();
    expect(arithAnswer('Answer: ')).toBeNull();
    expect(gradeArith('Answer: 192\n', 192)).toBe(true);
    expect(gradeArith('Answer: 193\n', 192)).toBe(false);
  });
});

describe("pass rates at T = 0.6 against the model card's table", () => {
  // 40 problems per chain length, 3 samples each, per model (~1,000 rollouts, the slowest test
  // here: ~15–30 s on 2 shared cores). The card measured 200 problems × 12 samples.
  // Tolerance: a problem's pass rate lies in [0, 1] with mean p, so its variance is at most
  // p(1 − p) whatever the samples' correlation within the problem; the difference of two means
  // over N and 200 independent problems then has variance at most p(1 − p)(1/N + 1/200), p
  // pooled. |ours − card| ≤ 3.29 sd: a two-sided 0.1% test each, 8 tests.
  const N = 40;
  const K = 3;
  const CARD_PROBLEMS = 200;
  const Z = 3.29;
  const { specialist, ancestor, manifest } = loadArithLineage();

  it.each([
    ['specialist', specialist],
    ['ancestor', ancestor],
  ] as const)('%s', { timeout: 180_000 }, async (name, model) => {
    const rows: string[] = [];
    for (const k of [2, 3, 4, 5]) {
      let sum = 0;
      for (const p of arithProblems({ seed: 2026, operations: [k], count: N })) {
        const prompt = model.encode(p.prompt, true);
        const gens = await model.sample(prompt, { n: K, seed: 0, temperature: 0.6, maxTokens: model.maxModelLen - prompt.length, topK: 0 });
        sum += gens.filter((g) => gradeArith(g.text, p.answer)).length / K;
      }
      const ours = sum / N;
      const card = manifest.eval[`${name}_ops${k}`]!.mean_pass;
      const pooled = (ours * N + card * CARD_PROBLEMS) / (N + CARD_PROBLEMS);
      const sd = Math.sqrt(pooled * (1 - pooled) * (1 / N + 1 / CARD_PROBLEMS));
      rows.push(`${k} ops: ${ours.toFixed(3)} vs card ${card.toFixed(3)} (± ${(Z * sd).toFixed(3)})`);
      expect(Math.abs(ours - card), rows.join('; ')).toBeLessThanOrEqual(Z * sd);
    }
  });
});
