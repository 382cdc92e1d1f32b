import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/core/policy/applyPolicy.js';
import { calibratePolicy, CalibrationError } from '../../src/core/policy/calibratePolicy.js';
import { crossValidate, crossValidationFolds } from '../../src/core/policy/crossValidation.js';
import { PolicySchema } from '../../src/core/policy/policySchema.js';
import { OPS, population, uniformRates, type Op } from './population.js';

const SOURCE = { path: 'synthetic', sha256: '0' };
const rates = (base: number, over: Partial<Record<Op, number>> = {}) => ({ ...uniformRates(base), ...over });

/** Lineage-like: where the ancestor can do the problem, dense steer rescues; where it cannot, retry does best. */
const thresholdPopulation = (seed: number) =>
  population({
    rows: 200,
    seed,
    rescue: (s) => ({
      label: s.ancestor_pass_rate >= 0.5 ? rates(0.1, { dense_steer: 0.55, sparse_steer: 0.25 }) : rates(0.1, { retry: 0.35, dense_steer: 0.05, local_temp: 0.2 }),
    }),
  });

/** Every row has one operator that works, drawn at random: no signal says which. */
const noSignalPopulation = (seed: number, split: 'disjoint' | 'same' = 'disjoint', rows = 200) =>
  population({
    rows,
    seed,
    split,
    rescue: (_s, random) => {
      const best = OPS[Math.floor(random.uniform() * OPS.length)]!;
      return { label: rates(0.1, { [best]: 0.6 }) };
    },
  });

describe('calibratePolicy: measure, then route', () => {
  it.each([1, 2, 3])('finds a best operator that depends on a signal threshold and chooses the learned policy (seed %i)', (seed) => {
    const policy = calibratePolicy(thresholdPopulation(seed), SOURCE, { seed });
    expect(() => PolicySchema.parse(policy)).not.toThrow();
    expect(policy.choice.kind).toBe('learned');
    expect(policy.route.kind).toBe('tree');
    const learned = policy.candidates.find((c) => c.kind === 'learned')!;
    expect(learned.vs_best_fixed!.lo!).toBeGreaterThan(0);
    expect(policy.choice.best_fixed).toBe('dense_steer');
    if (policy.route.kind !== 'tree') throw new Error('unreachable');
    const root = policy.route.tree;
    expect('signal' in root && root.signal).toBe('ancestor_pass_rate');
    if (!('signal' in root)) throw new Error('unreachable');
    // ancestor_pass_rate takes values k/8: the boundary lies in (3/8, 4/8].
    expect(root.threshold).toBeGreaterThan(0.375);
    expect(root.threshold).toBeLessThanOrEqual(0.5);
    expect(policy.needs).toContain('ancestor_pass_rate');
    // Applied to a row: an able ancestor routes to dense steer, with a one-line why.
    const d = applyPolicy(policy, { n_rollouts: 8, n_passed: 1, pass_rate: 0.125, ancestor_pass_rate: 0.875, spread: 0.5, concentration: 2, logit_dispersion: -1.5 });
    expect(d.route).toBe('dense_steer');
    expect(d.why).toMatch(/→ dense_steer: .*ancestor_pass_rate ≥ 0\.\d+.*dense_steer rescued \d+% of \d+ probed rows/);
  });

  it.each([1, 2, 3, 4, 5])('does not choose a learned policy where no signal matters (seed %i)', (seed) => {
    const policy = calibratePolicy(noSignalPopulation(seed), SOURCE, { seed });
    expect(policy.choice.kind).toBe('fixed');
    expect(policy.route).toEqual({ kind: 'fixed', operator: policy.choice.best_fixed });
    const learned = policy.candidates.find((c) => c.kind === 'learned')!;
    expect(learned.vs_best_fixed!.lo!).toBeLessThanOrEqual(0);
    expect(policy.choice.why).toMatch(/no candidate beats always \w+/);
    const d = applyPolicy(policy, { n_rollouts: 8, n_passed: 0 });
    expect(d.route).toBe(policy.choice.best_fixed);
    expect(d.why).toMatch(/for every failure: it rescued \d+% of the probed rows and no learned routing beat it/);
  });

  it('scores with the EVAL split and fits on the LABEL split (the label split prefers sparse steer, the eval split dense steer)', () => {
    const records = population({
      rows: 80,
      seed: 9,
      rescue: () => ({ label: rates(0, { sparse_steer: 1 }), eval: rates(0, { dense_steer: 1, retry: 0.5 }) }),
    });
    expect(records.every((r) => r.label === 'steerable')).toBe(true); // Eq. 2 on label_*: retry 0, sparse steer 1
    const policy = calibratePolicy(records, SOURCE);
    const by = (name: string) => policy.candidates.find((c) => c.name === name)!;
    expect(by('learned policy').routes).toEqual({ sparse_steer: 80 }); // fitted on the label split
    expect(by('learned policy').rescue_all.mean).toBe(0); // ... and scored on the eval split
    expect(by('always sparse_steer').rescue_all.mean).toBe(0);
    expect(by('always dense_steer').rescue_all.mean).toBe(1);
    // Retry on the rows the label split calls steerable: the eval split's rate (≈ 0.5), not the label split's 0.
    expect(by('always retry').rescue_steerable.n).toBe(80);
    expect(by('always retry').rescue_steerable.mean!).toBeGreaterThan(0.35);
    expect(policy.choice).toMatchObject({ kind: 'fixed', best_fixed: 'dense_steer' });
    expect(policy.warnings).toEqual([]);
  });

  it('warns that a table whose label and eval rates coincide carries the selection bias', () => {
    const policy = calibratePolicy(noSignalPopulation(1, 'same'), SOURCE);
    expect(policy.probe.split).toBe('same');
    expect(policy.warnings.join(' ')).toMatch(/coincide.*selection bias/);
  });

  it('reports the regime estimate against the re-probe ceiling, with precision per regime', () => {
    const records = population({
      rows: 240,
      seed: 5,
      reprobe: 0.5,
      rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? rates(0.05, { dense_steer: 0.7 }) : s.n_passed >= 2 ? rates(0.1, { retry: 0.8 }) : rates(0) }),
    });
    const policy = calibratePolicy(records, SOURCE);
    const names = policy.regime_estimate.candidates.map((c) => c.name);
    expect(names).toEqual(['learned', 'paper_rule', 'majority']);
    const learned = policy.regime_estimate.candidates[0]!;
    const majority = policy.regime_estimate.candidates[2]!;
    expect(majority.balanced_accuracy).toBeCloseTo(1 / 3, 9);
    expect(learned.balanced_accuracy!).toBeGreaterThan(0.6);
    expect(policy.regime.name).toBe('learned');
    const ceiling = policy.regime_estimate.ceiling!;
    expect(ceiling.n).toBe(records.filter((r) => r.reprobe_label !== null).length);
    expect(ceiling.agreement!).toBeGreaterThan(0.5);
    const total = Object.values(policy.regime.precision).reduce((s, p) => s + p.n, 0);
    expect(total).toBe(records.length);
    const d = applyPolicy(policy, { n_rollouts: 8, n_passed: 0, pass_rate: 0, ancestor_pass_rate: 1, spread: 0.5, concentration: 2, logit_dispersion: -1.5 });
    expect(d.regime).toBe('steerable');
    expect(d.why).toMatch(/^steerable \(precision [01]\.\d\d on \d+ probed rows\) → dense_steer: /);
  });

  it('refuses too few rows, saying how many it needs, and rows that measured different operators', () => {
    expect(() => calibratePolicy(noSignalPopulation(1, 'disjoint', 39), SOURCE)).toThrow(CalibrationError);
    expect(() => calibratePolicy(noSignalPopulation(1, 'disjoint', 39), SOURCE)).toThrow(/at least 40 probed failing rows .* got 39/);
    const mixed = noSignalPopulation(1);
    const { dense_steer: _d, ...label } = mixed[3]!.label_rescue;
    const { dense_steer: _e, ...evalRates } = mixed[3]!.eval_rescue;
    mixed[3] = { ...mixed[3]!, label_rescue: label, eval_rescue: evalRates };
    expect(() => calibratePolicy(mixed, SOURCE)).toThrow(/row #4 \(p3\) measured retry, sparse_steer, sparse_steer_random, local_temp but row #1 measured .*dense_steer/);
  });
});

