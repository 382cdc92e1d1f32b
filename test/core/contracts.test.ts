import { describe, expect, it } from 'vitest';
import {
  ContractError,
  FeatureRowSchema,
  featureRowToRecord,
  parseWith,
  ProblemRecordSchema,
  RolloutSchema,
  TokenStepSchema,
} from '../../src/core/index.js';

describe('contracts', () => {
  it('a token step needs parallel ids and log-probs', () => {
    expect(TokenStepSchema.safeParse({ token: 3, specialist: { ids: [3, 4], logprobs: [-0.1, -2.3] } }).success).toBe(true);
    expect(() => parseWith(TokenStepSchema, { token: 3, specialist: { ids: [3, 4], logprobs: [-0.1] } }, 'token step')).toThrow(
      /token step is invalid:\n  at specialist\.logprobs: ids and logprobs must have the same length/,
    );
  });

  it('rejects NaN, Infinity and positive log-probs, naming the path', () => {
    for (const bad of [NaN, Infinity, 0.5]) {
      try {
        parseWith(TokenStepSchema, { token: 1, specialist: { ids: [1], logprobs: [-1] }, ancestor: { ids: [1], logprobs: [bad] } }, 'step');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ContractError);
        expect((e as ContractError).problems[0]!.path).toBe('ancestor.logprobs[0]');
      }
    }
  });

  it('a rollout carries text, answer, optional steps and summary', () => {
    expect(RolloutSchema.safeParse({ index: 0, text: 'Answer: 4', answer: '4' }).success).toBe(true);
    const r = RolloutSchema.safeParse({ index: -1, text: 1, answer: '4' });
    expect(r.success).toBe(false);
  });

  it('problem records default the cell and check counts', () => {
    const rec = parseWith(
      ProblemRecordSchema,
      { problem_id: 'p1', n_failed_rollouts: 3, features: { spread: 0.1, concentration: 2, logit_dispersion: null } },
      'record',
    );
    expect(rec.cell).toBe('all');
    expect(() =>
      parseWith(ProblemRecordSchema, { problem_id: 'p', n_rollouts: 2, n_passed: 3, n_failed_rollouts: 0, features: { spread: null, concentration: null, logit_dispersion: null } }, 'record'),
    ).toThrow(/at n_passed: n_passed cannot exceed n_rollouts/);
    expect(() => parseWith(ProblemRecordSchema, { problem_id: 'p', n_failed_rollouts: 1, features: {}, rescue: { retry: 1.5 } }, 'record')).toThrow(
      /at features\.spread[\s\S]*at rescue\.retry/,
    );
  });

  it('feature-table rows parse numeric cells strictly', () => {
    const row = {
      cell: 'm|t', model: 'm', task: 't', problem_id: 'p', n_failed_rollouts: '4', spread: '0.1', concentration: '2',
      logit_dispersion: '-1', retry: '0.25', sparse_steer: '0.3', sparse_steer_random: '0', local_temp: '0', dense_steer: '0', label: '',
    };
    const rec = featureRowToRecord(parseWith(FeatureRowSchema, row, 'row'));
    expect(rec.rescue).toEqual({ retry: 0.25, sparse_steer: 0.3, sparse_steer_random: 0, local_temp: 0, dense_steer: 0 });
    expect(rec.label).toBeUndefined();
    expect(() => parseWith(FeatureRowSchema, { ...row, spread: '' }, 'row')).toThrow(/at spread: empty cell: expected a number/);
    expect(() => parseWith(FeatureRowSchema, { ...row, spread: 'abc' }, 'row')).toThrow(/at spread: expected a finite number/);
    expect(() => parseWith(FeatureRowSchema, { ...row, retry: '1.2' }, 'row')).toThrow(/at retry: a rescue rate is ≤ 1/);
    expect(() => parseWith(FeatureRowSchema, { ...row, label: 'fixable' }, 'row')).toThrow(/at label/);
  });
});
