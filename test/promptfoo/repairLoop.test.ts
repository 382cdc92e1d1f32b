import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/core/policy/applyPolicy.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { seedOf } from '../../src/core/random/seededRandom.js';
import { OperatorSpecSchema } from '../../src/interventions/operators.js';
import { repairLoop, type RepairTarget, type RunAttempt } from '../../src/repair/repairLoop.js';
import { cannotRun, operatorNeeds, resolveOperator } from '../../src/repair/repairOperators.js';
import { repairRoute } from '../../src/repair/repairRoute.js';
import { RepairConfigSchema } from '../../src/promptfoo/repairConfig.js';
import { population, uniformRates } from '../policy/population.js';

const targets = (n: number): RepairTarget[] => Array.from({ length: n }, (_, i) => ({ index: 10 + i, tokens: [i], junction: i }));

/** A runner that records its calls, costs 2 requests / 3 read / 5 generated tokens per attempt, and passes on attempt `passOn`. */
function scripted(passOn: number | null, failOn: number | null = null) {
  const calls: { rollout: number; k: number; seed: number }[] = [];
  const run: RunAttempt = async (target, k, seed, meter) => {
    const i = calls.length;
    calls.push({ rollout: target.index, k, seed });
    meter.requests += 2;
    meter.promptTokens += 3;
    if (i === failOn) throw Object.assign(new Error('engine crashed'), { name: 'EndpointHttpError' });
    meter.generatedTokens += 5;
    return { text: i === passOn ? 'Answer: 42' : `Answer: ${i}`, position: target.junction };
  };
  return { run, calls, isCorrect: async (text: string) => text === 'Answer: 42' };
}

describe('repairLoop', () => {
  it('round robin over the failed rollouts, stops at the first success, counts what each attempt cost', async () => {
    const s = scripted(4);
    const r = await repairLoop({ targets: targets(3), budget: 10, seed: 7, run: s.run, isCorrect: s.isCorrect });
    expect(s.calls.map((c) => [c.rollout, c.k])).toEqual([[10, 0], [11, 0], [12, 0], [10, 1], [11, 1]]);
    expect(s.calls.map((c) => c.seed)).toEqual([0, 1, 2, 3, 4].map((i) => seedOf('repair', 7, i)));
    expect(r).toMatchObject({ rescued: true, text: 'Answer: 42', error: null, cost: { requests: 10, promptTokens: 15, generatedTokens: 25 } });
    expect(r.attempts.map((a) => a.passed)).toEqual([false, false, false, false, true]);
    expect(r.attempts.at(-1)).toEqual({ attempt: 4, rollout: 11, passed: true, position: 1, requests: 2, prompt_tokens: 3, tokens: 5 });
  });

  it('never spends more than the budget, and spends all of it when nothing passes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 6 }), fc.option(fc.integer({ min: 0, max: 40 })), async (budget, f, passOn) => {
        const s = scripted(passOn);
        const r = await repairLoop({ targets: targets(f), budget, seed: 1, run: s.run, isCorrect: s.isCorrect });
        const expected = passOn !== null && passOn < budget ? passOn + 1 : budget;
        expect(r.attempts).toHaveLength(expected);
        expect(s.calls).toHaveLength(expected);
        expect(r.rescued).toBe(passOn !== null && passOn < budget);
        expect(r.cost.generatedTokens).toBe(r.attempts.reduce((t, a) => t + a.tokens, 0));
        s.calls.forEach((c, i) => expect([c.rollout, c.k]).toEqual([10 + (i % f), Math.floor(i / f)]));
      }),
      { numRuns: 200 },
    );
  });

  it('an attempt that throws ends the loop: recorded with what it cost before failing, the last finished text kept', async () => {
    const s = scripted(null, 2);
    const r = await repairLoop({ targets: targets(2), budget: 5, seed: 1, run: s.run, isCorrect: s.isCorrect });
    expect(r.error).toBe('EndpointHttpError: engine crashed');
    expect(r.rescued).toBe(false);
    expect(r.attempts).toHaveLength(3);
    expect(r.attempts[2]).toMatchObject({ passed: false, requests: 2, prompt_tokens: 3, tokens: 0 });
    expect(r.text).toBe('Answer: 1');
    expect(r.cost).toEqual({ requests: 6, promptTokens: 9, generatedTokens: 10 });
  });

  it('no target: nothing runs', async () => {
    const s = scripted(0);
    expect(await repairLoop({ targets: [], budget: 5, seed: 1, run: s.run, isCorrect: s.isCorrect })).toMatchObject({ attempts: [], rescued: false, text: null });
    expect(s.calls).toHaveLength(0);
  });
});