describe('cross-validation never fits on held-out rows', () => {
  it('folds keep a problem together, and each fit sees exactly the rows outside its fold', () => {
    const groups = Array.from({ length: 30 }, (_, i) => `q${i % 12}`); // 12 problems, some with several rows
    const strata = groups.map((g) => (Number(g.slice(1)) % 3 === 0 ? 'steerable' : 'resample'));
    const folds = crossValidationFolds(groups, strata, 4, 7);
    for (const g of new Set(groups)) expect(new Set(folds.filter((_, i) => groups[i] === g)).size).toBe(1);
    const rows = groups.map((g, i) => ({ id: i, g }));
    const seen: { fold: number; ids: number[] }[] = [];
    const predictedBy = crossValidate(
      rows,
      folds,
      (train, fold) => {
        seen.push({ fold, ids: train.map((r) => r.id) });
        return fold;
      },
      (fold) => fold,
    );
    expect(predictedBy).toEqual(folds);
    expect(seen).toHaveLength(4);
    for (const { fold, ids } of seen) {
      expect(ids.every((id) => folds[id] !== fold)).toBe(true);
      expect(ids.length).toBe(folds.filter((f) => f !== fold).length);
    }
  });

  it.each([1, 2, 3, 4])('a learned policy on pure noise scores no better than the best fixed operator out of fold (seed %i)', (seed) => {
    // Label and eval rates coincide and every row's rates are noise, so fitting on a held-out row
    // would show up as a large gain: an in-sample depth-2 tree with 3-row leaves beats the best
    // fixed operator by several points here; out of fold it does not.
    const records = population({ rows: 60, seed, split: 'same', rescue: (_s, random) => ({ label: Object.fromEntries(OPS.map((op) => [op, random.uniform()])) as Record<Op, number> }) });
    const policy = calibratePolicy(records, SOURCE, { minLeaf: 3, seed });
    const learned = policy.candidates.find((c) => c.kind === 'learned')!;
    expect(learned.vs_best_fixed!.mean!).toBeLessThan(0);
  });
});
