import { describe, expect, it } from 'vitest';
import { gateEstimator } from '../../src/core/gate/gateEstimator.js';

const row = (nPassed: number, source?: 'policy' | 'paper_rule', policy?: string | null) => ({
  n_passed: nPassed,
  n_rollouts: 4,
  estimate: source ? { regime: 'steerable' as const, route: 'dense_steer', why: '', source, precision: null, policy: policy ?? null } : null,
});

describe('gateEstimator: which regimes the gate compares', () => {
  it('the learned policy when every failing row of both evals was routed by the same policy file', () => {
    const a = [row(4), row(1, 'policy', '/p/policy.json'), row(0, 'policy', '/p/policy.json')];
    const b = [row(4, 'paper_rule'), row(2, 'policy', '/p/policy.json')]; // a solved row's source does not matter
    expect(gateEstimator(a, b)).toEqual({ source: 'policy', policy: '/p/policy.json' });
  });

  it("the paper's rule, saying why, otherwise", () => {
    const p = (f: string) => row(1, 'policy', f);
    expect(gateEstimator([p('/a.json')], [p('/b.json')])).toEqual({ source: 'paper_rule', why: 'the evals were routed by different policy files (/a.json, /b.json)' });
    expect(gateEstimator([p('/a.json'), row(0, 'paper_rule')], [p('/a.json')]).source).toBe('paper_rule');
    expect(gateEstimator([p('/a.json')], [row(1)])).toMatchObject({ why: 'not every failing row of both evals was routed by a learned policy' });
    expect(gateEstimator([row(4)], [p('/a.json')])).toMatchObject({ why: 'an eval has no row with a failed rollout' });
    expect(gateEstimator([row(1, 'policy', null)], [row(1, 'policy', null)])).toMatchObject({ source: 'paper_rule', why: 'the evals were routed by different policy files (unnamed)' });
  });
});