describe('repair operators', () => {
  it('route names resolve to the paper\'s five, or to specs given under repair.operators', () => {
    expect(resolveOperator('dense_steer')).toMatchObject({ kind: 'dense_steer' });
    expect(resolveOperator('sparse_steer_random')).toMatchObject({ kind: 'sparse_steer', position: 'random' });
    expect(resolveOperator('stop')).toBeNull();
    expect(resolveOperator('sparse_steer_m')).toBeNull();
    const m = OperatorSpecSchema.parse({ kind: 'sparse_steer', geometry: 'm' });
    expect(resolveOperator('sparse_steer_m', [m])).toBe(m);
    const lt = OperatorSpecSchema.parse({ kind: 'local_temp', tLocal: [2] });
    expect(resolveOperator('local_temp', [lt])).toBe(lt);
  });

  it('what each operator needs; a black-box specialist can only retry', () => {
    const need = (route: string) => operatorNeeds(resolveOperator(route)!);
    expect(need('retry')).toEqual({ tokenLevel: false, ancestor: false, tokens: false, junction: false });
    expect(need('dense_steer')).toEqual({ tokenLevel: true, ancestor: true, tokens: false, junction: false });
    expect(need('sparse_steer')).toEqual({ tokenLevel: true, ancestor: true, tokens: true, junction: true });
    expect(need('sparse_steer_random')).toMatchObject({ ancestor: true, junction: false });
    expect(need('local_temp')).toEqual({ tokenLevel: true, ancestor: false, tokens: true, junction: true });
    const blackBox = { tokenLevel: false, ancestor: false };
    expect(cannotRun(resolveOperator('retry')!, blackBox)).toBeNull();
    expect(cannotRun(resolveOperator('dense_steer')!, blackBox)).toMatch(/black-box specialist \(type: provider\) can only retry/);
    expect(cannotRun(resolveOperator('sparse_steer')!, { tokenLevel: true, ancestor: false })).toMatch(/configure an ancestor/);
  });
});

describe('repairRoute', () => {
  const records = population({
    rows: 200,
    seed: 11,
    rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? { ...uniformRates(0.05), dense_steer: 0.7 } : s.n_passed <= 1 ? uniformRates(0) : { ...uniformRates(0.05), retry: 0.6 } }),
  });
  const policy = calibratePolicy(records, { path: 'probe.csv', sha256: 'abc' }, { stopBelow: 0.2 });

  it('with a policy: exactly applyPolicy (what the assertion applies), for every kind of row', () => {
    for (const signals of [
      { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 1, spread: 0.5, concentration: 2, logit_dispersion: -1.5 },
      { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 0, spread: 0.5, concentration: 2, logit_dispersion: -1.5 },
      { n_rollouts: 8, n_passed: 3, pass_rate: 3 / 8, ancestor_pass_rate: 0, spread: 0.5, concentration: 2, logit_dispersion: -1.5 },
      { n_rollouts: 8, n_passed: 0, pass_rate: 0 },
    ]) {
      const d = applyPolicy(policy, signals);
      expect(repairRoute({ kind: 'policy', policy }, signals)).toEqual({ route: d.route, regime: d.regime, why: d.why });
    }
  });

  it('a fixed route for every row with a failed rollout; none for a solved row', () => {
    expect(repairRoute({ kind: 'fixed', route: 'dense_steer' }, { n_rollouts: 12, n_passed: 3 })).toEqual({
      route: 'dense_steer',
      regime: null,
      why: 'fixed route dense_steer (repair.route) for every row with a failed rollout: 9 of 12 failed',
    });
    expect(repairRoute({ kind: 'fixed', route: 'stop' }, { n_rollouts: 12, n_passed: 11 }).route).toBe('stop');
    expect(repairRoute({ kind: 'fixed', route: 'retry' }, { n_rollouts: 12, n_passed: 12 })).toMatchObject({ route: null, why: 'solved: all 12 rollouts passed, nothing to repair' });
    expect(repairRoute({ kind: 'policy', policy }, { n_rollouts: 4, n_passed: 4 })).toEqual({ route: null, regime: 'solved', why: 'solved: all 4 rollouts passed' });
  });
});

describe('repair config', () => {
  const parse = (c: unknown) => RepairConfigSchema.safeParse(c);
  it('needs a policy or a route, not both, and a budget ≥ 1', () => {
    expect(parse({ budget: 3 }).error?.issues[0]).toMatchObject({ path: ['policy'], message: expect.stringMatching(/`policy: policy.json` .* or a fixed `route: <operator>`/) });
    expect(parse({ budget: 3, policy: 'p.json', route: 'retry' }).error?.issues[0]).toMatchObject({ path: ['route'], message: expect.stringMatching(/not both/) });
    expect(parse({ route: 'retry' }).success).toBe(false);
    expect(parse({ route: 'retry', budget: 0 }).success).toBe(false);
    expect(parse({ route: 'Dense Steer', budget: 2 }).error?.issues[0]?.message).toMatch(/snake_case/);
    expect(parse({ route: 'retry', budget: 2, bugdet: 3 }).error?.issues[0]?.message).toMatch(/bugdet/);
  });

  it('defaults: the gradeRollouts grader form (equals on the answer var), the original output', () => {
    expect(parse({ route: 'retry', budget: 2 }).data).toEqual({ route: 'retry', budget: 2, grader: { type: 'equals', var: 'answer', caseSensitive: false }, operators: [], output: 'original' });
  });
});
