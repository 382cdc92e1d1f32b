import { ROW_KEY } from '../promptfoo/rowRecoverability.js';
import type { RowParts } from '../report/reportInputs.js';
import { providerName, SAMPLE_CHARS } from '../report/reportInputs.js';
import { findKey, keyAt, objectMembers, readString, readValue, skipString, skipValue, stringText } from './jsonScan.js';

/**
 * The report's parts of one promptfoo result row, read from its JSON text (compact JSONL or
 * pretty JSON) without parsing the rollouts: the row's members are listed (objectMembers, in
 * WebAssembly over a read window), the verdict is found by its key inside `gradingResult`, and
 * only the members the report uses are decoded (the response's `output` the only part of the
 * response read). Any key order is read; a member named twice counts as the last one, as
 * JSON.parse takes it. The result is null when the row is not what this reads (not a JSON object
 * ending at `e`, no verdict in its `gradingResult`, a member of another type than promptfoo
 * writes): the caller then parses the whole row, which decides (slower, same answer). `lean`
 * leaves out what only the report shows (the provider and the output).
 */
export function scanRowParts(b: Buffer, s: number, e: number, lean = false): RowParts | null {
  if (b[s] !== 0x7b) return null;
  const row = objectMembers(b, s, e);
  if (row === null || row.at[0] !== e) return null;
  let grading = -1;
  let promptIdx = -1;
  let provider = -1;
  let response = -1;
  let success = -1;
  let testCase = -1;
  let testIdx = -1;
  const { count, at } = row;
  for (let k = 4; k < 4 + 4 * count; k += 4) {
    switch (keyAt(b, at[k]!, at[k + 1]!)) {
      case 'gradingResult':
        grading = k;
        break;
      case 'promptIdx':
        promptIdx = k;
        break;
      case 'provider':
        provider = k;
        break;
      case 'response':
        response = k;
        break;
      case 'success':
        success = k;
        break;
      case 'testCase':
        testCase = k;
        break;
      case 'testIdx':
        testIdx = k;
        break;
    }
  }
  if (grading < 0 || promptIdx < 0 || response < 0 || testCase < 0 || testIdx < 0) return null;
  // The table is overwritten by the next listing: the spans first.
  const span = (k: number): [number, number] => [at[k + 2]!, at[k + 3]!];
  const [gradingAt, gradingEnd] = span(grading);
  const [responseAt, responseEnd] = span(response);
  const [testCaseAt, testCaseEnd] = span(testCase);
  const promptIdxValue = readNumber(b, ...span(promptIdx));
  const testIdxValue = readNumber(b, ...span(testIdx));
  const successSpan = success < 0 ? null : span(success);
  const providerSpan = provider < 0 || lean ? null : span(provider);
  // Indices that are not whole numbers ≥ 0: the whole-row reading decides what they become.
  if (!isIndex(promptIdxValue) || !isIndex(testIdxValue)) return null;
  if (b[responseAt] !== 0x7b || b[testCaseAt] !== 0x7b || b[gradingAt] !== 0x7b) return null;

  const v = findKey(b, ROW_KEY, gradingAt, gradingEnd);
  if (!v || b[v.valueAt] !== 0x7b) return null;
  const verdict = JSON.parse(b.toString('utf8', v.valueAt, skipValue(b, v.valueAt, gradingEnd))) as unknown;

  let successValue: boolean | null = null;
  if (successSpan) {
    const value = readValue(b, successSpan[0], e).value; // to the row's end: a scalar needs the byte after it
    successValue = typeof value === 'boolean' ? value : null;
  }
  const providerValue = providerSpan ? providerName(readValue(b, providerSpan[0], e).value) : '';
  let output: string | null = null;
  if (!lean) {
    const r = objectMembers(b, responseAt, responseEnd);
    if (r === null) return null;
    for (let k = 4; k < 4 + 4 * r.count; k += 4) {
      if (keyAt(b, r.at[k]!, r.at[k + 1]!) !== 'output') continue;
      // A string output is sampled; another type is left to the whole-row reading.
      if (b[r.at[k + 2]!] !== 0x22) return null;
      output = stringText(b, r.at[k + 2]!, r.at[k + 3]!).slice(0, SAMPLE_CHARS);
    }
  }
  const tc = readTestCase(b, testCaseAt, testCaseEnd);
  if (tc === null) return null;
  const { testCase: testCaseValue, assertText } = tc;
  const vars = testCaseValue.vars && typeof testCaseValue.vars === 'object' ? testCaseValue.vars : null;
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
    answers: () => scanAnswers(b, responseAt, responseEnd),
    rowKey: () => scanRowKey(b, responseAt, responseEnd),
  };
}

/**
 * A test case's members, parsed, except its assertions, which are kept as raw JSON text: every
 * row of a suite usually shares them, and their canonical form is cached by that text. Null when
 * the members cannot be listed.
 */
function readTestCase(b: Buffer, at: number, e: number): { testCase: NonNullable<RowParts['testCase']>; assertText: string | undefined } | null {
  const members = objectMembers(b, at, e);
  if (members === null) return null;
  const testCase: Record<string, unknown> = {};
  let assertText: string | undefined;
  const found: [string, number, number][] = [];
  for (let k = 4; k < 4 + 4 * members.count; k += 4) {
    const key = keyAt(b, members.at[k]!, members.at[k + 1]!);
    if (key === 'assert' || key === 'vars' || key === 'description') found.push([key, members.at[k + 2]!, members.at[k + 3]!]);
  }
  for (const [key, i, j] of found) {
    if (key === 'assert') assertText = assertsText(b, i, j);
    else if (key === 'vars') testCase.vars = JSON.parse(b.toString('utf8', i, j));
    else testCase.description = readValue(b, i, e).value;
  }
  return { testCase, assertText };
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

/**
 * Every rollout's `answer` in the response's rollout metadata, in order: the values of the
 * `"answer"` keys after `"rollouts"` (a rollout has exactly one; nothing else in the provider's
 * metadata has that key). Null when there is no rollout list.
 */
function scanAnswers(b: Buffer, from: number, to: number): (string | null)[] | null {
  const rollouts = findKey(b, 'rollouts', from, to);
  if (!rollouts) return null;
  const answers: (string | null)[] = [];
  let i = rollouts.valueAt;
  for (;;) {
    const a = findKey(b, 'answer', i, to);
    if (!a) return answers;
    if (b[a.valueAt] === 0x22) {
      const end = skipString(b, a.valueAt, to);
      answers.push(stringText(b, a.valueAt, end));
      i = end;
    } else {
      const r = readValue(b, a.valueAt, to);
      answers.push(typeof r.value === 'string' ? r.value : null);
      i = r.next;
    }
  }
}

/** The RolloutProvider's `row_key` in the response's metadata (a string), or null. */
function scanRowKey(b: Buffer, from: number, to: number): string | null {
  const k = findKey(b, 'row_key', from, to);
  if (!k || b[k.valueAt] !== 0x22) return null;
  return readString(b, k.valueAt, to);
}

/** The number at [i, j), or null when it is not a finite number. */
function readNumber(b: Buffer, i: number, j: number): number | null {
  const n = b[i] === 0x2d || (b[i]! >= 0x30 && b[i]! <= 0x39) ? Number(b.toString('latin1', i, j)) : NaN;
  return Number.isFinite(n) ? n : null;
}

const isIndex = (n: number | null): n is number => n !== null && Number.isInteger(n) && n >= 0;
