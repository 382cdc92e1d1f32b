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
 * leaves out what only the report shows (the provider and the output; `answers` and `rowKey`
 * give null): read it with reportRowFromParts' `lean`, which asks for neither.
 */
export function scanRowParts(b: Buffer, s: number, e: number, lean = false): RowParts | null {
  const row = ROW_MEMBERS;
  if (!row.read(b, s, e) || row.end !== e) return null;
  const f = row.found;
  const [gradingAt, gradingEnd, promptIdxAt, promptIdxEnd, providerAt, , responseAt, responseEnd, successAt, , testCaseAt, testCaseEnd, testIdxAt, testIdxEnd, rowVarsAt, rowVarsEnd, rowMetadataAt, rowMetadataEnd] = f as unknown as number[];
  if (gradingAt! < 0 || promptIdxAt! < 0 || responseAt! < 0 || testCaseAt! < 0 || testIdxAt! < 0) return null;
  const promptIdxValue = readNumber(b, promptIdxAt!, promptIdxEnd!);
  const testIdxValue = readNumber(b, testIdxAt!, testIdxEnd!);
  // Indices that are not whole numbers ≥ 0: the whole-row reading decides what they become.
  if (!isIndex(promptIdxValue) || !isIndex(testIdxValue)) return null;
  if (b[responseAt!] !== 0x7b || b[testCaseAt!] !== 0x7b || b[gradingAt!] !== 0x7b) return null;

  const v = verdictSpan(b, gradingAt!, gradingEnd!);
  if (v === null || b[v[0]] !== 0x7b) return null;
  const verdict = parseUtf8Json(b, v[0], v[1]) as unknown;

  let successValue: boolean | null = null;
  if (successAt! >= 0) {
    const value = readValue(b, successAt!, e).value; // to the row's end: a scalar needs the byte after it
    successValue = typeof value === 'boolean' ? value : null;
  }
  const providerValue = !lean && providerAt! >= 0 ? providerName(readValue(b, providerAt!, e).value) : '';
  const tc = readTestCase(b, testCaseAt!, testCaseEnd!);
  if (tc === null) return null;
  const { testCase: testCaseValue, assertText } = tc;
  // The row's own vars, as the whole-row reading takes them (its test's vars come first where it uses both).
  const rowVarsValue = rowVarsAt! >= 0 && (testCaseValue.vars === undefined || testCaseValue.vars === null) ? (parseUtf8Json(b, rowVarsAt!, rowVarsEnd!) as unknown) : null;
  const vars = testCaseValue.vars && typeof testCaseValue.vars === 'object' ? testCaseValue.vars : rowVarsValue && typeof rowVarsValue === 'object' ? (rowVarsValue as Record<string, unknown>) : null;
  const parts: RowParts = {
    testIdx: testIdxValue,
    promptIdx: promptIdxValue,
    testCase: testCaseValue,
    vars,
    provider: providerValue,
    success: successValue,
    output: null,
    verdict,
    assertText,
    answers: NOT_READ,
    rowKey: NOT_READ,
  };
  // The lean reading leaves the response alone (what only the report shows).
  if (lean) return parts;
  const response = RESPONSE_MEMBERS;
  if (!response.read(b, responseAt!, responseEnd!)) return null;
  const [outputAt, outputEnd, responseMetadataAt, responseMetadataEnd] = response.found as unknown as number[];
  if (outputAt! >= 0) {
    // A string output is sampled; another type is left to the whole-row reading.
    if (b[outputAt!] !== 0x22) return null;
    parts.output = stringText(b, outputAt!, outputEnd!).slice(0, SAMPLE_CHARS);
  }
  /** The rollout metadata's span, looked up once (by the first of answers and rowKey to ask). */
  let rollout: Span | null | undefined;
  const rolloutSpan = () =>
    rollout !== undefined
      ? rollout
      : (rollout = rolloutMetadata(b, responseMetadataAt! >= 0 ? [responseMetadataAt!, responseMetadataEnd!] : null, rowMetadataAt! >= 0 ? [rowMetadataAt!, rowMetadataEnd!] : null));
  parts.answers = () => scanAnswers(b, rolloutSpan());
  parts.rowKey = () => scanRowKey(b, rolloutSpan());
  return parts;
}

/** What the lean reading gives for the answers and the row key, which it does not read. */
const NOT_READ = (): null => null;

/**
 * A test case's members, parsed, except its assertions, which are kept as raw JSON text: every
 * row of a suite usually shares them, and their canonical form is cached by that text. Null when
 * the members cannot be listed.
 */
