import { z } from 'zod';
import { normalizeAnswer } from '../blackbox/answerDistribution.js';

const expected = {
  /** The test var holding the expected value (default "answer"). */
  var: z.string().default('answer'),
  /** A literal expected value instead of a var. */
  value: z.union([z.string(), z.number()]).optional(),
};

/**
 * How one rollout is graded against the test. `equals` and `numeric` look at the extracted final
 * answer; `contains` and `regex` at the whole text. A `function` grader is resolved by the
 * promptfoo adapter (it loads a file) and is not handled here.
 */
export const GraderSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('equals'), ...expected, caseSensitive: z.boolean().default(false) }),
  z.object({ type: z.literal('contains'), ...expected, caseSensitive: z.boolean().default(false) }),
  z.object({ type: z.literal('regex'), pattern: z.string().optional(), var: z.string().optional(), flags: z.string().default('') }),
  z.object({ type: z.literal('numeric'), ...expected, tolerance: z.number().nonnegative().default(0) }),
  z.object({ type: z.literal('function'), value: z.string().regex(/^file:\/\/.+:[A-Za-z_$][\w$]*$/, 'a function grader is file://path.js:exportName') }),
]);
export type Grader = z.output<typeof GraderSchema>;
export type BuiltinGrader = Exclude<Grader, { type: 'function' }>;

export interface GradeOutcome {
  pass: boolean;
  reason: string;
}

/** Grades one rollout (its text and extracted answer) with a built-in grader. Never throws. */
export function gradeRollout(rollout: { text: string; answer: string | null }, grader: BuiltinGrader, vars: Record<string, unknown>): GradeOutcome {
  const want = expectedOf(grader, vars);
  if (want === undefined) {
    const name = 'var' in grader ? grader.var : 'pattern';
    return { pass: false, reason: `no expected value: set the test var "${name}" or the grader's value` };
  }
  switch (grader.type) {
    case 'equals': {
      const got = grader.caseSensitive ? (rollout.answer ?? '').trim() : normalizeAnswer(rollout.answer);
      const exp = grader.caseSensitive ? String(want).trim() : normalizeAnswer(String(want));
      return { pass: got === exp, reason: `answer ${JSON.stringify(rollout.answer)} ${got === exp ? '=' : '≠'} ${JSON.stringify(String(want))}` };
    }
    case 'contains': {
      const hay = grader.caseSensitive ? rollout.text : rollout.text.toLowerCase();
      const needle = grader.caseSensitive ? String(want) : String(want).toLowerCase();
      const pass = hay.includes(needle);
      return { pass, reason: `text ${pass ? 'contains' : 'lacks'} ${JSON.stringify(String(want))}` };
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(String(want), grader.flags);
      } catch (err) {
        return { pass: false, reason: `invalid regex ${JSON.stringify(String(want))}: ${(err as Error).message}` };
      }
      const pass = re.test(rollout.text);
      return { pass, reason: `text ${pass ? 'matches' : 'does not match'} /${String(want)}/${grader.flags}` };
    }
    case 'numeric': {
      const target = Number(want);
      if (!Number.isFinite(target)) return { pass: false, reason: `expected value ${JSON.stringify(want)} is not a number` };
      const got = Number(normalizeAnswer(rollout.answer));
      if (rollout.answer === null || !Number.isFinite(got)) return { pass: false, reason: `answer ${JSON.stringify(rollout.answer)} is not a number` };
      const pass = Math.abs(got - target) <= grader.tolerance + 1e-12;
      const tol = grader.tolerance > 0 ? ` ± ${grader.tolerance}` : '';
      return { pass, reason: `answer ${got} ${pass ? '=' : '≠'} ${target}${tol}` };
    }
  }
}

function expectedOf(grader: BuiltinGrader, vars: Record<string, unknown>): unknown {
  if (grader.type === 'regex') return grader.pattern ?? (grader.var ? vars[grader.var] : undefined);
  return grader.value ?? vars[grader.var];
}
