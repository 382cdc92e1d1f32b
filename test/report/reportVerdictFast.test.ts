import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReportVerdictSchema } from '../../src/report/reportInputs.js';
import { reportVerdictFast } from '../../src/report/reportVerdictFast.js';

// The reader checks verdicts with reportVerdictFast and asks zod only where it answers null: both
// must give the same output (members, order, defaults) for every verdict the schema accepts, and
// reportVerdictFast null for every value it refuses.

/** Every key of a value and of what it holds, in order (toStrictEqual does not compare key order). */
function keyOrder(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(keyOrder);
  if (x !== null && typeof x === 'object') return Object.entries(x).map(([k, v]) => [k, keyOrder(v)]);
  return typeof x;
}

function agree(raw: unknown): void {
  const zod = ReportVerdictSchema.safeParse(raw);
  const fast = reportVerdictFast(raw);
  if (!zod.success) {
    expect(fast, JSON.stringify(raw)).toBeNull();
    return;
  }
  expect(fast, JSON.stringify(raw)).toStrictEqual(zod.data);
  expect(keyOrder(fast)).toStrictEqual(keyOrder(zod.data));
}

/** A JSON value of another kind than the schema wants, or out of its range. */
const wrong = fc.oneof(
  fc.constantFrom(null, true, 'x', '', -1, 1.5, 2, -0.001, 2 ** 53 + 2, 1e300, -0),
  fc.array(fc.oneof(fc.boolean(), fc.string(), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.constant(null)), { maxKeys: 2 }),
);
/** `good` mostly, sometimes a wrong value; absent (undefined) where optional. */
const member = <T,>(good: fc.Arbitrary<T>, optional: boolean) =>
  fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: wrong as fc.Arbitrary<unknown> }, { weight: optional ? 3 : 0, arbitrary: fc.constant(undefined) });
const share = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(null));
const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null));

const verdict = fc
  .record({
    n_rollouts: fc.integer({ min: 0, max: 12 }),
    pass: fc.array(fc.boolean(), { maxLength: 12 }),
    /** 0: consistent counts; 1: n_passed off by one; 2: passed of another length. */
    skew: fc.constantFrom(0, 0, 0, 0, 1, 2),
    features: member(fc.oneof(fc.constant(null), fc.record({ spread: number, concentration: number, logit_dispersion: number, extra: fc.integer() }, { requiredKeys: ['spread', 'concentration', 'logit_dispersion'] })), false),
    unavailable: member(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), true),
    reference: member(fc.oneof(fc.string(), fc.constant(null)), true),
    answer_entropy: member(number, true),
    wrong_mode_share: member(number, true),
    regime: member(fc.constantFrom('solved', 'resample', 'steerable', 'beyond_reach', 'retry_insufficient', 'stuck'), true),
    route: member(fc.oneof(fc.string({ maxLength: 12 }), fc.constant(null)), true),
    route_reason: member(fc.string(), true),
    route_source: member(fc.constantFrom('policy', 'paper_rule', 'other'), true),
    precision: member(share, true),
    policy: member(fc.oneof(fc.string(), fc.constant(null)), true),
    signals: member(fc.oneof(fc.constant(null), fc.record({ ancestor_pass_rate: share, spread: number }, { requiredKeys: [] })), true),
    ancestor_passed: member(fc.oneof(fc.constant(null), fc.array(fc.boolean(), { maxLength: 4 })), true),
    row_key: member(fc.oneof(fc.string({ minLength: 64, maxLength: 64 }), fc.constant(null)), true),
    rollout_errors: fc.integer({ min: 0, max: 3 }),
    counts: fc.constantFrom('ok', 'ok', 'ok', 'wrong', 'absent'),
  })
  .map(({ n_rollouts, pass, skew, counts, ...rest }) => {
    const passed = Array.from({ length: skew === 2 ? n_rollouts + 1 : n_rollouts }, (_, i) => pass[i] ?? false);
    const n_passed = passed.slice(0, n_rollouts).filter(Boolean).length + (skew === 1 ? 1 : 0);
    const v: Record<string, unknown> = { n_rollouts, n_passed, ...rest };
    if (counts === 'wrong') v.n_rollouts = 2 ** 53 + 2;
    if (counts !== 'absent') v.passed = passed;
    // JSON.parse gives no undefined members: an absent one is absent.
    return JSON.parse(JSON.stringify(v)) as unknown;
  });

describe('reportVerdictFast: ReportVerdictSchema, written out', () => {
  it('gives zod’s output for every verdict zod accepts and null for every one it refuses (random verdicts, valid and not)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(verdict, (raw) => {
        agree(raw);
        if (ReportVerdictSchema.safeParse(raw).success) accepted++;
      }),
      { numRuns: 4000 },
    );
    // Both kinds are exercised.
    expect(accepted).toBeGreaterThan(300);
    expect(accepted).toBeLessThan(3700);
  });

  it('agrees on what is no verdict, and on the edges of counts and shares', () => {
    for (const raw of [null, undefined, 1, 'x', [], [1], {}, { n_rollouts: 1 }]) agree(raw);
    const base = { n_rollouts: 4, n_passed: 1, features: null, passed: [false, true, false, false] };
    for (const edit of [
      { n_passed: -0 },
      { n_rollouts: 0, n_passed: 0, passed: [] },
      { n_passed: 5 },
      { n_rollouts: 2 ** 53, passed: undefined },
      { n_rollouts: 4.5 },
      { precision: 0 },
      { precision: 1 },
      { precision: 1.0000001 },
      { precision: -0 },
      { signals: {} },
      { signals: { ancestor_pass_rate: null } },
      { signals: [] },
      { features: { spread: 1, concentration: null } },
      { features: [] },
      { unavailable: [1] },
      { ancestor_passed: [true, 'no'] },
    ]) {
      agree(JSON.parse(JSON.stringify({ ...base, ...edit })));
    }
  });

  it('accepts the verdicts the plugin writes (the bench rows, captured from the root suite)', () => {
    const rows = readFileSync(new URL('../fixtures/verdicts.jsonl', import.meta.url), 'utf8').trim().split('\n');
    for (const line of rows) {
      const raw = JSON.parse(line) as unknown;
      expect(reportVerdictFast(raw)).not.toBeNull();
      agree(raw);
    }
  });
});
