import { describe, expect, it } from 'vitest';
import { INTERVENTION_DEFAULTS } from '../../src/interventions/applyIntervention.js';
import { lineageProblems, problemsPerLength, simPopulation } from '../../src/probe/populationRows.js';
import { measureRows } from '../../src/probe/measureRows.js';
import { ProbeJournal } from '../../src/probe/probeJournal.js';
import { arithProblems, gradeArith } from '../../src/lineage/arithProblems.js';

describe('populations', () => {
  it('splits problems evenly over chain lengths, the remainder to the first lengths', () => {
    expect(problemsPerLength(160, [2, 3, 4, 5])).toEqual([40, 40, 40, 40]);
    expect(problemsPerLength(10, [2, 3, 4])).toEqual([4, 3, 3]);
    expect(problemsPerLength(2, [2, 3, 4])).toEqual([1, 1, 0]);
  });

  it('draws the lineage problems arithProblems draws, graded by their final answer', () => {
    const mine = lineageProblems(8, [2, 5], 7);
    const theirs = arithProblems({ seed: 7, operations: [2, 5], count: 4 });
    expect(mine.map((p) => p.prompt)).toEqual(theirs.map((p) => p.prompt));
    expect(mine.map((p) => p.id)).toEqual(['arith-7-2-0', 'arith-7-2-1', 'arith-7-2-2', 'arith-7-2-3', 'arith-7-5-0', 'arith-7-5-1', 'arith-7-5-2', 'arith-7-5-3']);
    expect(mine[0]!.isCorrect(theirs[0]!.completion)).toBe(true);
    expect(gradeArith(theirs[0]!.completion, theirs[0]!.answer)).toBe(true);
    expect(mine[0]!.isCorrect('Answer: 123456789')).toBe(false);
  });
});

describe('measureRows: label, fresh eval and re-probe attempts on a simulated population', async () => {
  const sampling = { seed: 4, samples: 6, ancestorSamples: 3, temperature: 0.6, topK: 20, maxTokens: 128, concurrency: 4 };
  const population = await simPopulation({ ...sampling, problems: 14 });
  const rows = population.rows.slice(0, 6);
  const context = { ...INTERVENTION_DEFAULTS, specialist: population.specialist, ancestor: population.ancestor, maxTokens: 128 };

  it('keeps the failing rows with their signals and a prospective regime', () => {
    expect(population.rows.length).toBeGreaterThanOrEqual(6);
    for (const r of population.rows) {
      expect(r.nPassed).toBeLessThan(r.nRollouts);
      expect(r.signals.n_rollouts).toBe(6);
      expect(r.signals.pass_rate).toBeCloseTo(r.nPassed / 6, 12);
      expect(r.signals.ancestor_pass_rate! * 3).toBeCloseTo(Math.round(r.signals.ancestor_pass_rate! * 3), 9);
      expect(r.failed.length).toBe(r.nRollouts - r.nPassed);
      expect(['resample', 'steerable', 'beyond_reach', 'retry_insufficient']).toContain(r.estimatedRegime);
    }
  });

  it('reports the eval phase\'s rates, labels by the label phase, and re-probes the share asked', async () => {
    const journal = ProbeJournal.inMemory();
    const m = await measureRows(rows, { context, attempts: 2, evalAttempts: 2, reprobe: 0.5, maxFailed: 1, concurrency: 4, seed: 9, journal, settings: 'test' });
    expect(m.errors).toEqual([]);
    expect(m.records).toHaveLength(6);
    expect(m.reprobed).toBe(3);
    expect(m.records.filter((r) => r.reprobe_label !== null)).toHaveLength(3);
    expect(m.ceiling!.n).toBe(3);
    const entries = journal.entries();
    for (const r of m.records) {
      expect(r.split).toBe('disjoint');
      expect(r.settings).toBe('test');
      for (const [phase, rates] of [['label', r.label_rescue], ['eval', r.eval_rescue]] as const) {
        for (const [op, rate] of Object.entries(rates)) {
          // One probed rollout, best-of-2: rescued iff one of that phase's attempts succeeded.
          const mine = entries.filter((e) => e.problem_id === r.problem_id && e.operator === op && (e.phase ?? 'label') === phase);
          expect(rate).toBe(mine.some((e) => e.success) ? 1 : 0);
          expect(mine.length).toBeGreaterThanOrEqual(1);
        }
      }
    }
    // The cost table counts every journalled attempt once; dense steer makes two requests per decoded position.
    for (const c of m.cost) expect(c.attempts).toBe(entries.filter((e) => e.operator === c.operator).length);
    const dense = m.cost.find((c) => c.operator === 'dense_steer')!;
    expect(dense.requests).toBe(dense.generatedTokens);
    expect(dense.requests % 2).toBe(0);
    const retry = m.cost.find((c) => c.operator === 'retry')!;
    expect(retry.requests).toBe(retry.attempts);
    // Rows' tokens add up to the operators' read + generated tokens.
    const tokens = (op: string) => m.records.reduce((s, r) => s + (r.tokens[op] ?? 0), 0);
    for (const c of m.cost) expect(tokens(c.operator)).toBe(c.promptTokens + c.generatedTokens);
    expect(m.labels.resample + m.labels.steerable + m.labels.beyond_reach).toBe(6);
  });
});
