import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/core/policy/applyPolicy.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { prospectiveRegime } from '../../src/core/regimes/prospectiveRegime.js';
import { reasonLine, whyOnly } from '../../src/report/reasonLine.js';
import { population, uniformRates } from '../policy/population.js';

const scale = { n: 50, mean: { spread: 0.3, concentration: 1.2, logit_dispersion: -2.5 }, sd: { spread: 0.1, concentration: 0.3, logit_dispersion: 0.5 } };
const occurrences = (s: string, part: string) => s.split(part).length - 1;

/** The paper's rule on one row, as gradeRollouts writes its reason. */
function paperReason(nPassed: number, features: { spread: number; concentration: number; logit_dispersion: number } | null, withScale = true) {
  const e = prospectiveRegime({ nRollouts: 12, nPassed, features }, { scale: withScale ? scale : null, noScaleReason: 'no `reference` set' });
  const line = reasonLine({ regime: e.regime, route: e.route, source: 'paper_rule', precision: null, nPassed, nRollouts: 12, threshold: 0.5, example: 'answer 70 ≠ 0', ancestor: { passed: 3, n: 4 }, why: whyOnly(e.why, e.route) });
  return { e, line };
}

describe('the reason line: one line, regime → route first, each fact once', () => {
  const cases = {
    resample: paperReason(9, { spread: 0.3, concentration: 1.2, logit_dispersion: -2.5 }),
    steerable: paperReason(0, { spread: 0.3, concentration: 2.0, logit_dispersion: -2.5 }),
    fallback: paperReason(1, { spread: 0.2, concentration: 1.0, logit_dispersion: -3 }),
    beyond_reach: paperReason(0, { spread: 0.3, concentration: 1.2, logit_dispersion: -2.5 }),
    no_scale: paperReason(0, { spread: 0.3, concentration: 2, logit_dispersion: -2.5 }, false),
    no_features: paperReason(2, null),
  };

  it('covers every branch of the paper\'s rule', () => {
    expect(Object.fromEntries(Object.entries(cases).map(([k, c]) => [k, `${c.e.regime} ${c.e.route}`]))).toEqual({
      resample: 'resample retry',
      steerable: 'steerable sparse_steer',
      fallback: 'steerable sparse_steer_random',
      beyond_reach: 'beyond_reach stop',
      no_scale: 'retry_insufficient null',
      no_features: 'retry_insufficient null',
    });
  });

  it('leads with regime → route and says the rule is untested on this model', () => {
    for (const [name, { e, line }] of Object.entries(cases)) {
      expect(line, name).toMatch(new RegExp(`^${e.regime}${e.route ? ` → ${e.route}` : ''} \\(the paper's rule, untested on this model\\) · `));
      expect(line, name).not.toMatch(/\n/);
    }
  });

  it('says the counts, the route and "no rollout passed" once', () => {
    for (const [name, { e, line }] of Object.entries(cases)) {
      expect(occurrences(line, 'rollouts pass'), `${name}: ${line}`).toBe(1);
      expect(line, name).not.toMatch(/rollouts passed|no rollout passed|— resample|— stop spending/);
      if (e.route) expect(occurrences(line, e.route), `${name}: ${line}`).toBe(1);
    }
    expect(cases.steerable.line).toBe(
      'steerable → sparse_steer (the paper\'s rule, untested on this model) · 0/12 rollouts pass (need 50%); e.g. answer 70 ≠ 0 · ancestor 3/4 pass · best-of-3 retry ≈ 0%; concentration z=+2.67 stands out',
    );
    expect(cases.fallback.line).toMatch(/no feature stands out \(largest: [a-z_]+ z=[−+-]?\d\.\d\d\): fallback$/);
    expect(cases.no_scale.line).toMatch(/ · best-of-3 retry ≈ 0%; no `reference` set$/);
  });

  it('a learned policy: source and measured precision, and the policy\'s own reason without its head', () => {
    const records = population({ rows: 60, seed: 3, rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? { ...uniformRates(0.05), dense_steer: 0.7 } : uniformRates(0.02) }) });
    const policy = calibratePolicy(records, { path: 'probe.csv', sha256: 'x' }, { resamples: 200 });
    const signals = { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 1, spread: 0.5, concentration: 2, logit_dispersion: -1.5 };
    const d = applyPolicy(policy, signals);
    expect(d.precision).not.toBeNull();
    const line = reasonLine({ regime: d.regime, route: d.route, source: 'policy', precision: d.precision, precisionN: d.precisionN, nPassed: 0, nRollouts: 8, threshold: 0.5, why: whyOnly(d.why, d.route) });
    expect(line).toMatch(new RegExp(`^${d.regime} → ${d.route} \\(learned policy, precision ${Math.round(100 * d.precision!)}% on ${d.precisionN} probed rows\\) · 0/8 rollouts pass`));
    expect(occurrences(line, `→ ${d.route}`)).toBe(1);
    expect(line).not.toMatch(/precision 0\.\d\d/); // the policy's own head is not repeated
  });

  it('a solved row says so and its counts, nothing else', () => {
    expect(reasonLine({ regime: 'solved', route: null, source: 'paper_rule', precision: null, nPassed: 12, nRollouts: 12, threshold: 0.5, why: 'all 12 rollouts passed' })).toBe('solved · 12/12 rollouts pass');
  });
});
