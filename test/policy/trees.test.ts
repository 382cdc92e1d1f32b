import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { landOn, treeLeaves, treeSignals } from '../../src/core/policy/decisionTree.js';
import { fitPolicyTree, type PolicyNode } from '../../src/core/policy/policyTree.js';
import { fitRegimeTree } from '../../src/core/policy/regimeTree.js';

const row = (signals: Record<string, number>, rescue: Record<string, number>) => ({ signals, rescue });

describe('fitPolicyTree (depth ≤ 2, the operator with the best mean label-split rescue per leaf)', () => {
  it('finds the threshold where the best operator changes', () => {
    const rows = Array.from({ length: 10 }, (_, a) => row({ pass_rate: a / 10 }, a < 5 ? { retry: 1, dense_steer: 0 } : { retry: 0, dense_steer: 1 }));
    const tree = fitPolicyTree(rows, ['pass_rate'], ['retry', 'dense_steer'], { minLeaf: 2, stopBelow: 0 });
    expect('leaf' in tree).toBe(false);
    const split = tree as Exclude<PolicyNode, { leaf: unknown }>;
    expect(split.signal).toBe('pass_rate');
    expect(split.threshold).toBeGreaterThan(0.4);
    expect(split.threshold).toBeLessThanOrEqual(0.5);
    expect(split.below).toEqual({ leaf: { route: 'retry', n: 5, rescue: { retry: 1, dense_steer: 0 } } });
    expect(split.above).toEqual({ leaf: { route: 'dense_steer', n: 5, rescue: { retry: 0, dense_steer: 1 } } });
  });

  it('needs depth 2 for an interaction (XOR) and finds it; depth 1 gains nothing and stays one leaf', () => {
    const rows = [];
    for (let k = 0; k < 40; k++) {
      const a = k % 2;
      const b = Math.floor(k / 2) % 2;
      rows.push(row({ spread: a, ancestor_pass_rate: b }, a === b ? { retry: 0, sparse_steer: 1 } : { retry: 1, sparse_steer: 0 }));
    }
    const deep = fitPolicyTree(rows, ['spread', 'ancestor_pass_rate'], ['retry', 'sparse_steer'], { minLeaf: 5, stopBelow: 0 });
    const total = rows.reduce((s, r) => {
      const l = landOn(deep, r.signals);
      return s + ('leaf' in l ? r.rescue[l.leaf.route as 'retry']! : 0);
    }, 0);
    expect(total).toBe(40);
    expect(treeLeaves(deep)).toHaveLength(4);
    expect(new Set(treeSignals(deep))).toEqual(new Set(['spread', 'ancestor_pass_rate']));
    const shallow = fitPolicyTree(rows, ['spread', 'ancestor_pass_rate'], ['retry', 'sparse_steer'], { minLeaf: 5, maxDepth: 1, stopBelow: 0 });
    expect('leaf' in shallow).toBe(true);
  });

  it('routes a leaf whose best operator rescues under stopBelow to stop; ties go to the earlier operator', () => {
    const low = Array.from({ length: 12 }, (_, i) => row({ pass_rate: i / 12 }, { retry: 0.02, dense_steer: 0.02 }));
    const stopped = fitPolicyTree(low, ['pass_rate'], ['retry', 'dense_steer']);
    expect(stopped).toMatchObject({ leaf: { route: 'stop', n: 12 } });
    expect((stopped as { leaf: { rescue: Record<string, number> } }).leaf.rescue.dense_steer).toBeCloseTo(0.02, 12);
    expect(fitPolicyTree(low, ['pass_rate'], ['dense_steer', 'retry'], { stopBelow: 0 })).toMatchObject({ leaf: { route: 'dense_steer' } });
  });

  it('every leaf holds at least minLeaf rows and the tree is never worse than the best single operator on its training rows (property)', () => {
    const rowArb = fc.record({ x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.double({ min: -3, max: 3, noNaN: true }), a: fc.double({ min: 0, max: 1, noNaN: true }), b: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (data, minLeaf) => {
        const rows = data.map((d) => row({ pass_rate: d.x, concentration: d.y }, { retry: d.a, dense_steer: d.b }));
        const tree = fitPolicyTree(rows, ['pass_rate', 'concentration'], ['retry', 'dense_steer'], { minLeaf, stopBelow: 0 });
        const leaves = treeLeaves(tree);
        if (leaves.length > 1 && leaves.some((l) => l.n < minLeaf)) return false;
        if (leaves.reduce((s, l) => s + l.n, 0) !== rows.length) return false;
        const routed = rows.reduce((s, r) => {
          const l = landOn(tree, r.signals);
          if (!('leaf' in l)) return NaN;
          return s + (l.leaf.route === 'stop' ? 0 : r.rescue[l.leaf.route as 'retry']!);
        }, 0);
        const bestFixed = Math.max(...(['retry', 'dense_steer'] as const).map((op) => rows.reduce((s, r) => s + r.rescue[op]!, 0)));
        return routed >= bestFixed - 1e-9;
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a training row without a signal it splits on, naming it', () => {
    expect(() => fitPolicyTree([row({}, { retry: 1, dense_steer: 0 })], ['pass_rate'], ['retry', 'dense_steer'])).toThrow(/row #0 has no "pass_rate"/);
    expect(() => fitPolicyTree([], ['pass_rate'], ['retry'])).toThrow(/at least one training row/);
    expect(() => fitPolicyTree([row({ pass_rate: 0 }, { retry: 1 })], ['pass_rate'], ['retry'], { maxDepth: 3 })).toThrow(/depth is 0, 1 or 2/);
  });
});

describe('fitRegimeTree (ml-cart CART splits, prior-corrected leaves)', () => {
  it('finds a separating threshold', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ signals: { ancestor_pass_rate: i / 60 }, label: (i < 30 ? 'beyond_reach' : 'steerable') as 'beyond_reach' | 'steerable' }));
    const tree = fitRegimeTree(rows, ['ancestor_pass_rate']);
    expect(tree).toMatchObject({ signal: 'ancestor_pass_rate', below: { leaf: { regime: 'beyond_reach', n: 30 } }, above: { leaf: { regime: 'steerable', n: 30 } } });
    expect((tree as { threshold: number }).threshold).toBeCloseTo(29.5 / 60, 9);
  });

  it('a leaf predicts the label with the largest share of its own class, so a rare regime is not drowned', () => {
    // 90 resample rows, 10 beyond_reach; one leaf holds all (nothing to split on): the 10 are 100% of
    // their class there, the 90 too — a tie kept by label order (resample). Then one leaf with 45
    // resample and 9 beyond_reach: 45/90 = 0.5 < 9/10 = 0.9 → beyond_reach, though resample is the majority.
    const rows = [
      ...Array.from({ length: 45 }, () => ({ signals: { spread: 0 }, label: 'resample' as const })),
      ...Array.from({ length: 45 }, () => ({ signals: { spread: 1 }, label: 'resample' as const })),
      ...Array.from({ length: 9 }, () => ({ signals: { spread: 0 }, label: 'beyond_reach' as const })),
      ...Array.from({ length: 1 }, () => ({ signals: { spread: 1 }, label: 'beyond_reach' as const })),
    ];
    const tree = fitRegimeTree(rows, ['spread'], { minLeaf: 5 });
    expect(tree).toMatchObject({ signal: 'spread', below: { leaf: { regime: 'beyond_reach', n: 54, counts: { resample: 45, beyond_reach: 9, steerable: 0 } } }, above: { leaf: { regime: 'resample', n: 46 } } });
  });

  it('one class or no signal gives one leaf', () => {
    expect(fitRegimeTree([{ signals: { spread: 1 }, label: 'steerable' }], ['spread'])).toMatchObject({ leaf: { regime: 'steerable', n: 1 } });
    expect(fitRegimeTree([{ signals: {}, label: 'steerable' }, { signals: {}, label: 'resample' }], [])).toMatchObject({ leaf: { n: 2 } });
  });
});
