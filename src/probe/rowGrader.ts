import { parseWith } from '../core/contracts/validate.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { type Grader, GraderSchema } from '../core/grading/graders.js';
import { InputError } from '../io/inputError.js';
import { type RolloutCheck, rolloutChecker } from '../promptfoo/rolloutGrader.js';

/** Grades one text the way the row's gradeRollouts assertion does. */
export type TextGrader = (text: string) => Promise<boolean>;

/** gradeRollouts' default grader (GradeRolloutsConfigSchema). */
const DEFAULT_GRADER: Grader = { type: 'equals', var: 'answer', caseSensitive: false };

/** Whether an assertion is the plugin's gradeRollouts (as `package:` or as a `file://…:gradeRollouts`). */
export function isGradeRollouts(a: unknown): a is { type: string; value: string; config?: unknown } {
  if (typeof a !== 'object' || a === null) return false;
  const { type, value } = a as { type?: unknown; value?: unknown };
  return type === 'javascript' && typeof value === 'string' && /(^package:promptfoo-recoverability:|:)gradeRollouts$/.test(value);
}

/** The grader config of the row's gradeRollouts assertion, or null when the row has none. */
export function graderOf(assert: readonly unknown[], where: string): Grader | null {
  const a = assert.find(isGradeRollouts);
  if (!a) return null;
  const config = (a.config ?? {}) as { grader?: unknown };
  if (config.grader === undefined) return DEFAULT_GRADER;
  try {
    return parseWith(GraderSchema, config.grader, `${where}: the gradeRollouts grader`);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

/**
 * Builds per-row graders the way gradeRollouts grades: built-in graders on the text and its
 * extracted answer against the test's vars; `function` graders loaded once per file, relative to
 * the promptfoo config's directory (the row's `base_path`, relative to the working directory).
 * A function grader that throws or returns something else than a boolean or {pass} fails the
 * attempt, as in the assertion.
 */
export class RowGraders {
  /** The row's grader (the assertion's own checker, so both grade alike); a function grader that cannot be loaded is an InputError. */
  async grader(grader: Grader, vars: Record<string, unknown>, basePath: string | null): Promise<TextGrader> {
    let check: RolloutCheck;
    try {
      check = await rolloutChecker(grader, basePath ?? '.');
    } catch (err) {
      const ref = grader.type === 'function' ? grader.value : grader.type;
      throw new InputError(`grader ${ref}: cannot load it (${(err as Error).message}); run the probe from the directory promptfoo ran in`);
    }
    return async (text) => (await check({ text, answer: extractAnswer(text), index: -1 }, vars)).pass;
  }
}
