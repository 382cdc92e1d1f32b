import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ReportRowInput } from '../core/analysis/buildEvalReport.js';
import { reportInputsFromResults } from '../report/reportInputs.js';
import { InputError } from './inputError.js';

export interface EvalOutput {
  path: string;
  evalId: string | null;
  inputs: ReportRowInput[];
  /** The reference population the rows were routed on, resolved, if any. */
  reference: string | null;
}

/**
 * Reads a promptfoo output written with the plugin (`promptfoo eval -o out.json`). Errors are
 * InputErrors: unreadable, not JSON, not a promptfoo output, or no row graded by gradeRollouts.
 */
export async function loadEvalOutput(path: string): Promise<EvalOutput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: { evalId?: unknown; results?: { results?: unknown } };
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path} is not JSON (${(err as Error).message}); pass the file written by promptfoo eval -o out.json`);
  }
  const results = data?.results?.results;
  if (!Array.isArray(results)) {
    throw new InputError(`${path} is not a promptfoo output: it has no results.results list (write one with promptfoo eval -o out.json)`);
  }
  const { inputs, reference } = reportInputsFromResults(results);
  if (inputs.length === 0) {
    throw new InputError(
      `${path} has no recoverability columns: none of its ${results.length} rows was graded by gradeRollouts (run the eval with the RolloutProvider and the gradeRollouts assertion)`,
    );
  }
  return {
    path,
    evalId: typeof data.evalId === 'string' ? data.evalId : null,
    inputs,
    reference: reference === null ? null : isAbsolute(reference) ? reference : resolve(dirname(path), reference),
  };
}
