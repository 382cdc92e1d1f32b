import { hash } from 'node:crypto';

/** The parts of a promptfoo test case that identify it. */
export interface TestCaseLike {
  vars?: Record<string, unknown> | undefined;
  assert?: unknown[] | undefined;
  description?: string | undefined;
}

/** JSON with object keys sorted at every level (undefined members dropped): equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  // The usual vars, every value a string, number, boolean or null: one JSON.stringify with the keys in order.
  if (keys.every((k) => isScalar(object[k]))) return scalarsJson(object, keys);
  let text = '';
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    text += `${text === '' ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `{${text}}`;
}

/**
 * JSON of an object of scalars with its members in the order of `keys` (sorted). A fresh object
 * with the members added in that order is written by JSON.stringify's fast path; one with a key
 * that may be an array index (written first, in numeric order, whatever the order of adding) or
 * `__proto__` (assigned, it sets no member), or an object with a `toJSON` (a Date in vars read
 * from YAML: written as its ISO string, as a copy would not be), is written with `keys` as the
 * property list.
 */
function scalarsJson(object: Record<string, unknown>, keys: readonly string[]): string {
  if (typeof object.toJSON === 'function') return JSON.stringify(object, keys as string[]);
  const ordered: Record<string, unknown> = {};
  for (const k of keys) {
    const c = k.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || k === '__proto__') return JSON.stringify(object, keys as string[]);
    ordered[k] = object[k];
  }
  return JSON.stringify(ordered);
}

const isScalar = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** gradeRollouts options that say how a test's failures are read, not what the test is. */
const READING_OPTIONS = ['policy', 'columns'] as const;

/**
 * An assertion without what does not make the test: the gradeRollouts `reference` (the z-scale
 * population; left out of any assertion's config, as before), and gradeRollouts' `policy` and
 * `columns` (how its failures are routed and shown: an eval with a learned policy tests the same
 * tests as the eval that was probed to learn it).
 */
function withoutReadingOptions(assertion: unknown): unknown {
  if (!assertion || typeof assertion !== 'object' || Array.isArray(assertion)) return assertion;
  const a = assertion as Record<string, unknown>;
  const config = a.config;
  if (!config || typeof config !== 'object' || Array.isArray(config)) return a;
  const isGradeRollouts = typeof a.value === 'string' && a.value.includes('gradeRollouts');
  const drop = ['reference', ...(isGradeRollouts ? READING_OPTIONS : [])].filter((k) => k in config);
  if (drop.length === 0) return a;
  const rest = Object.fromEntries(Object.entries(config as Record<string, unknown>).filter(([k]) => !drop.includes(k)));
  return { ...a, config: rest };
}

/**
 * The stable identity of a test across evals of one suite: `sha256:` + 20 hex digits of the
 * canonical JSON of its vars and its assertions (gradeRollouts' `reference`, `policy` and
 * `columns` left out: they say how failures are read, which a CI run or a learned policy may
 * change between evals of the same tests). It is also the probe's `problem_id`. Not its
 * description (promptfoo names CSV rows `Row #N`, which shift when a row is inserted), its index,
 * options or metadata. Tests with identical vars and assertions share a key; the gate matches
 * those in order and reports them.
 */
export function testKey(testCase: TestCaseLike | null | undefined, vars?: Record<string, unknown> | null, assertText?: string): string {
  const v = testCase?.vars ?? vars ?? {};
  const assert = assertText !== undefined ? canonicalAssertsText(assertText) : Array.isArray(testCase?.assert) ? canonicalAsserts(testCase!.assert) : '[]';
  // The same text as canonicalJson({ assert, vars }), built from its cached and fast parts.
  return `sha256:${hash('sha256', `{"assert":${assert},"vars":${canonicalJson(v)}}`, 'hex').slice(0, 20)}`;
}

/** Every row of a suite usually shares its assertions (defaultTest): their canonical text is cached by their raw text. */
const assertCache = new Map<string, string>();
function canonicalAsserts(assert: unknown[]): string {
  return canonicalAssertsText(JSON.stringify(assert), assert);
}

/** The canonical text of assertions given as JSON text (parsed only when not cached). */
function canonicalAssertsText(raw: string, parsed?: unknown): string {
  let canonical = assertCache.get(raw);
  if (canonical === undefined) {
    const list = parsed ?? (JSON.parse(raw) as unknown);
    canonical = canonicalJson(Array.isArray(list) ? list.map(withoutReadingOptions) : []);
    if (assertCache.size > 10_000) assertCache.clear();
    assertCache.set(raw, canonical);
  }
  return canonical;
}

/** promptfoo's own name for a CSV row: it carries no information and shifts when rows move. */
const NUMBERED_ROW = /^Row #\d+$/;

/**
 * A readable name for a test: its description when the user wrote one, otherwise its vars
 * (`question=…, answer=…`, shortened to `max` characters); `test #N` when it has neither.
 */
export function testLabel(description: unknown, vars: Record<string, unknown> | null | undefined, testIdx: number, max = 160): string {
  if (typeof description === 'string' && description.trim() !== '' && !NUMBERED_ROW.test(description.trim())) return shorten(description.trim(), max);
  const entries = Object.entries(vars ?? {});
  if (entries.length === 0) return typeof description === 'string' && description.trim() !== '' ? description.trim() : `test #${testIdx + 1}`;
  let text = '';
  for (const [k, v] of entries) {
    text += `${text ? ', ' : ''}${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    if (text.length > 4 * max) break;
  }
  return shorten(text, max);
}

function shorten(s: string, max: number): string {
  const cut = s.length > 4 * max ? s.slice(0, 4 * max) : s;
  const one = /[\t\n\r\f\v]| {2}/.test(cut) ? cut.replace(/\s+/g, ' ') : cut;
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
