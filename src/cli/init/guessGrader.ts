/** One promptfoo assertion as written in the config (only what the guess reads). */
export interface AssertionSketch {
  type?: unknown;
  value?: unknown;
}

/** The gradeRollouts grader the config should get, and why, in one line for the user. */
export interface GraderGuess {
  grader: { type: 'numeric' | 'equals' | 'contains' | 'regex'; var: string } | null;
  reason: string;
}

/** Test vars that usually hold the expected answer, in order of preference. */
export const ANSWER_VAR_NAMES = ['answer', 'expected', 'expected_answer', 'expected_output', 'target', 'solution', 'ground_truth', 'label', 'result'];

const TEMPLATE_VAR = /\{\{\s*([A-Za-z_$][\w$]*)\s*\}\}/g;

/**
 * Guesses the per-rollout grader from the config's assertions and its tests' vars:
 * 1. the var an assertion's value refers to (`contains: 'Answer: {{answer}}'` → `answer`), else a
 *    var with a usual name (answer, expected, target, …) present in every test;
 * 2. `numeric` when that var is a number in every test, `contains`/`regex` when the assertion is
 *    exactly `contains: '{{var}}'` / `regex: '{{var}}'`, else `equals` (both compare the rollout's
 *    final answer: the text after its last "Answer:", or its last number).
 * Returns a null grader with the reason when nothing fits.
 *
 * @example guessGrader([{type: 'contains', value: 'Answer: {{answer}}'}], [{answer: 12}]).grader // {type: 'numeric', var: 'answer'}
 */
export function guessGrader(asserts: readonly AssertionSketch[], rows: readonly Record<string, unknown>[]): GraderGuess {
  const referenced = new Map<string, AssertionSketch>();
  for (const a of asserts) {
    if (typeof a.value !== 'string' || typeof a.type !== 'string' || a.type.startsWith('not-')) continue;
    for (const m of a.value.matchAll(TEMPLATE_VAR)) if (m[1] !== 'env' && !referenced.has(m[1]!)) referenced.set(m[1]!, a);
  }
  const inEveryRow = (name: string) => rows.length > 0 && rows.every((r) => r[name] !== undefined && r[name] !== null && String(r[name]).trim() !== '');
  let name: string | undefined;
  let source: string;
  const fromAssert = [...referenced.keys()].find(inEveryRow) ?? (rows.length === 0 ? [...referenced.keys()][0] : undefined);
  if (fromAssert !== undefined) {
    name = fromAssert;
    const a = referenced.get(name)!;
    source = `your \`${String(a.type)}\` assertion ${JSON.stringify(a.value)} reads the var "${name}"`;
  } else {
    name = ANSWER_VAR_NAMES.find(inEveryRow);
    source = `every test has a var "${name}"`;
  }
  if (name === undefined) {
    const seen = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return {
      grader: null,
      reason: `no assertion refers to a test var and no var is named like an answer (${ANSWER_VAR_NAMES.slice(0, 4).join(', ')}, …)${seen.length ? `; the tests have ${seen.map((s) => `"${s}"`).join(', ')}` : ''}`,
    };
  }
  const values = rows.map((r) => r[name!]);
  const numeric = values.length > 0 && values.every((v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))));
  const a = referenced.get(name);
  const exact = typeof a?.value === 'string' && a.value.replace(/\s/g, '') === `{{${name}}}`;
  const counted = rows.length > 0 ? `its ${rows.length} value${rows.length === 1 ? '' : 's'}` : 'its values (tests not readable here)';
  if (numeric) return { grader: { type: 'numeric', var: name }, reason: `${source}, and ${counted} are all numbers: the rollout's final answer is compared as a number` };
  if (exact && (a!.type === 'contains' || a!.type === 'icontains')) return { grader: { type: 'contains', var: name }, reason: `${source} as a whole: each rollout's text must contain it` };
  if (exact && a!.type === 'regex') return { grader: { type: 'regex', var: name }, reason: `${source} as a pattern: each rollout's text must match it` };
  return { grader: { type: 'equals', var: name }, reason: `${source}; ${counted} are not all numbers: the rollout's final answer must equal it (case-insensitive)` };
}
