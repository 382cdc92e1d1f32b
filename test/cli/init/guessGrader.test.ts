import { describe, expect, it } from 'vitest';
import { guessGrader } from '../../../src/cli/init/guessGrader.js';

describe('guessGrader: the per-rollout grader from the tests', () => {
  it('reads the var an assertion refers to; numbers in every test → numeric', () => {
    const g = guessGrader([{ type: 'contains', value: 'Answer: {{answer}}' }], [{ question: 'q1', answer: '87' }, { question: 'q2', answer: -25 }]);
    expect(g.grader).toEqual({ type: 'numeric', var: 'answer' });
    expect(g.reason).toMatch(/`contains` assertion "Answer: \{\{answer\}\}" reads the var "answer", and its 2 values are all numbers/);
  });

  it('text answers → equals on the final answer; an exact {{var}} contains/regex keeps its kind', () => {
    const rows = [{ expected: 'Paris' }, { expected: 'Rome' }];
    expect(guessGrader([{ type: 'equals', value: '{{expected}}' }], rows).grader).toEqual({ type: 'equals', var: 'expected' });
    expect(guessGrader([{ type: 'icontains', value: '{{ expected }}' }], rows).grader).toEqual({ type: 'contains', var: 'expected' });
    expect(guessGrader([{ type: 'regex', value: '{{expected}}' }], rows).grader).toEqual({ type: 'regex', var: 'expected' });
    expect(guessGrader([{ type: 'contains', value: 'The capital is {{expected}}' }], rows).grader).toEqual({ type: 'equals', var: 'expected' });
  });

  it('without an assertion that names a var, a var with an answer-like name in every test', () => {
    const g = guessGrader([{ type: 'llm-rubric', value: 'is correct' }], [{ q: 'a', target: '3' }, { q: 'b', target: '4' }]);
    expect(g.grader).toEqual({ type: 'numeric', var: 'target' });
    expect(g.reason).toMatch(/every test has a var "target"/);
  });

  it('skips negated assertions, env templates and vars missing from some test', () => {
    const rows = [{ answer: '1', hint: 'x' }, { answer: '2' }];
    const g = guessGrader([{ type: 'not-contains', value: '{{answer}}' }, { type: 'contains', value: '{{env.X}} {{hint}}' }], rows);
    expect(g.grader).toEqual({ type: 'numeric', var: 'answer' }); // hint is not in every test; answer is by name
  });

  it('says why when nothing fits', () => {
    const g = guessGrader([], [{ question: 'q' }]);
    expect(g.grader).toBeNull();
    expect(g.reason).toMatch(/no assertion refers to a test var[\s\S]*the tests have "question"/);
  });

  it('tests it could not read: trusts the assertion and says so', () => {
    const g = guessGrader([{ type: 'contains', value: '{{answer}}' }], []);
    expect(g.grader).toEqual({ type: 'contains', var: 'answer' });
    expect(g.reason).toMatch(/reads the var "answer"/);
  });
});
