import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseWith } from '../core/contracts/validate.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { type BuiltinGrader, type Grader, gradeRollout, GraderSchema } from '../core/grading/graders.js';
import { InputError } from '../io/inputError.js';

/** Grades one text the way the row's gradeRollouts assertion does. */
export type TextGrader = (text: string) => Promise<boolean>;

/** gradeRollouts' default grader (GradeRolloutsConfigSchema). */
const DEFAULT_GRADER: Grader = { type: 'equals', var: 'answer', caseSensitive: false };

type Check = (text: string, info: { answer: string | null; vars: Record<string, unknown>; index: number }) => unknown;

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
  private readonly functions = new Map<string, Promise<Check>>();

  /** The row's grader; a function grader's file is loaded here (an InputError when it cannot be). */
  async grader(grader: Grader, vars: Record<string, unknown>, basePath: string | null): Promise<TextGrader> {
    if (grader.type !== 'function') {
      const builtin = grader as BuiltinGrader;
      return async (text) => gradeRollout({ text, answer: extractAnswer(text) }, builtin, vars).pass;
    }
    const fn = await this.load(grader.value, basePath ?? '.');
    return async (text) => {
      try {
        const out = await fn(text, { answer: extractAnswer(text), vars, index: -1 });
        if (typeof out === 'boolean') return out;
        if (out && typeof out === 'object' && typeof (out as { pass?: unknown }).pass === 'boolean') return (out as { pass: boolean }).pass;
        return false;
      } catch {
        return false;
      }
    };
  }

  private load(ref: string, base: string): Promise<Check> {
    const m = /^file:\/\/(.+):([A-Za-z_$][\w$]*)$/.exec(ref)!;
    const file = isAbsolute(m[1]!) ? m[1]! : resolve(base, m[1]!);
    const key = `${file}:${m[2]}`;
    let p = this.functions.get(key);
    if (!p) {
      p = import(pathToFileURL(file).href).then(
        (mod: Record<string, unknown>) => {
          const fn = mod[m[2]!];
          if (typeof fn !== 'function') throw new InputError(`grader ${ref}: ${file} has no exported function "${m[2]}"`);
          return fn as Check;
        },
        (err: unknown) => {
          throw new InputError(`grader ${ref}: cannot load ${file} (${(err as Error).message}); run the probe from the directory promptfoo ran in`);
        },
      );
      this.functions.set(key, p);
    }
    return p;
  }
}
