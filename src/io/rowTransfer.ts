import type { ReportRowInput, RowEstimate } from '../core/analysis/buildEvalReportWith.js';

/**
 * Report rows packed into columns for passing between threads: numbers in one Float64Array,
 * null-ness in bit flags, strings joined into one string with their lengths, estimates and
 * `unavailable` lists as indexes into small tables of the distinct ones. A reader thread posts
 * 100k rows; as objects, the structured clone took 4–10 µs a row (most of it building them again
 * on the receiving thread), where columns travel as a few buffers and are unpacked by a literal.
 */
export interface PackedRows {
  count: number;
  /** NUMBERS values a row: test_idx, prompt_idx, repeat, n_rollouts, n_passed, the three features, answer_entropy, wrong_mode_share, ancestor_pass_rate (0 where null). */
  numbers: Float64Array;
  /** One word of FLAG bits a row. */
  flags: Uint16Array;
  /** A row's estimate (index in `estimates`, −1 for null) and `unavailable` list (index in `lists`, 0 for the empty list). */
  refs: Int32Array;
  /** TEXTS lengths a row: description, test_key, provider, sample_output, row_key (0 where null). */
  lengths: Int32Array;
  text: string;
  estimates: RowEstimate[];
  /** Distinct `unavailable` lists; the first is the empty one. */
  lists: string[][];
}

const NUMBERS = 11;
const TEXTS = 5;
const FLAG = {
  rowPassedNull: 1,
  rowPassedTrue: 2,
  featuresNull: 4,
  spreadNull: 8,
  concentrationNull: 16,
  dispersionNull: 32,
  entropyNull: 64,
  wrongModeNull: 128,
  ancestorNull: 256,
  rowKeyNull: 512,
} as const;

/** The ArrayBuffers of a packing (a postMessage transfer list: they move instead of being copied). */
export const packedBuffers = (p: PackedRows): ArrayBuffer[] => [p.numbers.buffer as ArrayBuffer, p.flags.buffer as ArrayBuffer, p.refs.buffer as ArrayBuffer, p.lengths.buffer as ArrayBuffer];

/**
 * The rows in columns, or null when a row is not as reportRowFromParts builds it (each of its
 * members of the type it gives, features with exactly their three members), or their strings are
 * too long to join: the caller then passes the objects themselves.
 */
export function packRows(rows: readonly ReportRowInput[]): PackedRows | null {
  const count = rows.length;
  const numbers = new Float64Array(count * NUMBERS);
  const flags = new Uint16Array(count);
  const refs = new Int32Array(count * 2);
  const lengths = new Int32Array(count * TEXTS);
  const texts: string[] = [];
  const estimates: RowEstimate[] = [];
  const estimateIndex = new Map<RowEstimate, number>();
  const lists: string[][] = [[]];
  const listIndex = new Map<string, number>();
  for (let r = 0; r < count; r++) {
    const row = rows[r]!;
    const { test_idx, prompt_idx, repeat, description, test_key, provider, n_rollouts, n_passed, row_passed, features, answer_entropy, wrong_mode_share, unavailable, sample_output, ancestor_pass_rate, estimate, row_key } = row;
    if (typeof test_idx !== 'number' || typeof prompt_idx !== 'number' || typeof repeat !== 'number' || typeof n_rollouts !== 'number' || typeof n_passed !== 'number') return null;
    if (typeof description !== 'string' || typeof test_key !== 'string' || typeof provider !== 'string' || typeof sample_output !== 'string') return null;
    if (!(row_key === null || typeof row_key === 'string') || !(row_passed === null || typeof row_passed === 'boolean')) return null;
    if (!numberOrNull(answer_entropy) || !numberOrNull(wrong_mode_share) || !numberOrNull(ancestor_pass_rate)) return null;
    if (!Array.isArray(unavailable) || !(estimate === null || typeof estimate === 'object')) return null;
    let f = 0;
    const n = r * NUMBERS;
    numbers[n] = test_idx;
    numbers[n + 1] = prompt_idx;
    numbers[n + 2] = repeat;
    numbers[n + 3] = n_rollouts;
    numbers[n + 4] = n_passed;
    if (features === null) f |= FLAG.featuresNull;
    else {
      if (typeof features !== 'object' || Object.keys(features).length !== 3) return null;
      const { spread, concentration, logit_dispersion } = features;
      if (!numberOrNull(spread) || !numberOrNull(concentration) || !numberOrNull(logit_dispersion)) return null;
      f |= put(numbers, n + 5, spread, FLAG.spreadNull) | put(numbers, n + 6, concentration, FLAG.concentrationNull) | put(numbers, n + 7, logit_dispersion, FLAG.dispersionNull);
    }
    f |= put(numbers, n + 8, answer_entropy, FLAG.entropyNull) | put(numbers, n + 9, wrong_mode_share, FLAG.wrongModeNull) | put(numbers, n + 10, ancestor_pass_rate, FLAG.ancestorNull);
    if (row_passed === null) f |= FLAG.rowPassedNull;
    else if (row_passed) f |= FLAG.rowPassedTrue;
    if (row_key === null) f |= FLAG.rowKeyNull;
    flags[r] = f;

    if (estimate === null) refs[2 * r] = -1;
    else {
      let e = estimateIndex.get(estimate);
      if (e === undefined) estimateIndex.set(estimate, (e = estimates.push(estimate) - 1));
      refs[2 * r] = e;
    }
    if (unavailable.length === 0) refs[2 * r + 1] = 0;
    else {
      for (const u of unavailable) if (typeof u !== 'string') return null;
      const key = JSON.stringify(unavailable);
      let l = listIndex.get(key);
      if (l === undefined) listIndex.set(key, (l = lists.push(unavailable.slice()) - 1));
      refs[2 * r + 1] = l;
    }
    const t = r * TEXTS;
    texts.push(description, test_key, provider, sample_output, row_key ?? '');
    lengths[t] = description.length;
    lengths[t + 1] = test_key.length;
    lengths[t + 2] = provider.length;
    lengths[t + 3] = sample_output.length;
    lengths[t + 4] = row_key === null ? 0 : row_key.length;
  }
  let text: string;
  try {
    text = texts.join('');
  } catch {
    return null; // past the longest string V8 makes (a huge single job): the objects go as they are
  }
  return { count, numbers, flags, refs, lengths, text, estimates, lists };
}

