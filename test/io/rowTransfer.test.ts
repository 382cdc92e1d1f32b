import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReportRowInput, RowEstimate } from '../../src/core/analysis/buildEvalReportWith.js';
import { packedBuffers, packRows, unpackRows } from '../../src/io/rowTransfer.js';

const estimate = (why: string): RowEstimate => ({ regime: 'steerable', route: 'dense_steer', why, source: 'policy', precision: 0.59, policy: '/p/policy.json' });

/** A row as reportRowFromParts builds it (its members, in its order). */
function row(over: Partial<ReportRowInput> = {}): ReportRowInput {
  return {
    test_idx: 3,
    prompt_idx: 0,
    repeat: 0,
    description: 'expression=21-20+73, answer=74',
    test_key: 'sha256:c24400af7b07e72edc4b',
    provider: 'lineage',
    n_rollouts: 8,
    n_passed: 2,
    row_passed: false,
    features: { spread: 0.0625, concentration: 1.5051499782082522, logit_dispersion: -2.594965479706383 },
    answer_entropy: 0,
    wrong_mode_share: 1,
    unavailable: [],
    sample_output: 'The answer is 75',
    ancestor_pass_rate: 0.75,
    estimate: null,
    row_key: 'd91a02929c3f7ca5',
    ...over,
  };
}

/** Equal member for member, in the same order, −0 told from +0. */
function expectSame(actual: ReportRowInput[], expected: ReportRowInput[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(Object.keys(a)).toEqual(Object.keys(e));
    expect(a).toStrictEqual(e);
    for (const k of ['test_idx', 'prompt_idx', 'n_rollouts', 'answer_entropy', 'ancestor_pass_rate'] as const) expect(Object.is(a[k], e[k])).toBe(true);
    if (a.features && e.features) for (const k of ['spread', 'concentration', 'logit_dispersion'] as const) expect(Object.is(a.features[k], e.features[k])).toBe(true);
  });
}

/** Through a real postMessage, as a reader thread sends them (the buffers moved, not copied). */
function viaStructuredClone<T>(value: T, transfer: ArrayBuffer[]): T {
  return structuredClone(value, { transfer });
}

describe('packRows / unpackRows', () => {
  it('gives back every member of every row, nulls, −0, two-byte text and empty strings included', () => {
    const rows = [
      row(),
      row({ test_idx: 4, features: null, answer_entropy: null, wrong_mode_share: null, ancestor_pass_rate: null, row_passed: null, row_key: null }),
      row({ features: { spread: null, concentration: -0, logit_dispersion: null }, row_passed: true, description: 'x → y ≥ 0.5 😀', provider: '', sample_output: '', row_key: '' }),
      row({ features: { spread: 1e-300, concentration: null, logit_dispersion: Number.MAX_VALUE }, n_passed: 0, test_key: 'Row #1' }),
    ];
    const packed = packRows(rows)!;
    expect(packed).not.toBeNull();
    expectSame(unpackRows(viaStructuredClone(packed, packedBuffers(packed))), rows);
  });

  it('keeps rows sharing one estimate sharing it, and gives each row its own unavailable list', () => {
    const shared = estimate('steerable → dense_steer: mean_token_entropy < 0.0073');
    const other = estimate('another reason');
    const rows = [row({ unavailable: ['a', 'b'] }), row({ estimate: shared }), row({ estimate: other, unavailable: ['trajectory features'] }), row({ estimate: shared, unavailable: ['trajectory features'] })];
    const back = unpackRows(viaStructuredClone(packRows(rows)!, []));
    expectSame(back, rows);
    expect(back[1]!.estimate).toBe(back[3]!.estimate);
    expect(back[1]!.estimate).not.toBe(back[2]!.estimate);
    expect(back[2]!.unavailable).not.toBe(back[3]!.unavailable);
  });

  it('refuses rows it would not give back alike (the caller then sends the objects)', () => {
    expect(packRows([row(), row({ features: { spread: 1, concentration: 2, logit_dispersion: 3, extra: 4 } as never })])).toBeNull();
    expect(packRows([row({ test_key: undefined })])).toBeNull();
    expect(packRows([row({ estimate: undefined })])).toBeNull();
    expect(packRows([row({ ancestor_pass_rate: undefined })])).toBeNull();
    expect(packRows([row({ row_key: undefined })])).toBeNull();
    expect(packRows([row({ row_passed: undefined })])).toBeNull();
    expect(packRows([row({ unavailable: [1] as never })])).toBeNull();
    expect(packRows([row({ n_passed: '2' as never })])).toBeNull();
    expect(packRows([])).toEqual(expect.objectContaining({ count: 0 }));
    expect(unpackRows(packRows([])!)).toEqual([]);
  });

  it('round-trips any rows of the shape (property)', () => {
    const num = fc.oneof(fc.double(), fc.constant(-0), fc.integer());
    const numOrNull = fc.option(num, { nil: null });
    const text = fc.string({ unit: 'binary' });
    const estimates = [estimate('a'), estimate('b'), { ...estimate('c'), policy: undefined }];
    const rowArb = fc.record({
      test_idx: fc.nat(),
      prompt_idx: fc.nat(),
      repeat: fc.nat(),
      description: text,
      test_key: text,
      provider: text,
      n_rollouts: fc.nat(),
      n_passed: fc.nat(),
      row_passed: fc.option(fc.boolean(), { nil: null }),
      features: fc.option(fc.record({ spread: numOrNull, concentration: numOrNull, logit_dispersion: numOrNull }).map((f) => ({ ...f })), { nil: null }),
      answer_entropy: numOrNull,
      wrong_mode_share: numOrNull,
      unavailable: fc.array(text, { maxLength: 3 }),
      sample_output: text,
      ancestor_pass_rate: numOrNull,
      estimate: fc.option(fc.constantFrom(...estimates), { nil: null }),
      row_key: fc.option(text, { nil: null }),
    }).map((r) => ({ ...r })); // fast-check's records have no prototype; rows do
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), (rows) => {
        const packed = packRows(rows)!;
        expectSame(unpackRows(viaStructuredClone(packed, packedBuffers(packed))), rows);
      }),
      { numRuns: 300 },
    );
  });
});
