import { ROW_KEY } from '../promptfoo/rowRecoverability.js';
import type { RowParts } from '../report/reportInputs.js';
import { providerName, SAMPLE_CHARS } from '../report/reportInputs.js';
import { findKey, findLastKey, followsObjectMember, nextMember, precededByStringMember, readKey, readString, readValue, skipString, skipValue, skipWs, stringText } from './jsonScan.js';

/**
 * The report's parts of one promptfoo result row, read from its JSON text (compact JSONL or
 * pretty JSON) without parsing the rollouts: the verdict is found by its key, then the members
 * `promptIdx … testIdx` are read in promptfoo 0.121's order, jumping over the response (whose
 * first member, `output`, is read) to the `score` key that follows it. Every jump is verified by
 * reading the members after it in order; when anything differs from that layout the result is
 * null and the caller parses the whole row instead (slower, same answer). Returns 'no-verdict'
 * when the row carries no gradeRollouts verdict. `lean` leaves out what only the report shows
 * (the provider and the output).
 */
export function scanRowParts(b: Buffer, s: number, e: number, lean = false): RowParts | 'no-verdict' | null {
  const v = findKey(b, ROW_KEY, s, e);
  if (!v) return 'no-verdict';
  if (b[v.valueAt] !== 0x7b) return null;
  const verdictEnd = skipValue(b, v.valueAt, e);
  const verdict = JSON.parse(b.toString('utf8', v.valueAt, verdictEnd)) as unknown;

  const p = findKey(b, 'promptIdx', verdictEnd, e);
  if (!p || !precededByStringMember(b, p.at, 'promptId', s)) return null;
  // The row's `score` follows the response, whose rollouts make up most of the row: it is looked
  // for backwards from the row's end (past the test case only), then forwards.
  return readMembers(b, e, p.at, verdict, lean, true) ?? readMembers(b, e, p.at, verdict, lean, false);
}

/**
 * The members `promptIdx … testIdx` from `at`, jumping over the response to the `score` key found
 * backwards from the row's end or forwards from the response's output. The jump counts only when
 * the members after it, read in order, end exactly at the row's end (a `score` inside a value, a
 * var holding an object shaped like a row, say, does not). Null when the layout differs.
 */
function readMembers(b: Buffer, e: number, at: number, verdict: unknown, lean: boolean, backwards: boolean): RowParts | null {
  let promptIdx: number | null = null;
  let provider = '';
  let output: string | null = null;
  let responseAt = -1;
  let responseEnd = -1;
  let success: boolean | null = null;
  let testCase: RowParts['testCase'] = null;
  let assertText: string | undefined;
  let testIdx: number | null = null;
  let valueEnd = at;
  for (;;) {
    const member = readKey(b, at, e);
    if (!member) return null; // the row ended before testIdx: not the layout we know
    const { key, valueAt } = member;
    if (key === 'promptIdx') {
      ({ value: promptIdx, next: valueEnd } = readNumber(b, valueAt, e));
    } else if (key === 'provider') {
      if (lean) valueEnd = skipValue(b, valueAt, e);
      else {
        const r = readValue(b, valueAt, e);
        provider = providerName(r.value);
        valueEnd = r.next;
      }
    } else if (key === 'response') {
      if (b[valueAt] !== 0x7b) return null;
      responseAt = valueAt;
      const first = readKey(b, valueAt + 1, e);
      let from = valueAt + 1;
      if (!lean && first?.key === 'output' && b[first.valueAt] === 0x22) {
        const outEnd = skipString(b, first.valueAt, e);
        output = stringText(b, first.valueAt, outEnd).slice(0, SAMPLE_CHARS);
        from = outEnd;
      }
      const score = backwards ? findLastKey(b, 'score', from, e) : findKey(b, 'score', from, e);
      if (!score || (backwards && !followsObjectMember(b, score.at, from))) return null;
      responseEnd = score.at;
      at = score.at;
      continue;
    } else if (key === 'success') {
      const r = readValue(b, valueAt, e);
      success = typeof r.value === 'boolean' ? r.value : null;
      valueEnd = r.next;
    } else if (key === 'testCase') {
      if (b[valueAt] !== 0x7b) return null;
      const r = readTestCase(b, valueAt, e);
      testCase = r.testCase;
      assertText = r.assertText;
      valueEnd = r.next;
    } else if (key === 'testIdx') {
      ({ value: testIdx, next: valueEnd } = readNumber(b, valueAt, e));
    } else if (key === 'score' || key === 'promptId') {
      valueEnd = skipValue(b, valueAt, e);
    } else {
      return null; // tokenUsage, vars, metadata… before testIdx: another layout
    }
    if (testIdx !== null) break;
    const sep = nextMember(b, valueEnd, e);
    if (sep.next < 0) return null;
    at = sep.next;
  }
  // Indices that are not whole numbers ≥ 0: the whole-row reading decides what they become.
  if (!isIndex(promptIdx) || !isIndex(testIdx) || responseAt < 0 || testCase === null) return null;
  // The members after testIdx must close the row itself.
  let sep = nextMember(b, valueEnd, e);
  while (sep.next >= 0) {
    const m = readKey(b, sep.next, e);
    if (!m) return null;
    sep = nextMember(b, skipValue(b, m.valueAt, e), e);
  }
  if (sep.closeAt !== e - 1) return null;
  const vars = testCase.vars && typeof testCase.vars === 'object' ? testCase.vars : null;
  return {
    testIdx,
    promptIdx,
    testCase,
    vars,
    provider,
    success,
    output,
    verdict,
    ...(assertText !== undefined ? { assertText } : {}),
    answers: () => scanAnswers(b, responseAt, responseEnd),
    rowKey: () => scanRowKey(b, responseAt, responseEnd),
  };
}

/**
 * A test case's members, parsed, except its assertions, which are kept as raw JSON text: every
 * row of a suite usually shares them, and their canonical form is cached by that text.
 */
function readTestCase(b: Buffer, at: number, e: number): { testCase: NonNullable<RowParts['testCase']>; assertText: string | undefined; next: number } {
  const testCase: Record<string, unknown> = {};
  let assertText: string | undefined;
  let i = at + 1;
  for (;;) {
    const member = readKey(b, i, e);
    if (!member) return { testCase, assertText, next: skipWs(b, i, e) + 1 };
    const end = skipValue(b, member.valueAt, e);
    if (member.key === 'assert') assertText = assertsText(b, member.valueAt, end);
    else if (member.key === 'vars') testCase.vars = JSON.parse(b.toString('utf8', member.valueAt, end));
    else if (member.key === 'description') testCase.description = readValue(b, member.valueAt, end).value;
    const sep = nextMember(b, end, e);
    if (sep.next < 0) return { testCase, assertText, next: sep.closeAt + 1 };
    i = sep.next;
  }
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

function readNumber(b: Buffer, i: number, e: number): { value: number | null; next: number } {
  const next = skipValue(b, i, e);
  const n = Number(b.toString('latin1', i, next));
  return { value: Number.isFinite(n) ? n : null, next };
}

const isIndex = (n: number | null): n is number => n !== null && Number.isInteger(n) && n >= 0;
