import { ROW_KEY } from '../promptfoo/rowRecoverability.js';
import type { RowParts } from '../report/reportInputs.js';
import { providerName, SAMPLE_CHARS } from '../report/reportInputs.js';
import { METADATA_KEY } from '../promptfoo/rolloutMetadata.js';
import { parseUtf8Json } from './parseUtf8Json.js';
import { KeyNames, objectMembers, readValue, skipValue, skipWs, stringText } from './jsonScan.js';

/**
 * The report's parts of one promptfoo result row, read from its JSON text (compact JSONL or
 * pretty JSON) without parsing the rollouts: the row's members are listed (objectMembers, in
 * WebAssembly over a read window), the verdict, vars and rollouts are taken where the whole-row
 * reading (classifyResult) takes them, and only the members the report uses are decoded (of the
 * response, its `output`). Any key order is read; a member named twice counts as the last one,
 * as JSON.parse takes it. The result is null when the row is not what this reads (not a JSON
 * object ending at `e`, no verdict, a member of another type than promptfoo writes): the caller
 * then parses the whole row, which decides (slower, same answer). What is stepped over is not
 * validated: a row that is not JSON there is read, where JSON.parse would refuse it. `lean`
 * leaves out what only the report shows (the provider and the output).
 */
export function scanRowParts(b: Buffer, s: number, e: number, lean = false): RowParts | null {
  const row = membersNamed(b, s, e, ROW_MEMBERS);
  if (row === null || row.end !== e) return null;
  const [grading, promptIdx, provider, response, success, testCase, testIdx, rowVarsSpan, rowMetadata] = row.values;
  if (!grading || !promptIdx || !response || !testCase || !testIdx) return null;
  const [gradingAt, gradingEnd] = grading;
  const [responseAt, responseEnd] = response;
  const [testCaseAt, testCaseEnd] = testCase;
  const promptIdxValue = readNumber(b, ...promptIdx);
  const testIdxValue = readNumber(b, ...testIdx);
  const rowMetadataSpan = rowMetadata ?? null;
  const providerSpan = lean ? null : (provider ?? null);
  // Indices that are not whole numbers ≥ 0: the whole-row reading decides what they become.
  if (!isIndex(promptIdxValue) || !isIndex(testIdxValue)) return null;
  if (b[responseAt] !== 0x7b || b[testCaseAt] !== 0x7b || b[gradingAt] !== 0x7b) return null;

  const v = verdictSpan(b, gradingAt, gradingEnd);
  if (v === null || b[v[0]] !== 0x7b) return null;
  const verdict = parseUtf8Json(b, v[0], v[1]) as unknown;

  let successValue: boolean | null = null;
  if (success) {
    const value = readValue(b, success[0], e).value; // to the row's end: a scalar needs the byte after it
    successValue = typeof value === 'boolean' ? value : null;
  }
  const providerValue = providerSpan ? providerName(readValue(b, providerSpan[0], e).value) : '';
  let output: string | null = null;
  /** The response's `metadata` (undefined until the response is listed: the lean reading does not). */
  let responseMetadata: Span | null | undefined;
  if (!lean) {
    const r = membersNamed(b, responseAt, responseEnd, RESPONSE_MEMBERS);
    if (r === null) return null;
    const [o, m] = r.values;
    if (o) {
      // A string output is sampled; another type is left to the whole-row reading.
      if (b[o[0]] !== 0x22) return null;
      output = stringText(b, o[0], o[1]).slice(0, SAMPLE_CHARS);
    }
    responseMetadata = m;
  }
  /** The rollout metadata's span, looked up once (by the first of answers and rowKey to ask). */
  let rollout: Span | null | undefined;
  const rolloutSpan = () =>
    rollout !== undefined ? rollout : (rollout = rolloutMetadata(b, responseMetadata !== undefined ? responseMetadata : memberSpan(b, [responseAt, responseEnd], METADATA), rowMetadataSpan));
  const tc = readTestCase(b, testCaseAt, testCaseEnd);
  if (tc === null) return null;
  const { testCase: testCaseValue, assertText } = tc;
  // The row's own vars, as the whole-row reading takes them (its test's vars come first where it uses both).
  const rowVarsValue = rowVarsSpan && (testCaseValue.vars === undefined || testCaseValue.vars === null) ? (parseUtf8Json(b, rowVarsSpan[0], rowVarsSpan[1]) as unknown) : null;
  const vars = testCaseValue.vars && typeof testCaseValue.vars === 'object' ? testCaseValue.vars : rowVarsValue && typeof rowVarsValue === 'object' ? (rowVarsValue as Record<string, unknown>) : null;
  return {
    testIdx: testIdxValue,
    promptIdx: promptIdxValue,
    testCase: testCaseValue,
    vars,
    provider: providerValue,
    success: successValue,
    output,
    verdict,
    ...(assertText !== undefined ? { assertText } : {}),
    answers: () => scanAnswers(b, rolloutSpan()),
    rowKey: () => scanRowKey(b, rolloutSpan()),
  };
}