/**
 * The rows packRows packed, equal member for member (in reportRowFromParts' order). Rows with
 * the same estimate share it, as they did; rows without unavailable signals share one empty
 * list; any other list is a row's own.
 */
export function unpackRows(p: PackedRows): ReportRowInput[] {
  const { count, numbers, flags, refs, lengths, text, estimates, lists } = p;
  const rows: ReportRowInput[] = new Array(count);
  const none: string[] = [];
  let at = 0;
  const next = (k: number) => text.slice(at, (at += lengths[k]!));
  for (let r = 0; r < count; r++) {
    const n = r * NUMBERS;
    const f = flags[r]!;
    const t = r * TEXTS;
    const description = next(t);
    const test_key = next(t + 1);
    const provider = next(t + 2);
    const sample_output = next(t + 3);
    const rowKey = next(t + 4);
    const e = refs[2 * r]!;
    const l = refs[2 * r + 1]!;
    rows[r] = {
      test_idx: numbers[n]!,
      prompt_idx: numbers[n + 1]!,
      repeat: numbers[n + 2]!,
      description,
      test_key,
      provider,
      n_rollouts: numbers[n + 3]!,
      n_passed: numbers[n + 4]!,
      row_passed: f & FLAG.rowPassedNull ? null : (f & FLAG.rowPassedTrue) !== 0,
      features:
        f & FLAG.featuresNull
          ? null
          : {
              spread: f & FLAG.spreadNull ? null : numbers[n + 5]!,
              concentration: f & FLAG.concentrationNull ? null : numbers[n + 6]!,
              logit_dispersion: f & FLAG.dispersionNull ? null : numbers[n + 7]!,
            },
      answer_entropy: f & FLAG.entropyNull ? null : numbers[n + 8]!,
      wrong_mode_share: f & FLAG.wrongModeNull ? null : numbers[n + 9]!,
      unavailable: l === 0 ? none : lists[l]!.slice(),
      sample_output,
      ancestor_pass_rate: f & FLAG.ancestorNull ? null : numbers[n + 10]!,
      estimate: e < 0 ? null : estimates[e]!,
      row_key: f & FLAG.rowKeyNull ? null : rowKey,
    };
  }
  return rows;
}

const numberOrNull = (x: unknown): x is number | null => x === null || typeof x === 'number';

/** A nullable number into its column: `nullBit` when it is null (the column keeps 0), else 0. */
function put(numbers: Float64Array, at: number, value: number | null, nullBit: number): number {
  if (value === null) return nullBit;
  numbers[at] = value;
  return 0;
}