function readTestCase(b: Buffer, at: number, e: number): { testCase: NonNullable<RowParts['testCase']>; assertText: string | undefined } | null {
  const members = TEST_CASE_MEMBERS;
  if (!members.read(b, at, e)) return null;
  const [assertsAt, assertsEnd, varsAt, varsEnd, descriptionAt] = members.found as unknown as number[];
  const testCase: Record<string, unknown> = {};
  if (varsAt! >= 0) testCase.vars = parseUtf8Json(b, varsAt!, varsEnd!);
  if (descriptionAt! >= 0) testCase.description = readValue(b, descriptionAt!, e).value; // to the test's end: a scalar needs the byte after it
  return { testCase, assertText: assertsAt! >= 0 ? assertsText(b, assertsAt!, assertsEnd!) : undefined };
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

/**
 * An object's members looked up by name: `read` lists them (objectMembers) and leaves, for each
 * of the names in turn, the span of the last member with that name (as JSON.parse keeps it) in
 * `found`: its value's first byte at found[2k] and the offset after it at found[2k + 1], −1 and −1
 * when there is none. Valid until its next `read` (each lookup has one of its own, reused).
 */
class NamedMembers {
  readonly found: Int32Array;
  /** Just after the object's closing brace (after a `read` that returned true). */
  end = -1;
  private readonly keys: KeyNames;

  constructor(names: readonly string[]) {
    this.keys = new KeyNames(names);
    this.found = new Int32Array(2 * names.length);
  }

  /** Lists the object at `b[at]` (up to `end`); false when `b[at]` starts no object or its members cannot be listed. */
  read(b: Buffer, at: number, end: number): boolean {
    if (b[at] !== 0x7b) return false;
    const members = objectMembers(b, at, end);
    if (members === null) return false;
    const found = this.found;
    found.fill(-1);
    const table = members.at;
    for (let k = 4; k < 4 + 4 * members.count; k += 4) {
      const which = this.keys.indexAt(b, table[k]!, table[k + 1]!);
      if (which >= 0) {
        found[2 * which] = table[k + 2]!;
        found[2 * which + 1] = table[k + 3]!;
      }
    }
    this.end = table[0]!;
    return true;
  }

  /** The span of name k's member after a `read`, or null. */
  span(k: number): Span | null {
    return this.found[2 * k]! < 0 ? null : [this.found[2 * k]!, this.found[2 * k + 1]!];
  }
}

/** The members each object is read for (`found` holds them in this order). */
const ROW_MEMBERS = new NamedMembers(['gradingResult', 'promptIdx', 'provider', 'response', 'success', 'testCase', 'testIdx', 'vars', 'metadata']);
const RESPONSE_MEMBERS = new NamedMembers(['output', 'metadata']);
const TEST_CASE_MEMBERS = new NamedMembers(['assert', 'vars', 'description']);
const GRADING_MEMBERS = new NamedMembers(['metadata', 'componentResults']);
const COMPONENT_MEMBERS = new NamedMembers(['metadata']);
const VERDICT = new NamedMembers([ROW_KEY]);
const ROLLOUT_METADATA = new NamedMembers([METADATA_KEY]);
const ROLLOUTS = new NamedMembers(['rollouts']);
const ROW_KEY_MEMBER = new NamedMembers(['row_key']);

/** The value of the object at `span`'s last member with the lookup's (one) name, or null when `span` is no object or has none. */
function memberSpan(b: Buffer, span: Span | null, name: NamedMembers): Span | null {
  return span !== null && name.read(b, span[0], span[1]) ? name.span(0) : null;
}

const isNullAt = (b: Buffer, s: Span | null) => s === null || (s[1] - s[0] === 4 && b.toString('latin1', s[0], s[1]) === 'null');

/**
 * Where the verdict is, as rawVerdict finds it: the grading result's `metadata[ROW_KEY]`, else
 * each component result's in turn, the first that is not null. Null when there is none, or when
 * `componentResults` is not a list as promptfoo writes it (the whole-row reading decides).
 */
function verdictSpan(b: Buffer, gradingAt: number, gradingEnd: number): Span | null {
  if (!GRADING_MEMBERS.read(b, gradingAt, gradingEnd)) return null;
  const metadata = GRADING_MEMBERS.span(0);
  const components = GRADING_MEMBERS.span(1);
  const own = memberSpan(b, metadata, VERDICT);
  if (!isNullAt(b, own)) return own;
  if (!components || b[components[0]] !== 0x5b) return null;
  const [, listEnd] = components;
  for (let i = skipWs(b, components[0] + 1, listEnd); b[i] !== 0x5d; ) {
    // A component that is no object has no metadata (as `c?.metadata` reads it).
    let next: number;
    if (b[i] === 0x7b) {
      if (!COMPONENT_MEMBERS.read(b, i, listEnd)) return null;
      next = COMPONENT_MEMBERS.end;
      const v = memberSpan(b, COMPONENT_MEMBERS.span(0), VERDICT);
      if (!isNullAt(b, v)) return v;
    } else next = skipValue(b, i, listEnd);
    i = skipWs(b, next, listEnd);
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
  // Up to 15 digits without a sign, fraction or exponent (an index): read here, exactly (under 2^53).
  if (j - i <= 15 && j > i) {
    let n = 0;
    let k = i;
    for (; k < j; k++) {
      const d = b[k]! - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (k === j && (b[i] !== 0x30 || j - i === 1)) return n;
  }
  const n = b[i] === 0x2d || (b[i]! >= 0x30 && b[i]! <= 0x39) ? Number(b.toString('latin1', i, j)) : NaN;
  return Number.isFinite(n) ? n : null;
}

const isIndex = (n: number | null): n is number => n !== null && Number.isInteger(n) && n >= 0;