/**
 * A test case's members, parsed, except its assertions, which are kept as raw JSON text: every
 * row of a suite usually shares them, and their canonical form is cached by that text. Null when
 * the members cannot be listed.
 */
function readTestCase(b: Buffer, at: number, e: number): { testCase: NonNullable<RowParts['testCase']>; assertText: string | undefined } | null {
  const members = membersNamed(b, at, e, TEST_CASE_MEMBERS);
  if (members === null) return null;
  const [asserts, vars, description] = members.values;
  const testCase: Record<string, unknown> = {};
  if (vars) testCase.vars = parseUtf8Json(b, vars[0], vars[1]);
  if (description) testCase.description = readValue(b, description[0], e).value; // to the test's end: a scalar needs the byte after it
  return { testCase, assertText: asserts ? assertsText(b, asserts[0], asserts[1]) : undefined };
}

/** The last assertions' bytes and text: the rows of a suite usually share them (defaultTest). */
let lastAsserts: { bytes: Buffer; text: string } | null = null;

/** The assertions' JSON text at [i, j): the previous row's string when the bytes are the same. */
function assertsText(b: Buffer, i: number, j: number): string {
  if (lastAsserts && lastAsserts.bytes.length === j - i && lastAsserts.bytes.compare(b, i, j) === 0) return lastAsserts.text;
  const bytes = Buffer.from(b.subarray(i, j));
  lastAsserts = { bytes, text: bytes.toString('utf8') };
  return lastAsserts.text;
}

type Span = [number, number];

/** The members each object is read for (membersNamed's `values` come in this order). */
const ROW_MEMBERS = new KeyNames(['gradingResult', 'promptIdx', 'provider', 'response', 'success', 'testCase', 'testIdx', 'vars', 'metadata']);
const RESPONSE_MEMBERS = new KeyNames(['output', 'metadata']);
const TEST_CASE_MEMBERS = new KeyNames(['assert', 'vars', 'description']);
const GRADING_MEMBERS = new KeyNames(['metadata', 'componentResults']);
const METADATA = new KeyNames(['metadata']);
const VERDICT = new KeyNames([ROW_KEY]);
const ROLLOUT_METADATA = new KeyNames([METADATA_KEY]);
const ROLLOUTS = new KeyNames(['rollouts']);
const ROW_KEY_MEMBER = new KeyNames(['row_key']);

/**
 * Of the object at `b[at]` (listed up to `end`), the value of the last member with each of the
 * `names` (as JSON.parse keeps it), and where the object ends. Null when `b[at]` starts no object
 * or its members cannot be listed.
 */
function membersNamed(b: Buffer, at: number, end: number, names: KeyNames): { end: number; values: (Span | null)[] } | null {
  if (b[at] !== 0x7b) return null;
  const members = objectMembers(b, at, end);
  if (members === null) return null;
  const values: (Span | null)[] = names.names.map(() => null);
  const table = members.at;
  for (let k = 4; k < 4 + 4 * members.count; k += 4) {
    const which = names.indexAt(b, table[k]!, table[k + 1]!);
    if (which >= 0) values[which] = [table[k + 2]!, table[k + 3]!];
  }
  return { end: table[0]!, values };
}

