import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuiltinGrader, gradeRollout, type GradeOutcome, type Grader } from '../core/grading/graders.js';

/** A rollout as a grader sees it. */
export interface GradableRollout {
  text: string;
  answer: string | null;
  index: number;
}

/** Grades one rollout against the test's vars. Never throws: a grader that fails is a failed rollout with the reason. */
export type RolloutCheck = (rollout: GradableRollout, vars: Record<string, unknown>) => Promise<GradeOutcome>;

type FunctionGrader = (text: string, info: { answer: string | null; vars: Record<string, unknown>; index: number }) => unknown;
const functionGraders = new Map<string, Promise<FunctionGrader>>();

/**
 * The per-rollout check for a grader config (shared by the gradeRollouts assertion and the
 * provider's repairs, so both grade alike). Built-in graders are pure (src/core/grading);
 * a `function` grader `file://path.js:name` is imported once per file and export, with the path
 * relative to `base` (the promptfoo config's directory), and may return a boolean or
 * `{pass, reason}`. A missing file or export rejects (a config error, said once per row).
 */
export async function rolloutChecker(grader: Grader, base: string): Promise<RolloutCheck> {
  if (grader.type !== 'function') {
    return async (r, vars) => gradeRollout(r, grader as BuiltinGrader, vars);
  }
  const fn = await loadFunction(grader.value, base);
  return async (r, vars): Promise<GradeOutcome> => {
    try {
      const out = await fn(r.text, { answer: r.answer, vars, index: r.index });
      if (typeof out === 'boolean') return { pass: out, reason: `function grader returned ${out}` };
      if (out && typeof out === 'object' && typeof (out as { pass?: unknown }).pass === 'boolean') {
        const o = out as { pass: boolean; reason?: string };
        return { pass: o.pass, reason: o.reason ?? `function grader: ${o.pass}` };
      }
      return { pass: false, reason: `function grader returned ${JSON.stringify(out)}; return a boolean or {pass, reason}` };
    } catch (err) {
      return { pass: false, reason: `function grader threw: ${(err as Error).message}` };
    }
  };
}

function loadFunction(ref: string, base: string): Promise<FunctionGrader> {
  const m = /^file:\/\/(.+):([A-Za-z_$][\w$]*)$/.exec(ref)!;
  const file = resolve(base, m[1]!);
  const key = `${file}:${m[2]}`;
  let p = functionGraders.get(key);
  if (!p) {
    p = import(pathToFileURL(file).href).then((mod: Record<string, unknown>) => {
      const fn = mod[m[2]!];
      if (typeof fn !== 'function') throw new Error(`grader ${ref}: ${m[1]} has no exported function "${m[2]}"`);
      return fn as FunctionGrader;
    });
    p.catch(() => functionGraders.delete(key)); // a fixed file is read again
    functionGraders.set(key, p);
  }
  return p;
}
