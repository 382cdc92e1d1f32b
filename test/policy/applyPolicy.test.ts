import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/core/policy/applyPolicy.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import type { Policy } from '../../src/core/policy/policySchema.js';
import { readPolicyFile, writePolicyFile } from '../../src/io/policyFile.js';
import { population, uniformRates, type Op } from './population.js';

const rates = (base: number, over: Partial<Record<Op, number>> = {}) => ({ ...uniformRates(base), ...over });
// Where the ancestor can do the problem, dense steer; where it cannot, retry if the specialist
// passes often enough, else nothing works.
const records = population({
  rows: 200,
  seed: 11,
  rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? rates(0.05, { dense_steer: 0.7 }) : s.n_passed <= 1 ? rates(0) : rates(0.05, { retry: 0.6 }) }),
});
// An attempt priced at 0.2 rescue (--stop-below 0.2), so isolating the hopeless rows pays for a split.
const policy = calibratePolicy(records, { path: 'probe.csv', sha256: 'abc' }, { stopBelow: 0.2 });
const dir = mkdtempSync(join(tmpdir(), 'recov-policy-'));

describe('applyPolicy', () => {
  it('the calibrated policy here is learned, with a stop leaf', () => {
    expect(policy.choice.kind).toBe('learned');
    expect(JSON.stringify(policy.route)).toContain('"route":"stop"');
  });

  it('routes each kind of row, the why leading with regime → route', () => {
    const able = applyPolicy(policy, { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 1, spread: 0.5, concentration: 2, logit_dispersion: -1.5 });
    expect(able).toMatchObject({ route: 'dense_steer', fellBack: false });
    expect(able.why).toMatch(new RegExp(`^${able.regime}( \\(precision \\d\\.\\d\\d on \\d+ probed rows\\))? → dense_steer: `));
    const hopeless = applyPolicy(policy, { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 0, spread: 0.5, concentration: 2, logit_dispersion: -1.5 });
    expect(hopeless.route).toBe('stop');
    expect(hopeless.why).toMatch(/→ stop: .* no operator rescued 20% of \d+ probed rows \(best: \w+ \d+%\)/);
  });

  it('a solved row has no route', () => {
    expect(applyPolicy(policy, { n_rollouts: 4, n_passed: 4 })).toEqual({ regime: 'solved', route: null, precision: null, precisionN: 0, fellBack: false, why: 'solved: all 4 rollouts passed' });
  });

  it('a row without a signal the policy reads falls back to the best fixed operator and says which signal', () => {
    const d = applyPolicy(policy, { n_rollouts: 8, n_passed: 0, pass_rate: 0 });
    expect(d.fellBack).toBe(true);
    expect(d.route).toBe(policy.choice.best_fixed);
    expect(d.why).toMatch(/needs (ancestor_pass_rate|pass_rate), which this row lacks/);
  });

  it("routes by the paper's rule or one operator when that is the policy", () => {
    const paper: Policy = { ...policy, route: { kind: 'paper_rule', scale: { n: 10, mean: { spread: 0.5, concentration: 2, logit_dispersion: -1.5 }, sd: { spread: 0.1, concentration: 0.5, logit_dispersion: 0.2 } } } };
    const d = applyPolicy(paper, { n_rollouts: 8, n_passed: 0, spread: 0.9, concentration: 2, logit_dispersion: -1.5, ancestor_pass_rate: 1, pass_rate: 0 });
    expect(d.route).toBe('dense_steer');
    expect(d.why).toMatch(/paper's rule: .*spread z=\+4\.00 stands out → dense_steer/);
    const fixed: Policy = { ...policy, route: { kind: 'fixed', operator: 'retry' }, regime: { ...policy.regime, model: { kind: 'majority', regime: 'resample' } } };
    expect(applyPolicy(fixed, { n_rollouts: 8, n_passed: 1 }).why).toMatch(/^resample \(precision .*\) → retry: retry for every failure/);
  });
});

describe('policy.json', () => {
  it('round-trips through writePolicyFile / readPolicyFile', async () => {
    const file = join(dir, 'policy.json');
    await writePolicyFile(file, policy);
    expect(await readPolicyFile(file)).toEqual(policy);
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['another format', '{"format":"x"}', /is not a policy file .* write one with "recoverability calibrate/],
    ['another version', JSON.stringify({ ...policy, version: 9 }), /policy version 9; this version reads version 1/],
    ['a broken field', JSON.stringify({ ...policy, route: { kind: 'fixed', operator: 'Dense Steer' } }), /field "route.operator": operator names are snake_case/],
  ])('%s is an InputError naming the file and field', async (_name, text, message) => {
    const file = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, text);
    await expect(readPolicyFile(file)).rejects.toThrow(message);
  });
});