/** The value of the object at `span`'s last member with the (one) name, or null when `span` is no object or has none. */
function memberSpan(b: Buffer, span: Span | null, name: KeyNames): Span | null {
  return span === null ? null : (membersNamed(b, span[0], span[1], name)?.values[0] ?? null);
}

const isNullAt = (b: Buffer, s: Span | null) => s === null || (s[1] - s[0] === 4 && b.toString('latin1', s[0], s[1]) === 'null');

/**
 * Where the verdict is, as rawVerdict finds it: the grading result's `metadata[ROW_KEY]`, else
 * each component result's in turn, the first that is not null. Null when there is none, or when
 * `componentResults` is not a list as promptfoo writes it (the whole-row reading decides).
 */
function verdictSpan(b: Buffer, gradingAt: number, gradingEnd: number): Span | null {
  const grading = membersNamed(b, gradingAt, gradingEnd, GRADING_MEMBERS);
  if (grading === null) return null;
  const [metadata, components] = grading.values;
  const own = memberSpan(b, metadata ?? null, VERDICT);
  if (!isNullAt(b, own)) return own;
  if (!components || b[components[0]] !== 0x5b) return null;
  const [, listEnd] = components;
  for (let i = skipWs(b, components[0] + 1, listEnd); b[i] !== 0x5d; ) {
    // A component that is no object has no metadata (as `c?.metadata` reads it).
    const component = b[i] === 0x7b ? membersNamed(b, i, listEnd, METADATA) : null;
    if (b[i] === 0x7b && component === null) return null;
    const v = memberSpan(b, component?.values[0] ?? null, VERDICT);
    if (!isNullAt(b, v)) return v;
    i = skipWs(b, component ? component.end : skipValue(b, i, listEnd), listEnd);
    if (b[i] === 0x2c) i = skipWs(b, i + 1, listEnd);
    else if (b[i] !== 0x5d) return null;
  }
  return null;
}

/**
 * The RolloutProvider's metadata, where the whole-row reading takes it: the response's
 * `metadata[METADATA_KEY]` (`responseMetadata`: the response's `metadata`), else the row's (when
 * the response's is absent or null).
 */
function rolloutMetadata(b: Buffer, responseMetadata: Span | null, rowMetadata: Span | null): Span | null {
  const own = memberSpan(b, responseMetadata, ROLLOUT_METADATA);
  return isNullAt(b, own) ? memberSpan(b, rowMetadata, ROLLOUT_METADATA) : own;
}

/** Every rollout's `answer` (null where it is not a string) in the rollout metadata's `rollouts` list, in order; null when there is no such list. */
function scanAnswers(b: Buffer, meta: Span | null): (string | null)[] | null {
  const rollouts = memberSpan(b, meta, ROLLOUTS);
  if (rollouts === null || b[rollouts[0]] !== 0x5b) return null;
  const list = parseUtf8Json(b, rollouts[0], rollouts[1]) as unknown[];
  return list.map((x) => {
    const answer = x && typeof x === 'object' ? (x as { answer?: unknown }).answer : undefined;
    return typeof answer === 'string' ? answer : null;
  });
}

/** The RolloutProvider's `row_key` in its metadata (a string), or null. */
function scanRowKey(b: Buffer, meta: Span | null): string | null {
  const k = memberSpan(b, meta, ROW_KEY_MEMBER);
  return k === null || b[k[0]] !== 0x22 ? null : stringText(b, k[0], k[1]);
}

/** The number at [i, j), or null when it is not a finite number. */
function readNumber(b: Buffer, i: number, j: number): number | null {
  const n = b[i] === 0x2d || (b[i]! >= 0x30 && b[i]! <= 0x39) ? Number(b.toString('latin1', i, j)) : NaN;
  return Number.isFinite(n) ? n : null;
}

const isIndex = (n: number | null): n is number => n !== null && Number.isInteger(n) && n >= 0;
