import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { evalOutputSize } from '../io/evalOutputSize.js';
import { InputError } from '../io/inputError.js';

/** The largest `-o out.json` read whole (JSON.parse); larger evals are written as `-o out.jsonl`. */
export const MAX_JSON_BYTES = 512 * 1024 * 1024;

/** What the probe needs of one promptfoo result row; the rest (outputs, prompts, scores) is dropped. */
export interface EvalRow {
  /** 0-based position in the output (results order, or JSONL line order). */
  position: number;
  /** Where it was read, for messages: `out.json, results[3]` or `out.jsonl, line 4`. */
  where: string;
  testIdx: number | null;
  promptIdx: number | null;
  /** The test's description (promptfoo's `testCase.description`), if any. */
  description: string | null;
  vars: Record<string, unknown>;
  /** The test's assertions (defaultTest's merged in by promptfoo). */
  assert: unknown[];
  /** `response.metadata.recoverability`, as written by the RolloutProvider (unvalidated). */
  metadata: unknown;
  /** The gradeRollouts verdict (`recoverability_row` in a grading result's metadata), if any. */
  verdict: unknown;
  /** The provider's error, when the row is an ERROR row. */
  error: string | null;
}

export interface EvalRows {
  path: string;
  format: 'json' | 'jsonl';
  /** promptfoo's eval id (JSON outputs carry it; JSONL outputs do not). */
  evalId: string | null;
  rows: EvalRow[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first `recoverability_row` in a grading result or its component results (depth first). */
function findVerdict(grading: unknown, depth = 0): unknown {
  if (!isObject(grading) || depth > 8) return undefined;
  const meta = grading.metadata;
  if (isObject(meta) && meta.recoverability_row !== undefined) return meta.recoverability_row;
  const parts = grading.componentResults;
  if (Array.isArray(parts)) {
    for (const part of parts) {
      const found = findVerdict(part, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Keeps what the probe reads of one result row. */
export function toEvalRow(raw: unknown, position: number, where: string): EvalRow {
  if (!isObject(raw)) throw new InputError(`${where} is not a promptfoo result (expected an object with testCase, response and gradingResult)`);
  const test = isObject(raw.testCase) ? raw.testCase : {};
  const response = isObject(raw.response) ? raw.response : {};
  const meta = isObject(response.metadata) ? response.metadata.recoverability : undefined;
  const vars = isObject(test.vars) ? test.vars : isObject(raw.vars) ? raw.vars : {};
  const responseError = typeof response.error === 'string' && response.error !== '' ? response.error : null;
  return {
    position,
    where,
    testIdx: typeof raw.testIdx === 'number' ? raw.testIdx : null,
    promptIdx: typeof raw.promptIdx === 'number' ? raw.promptIdx : null,
    description: typeof test.description === 'string' ? test.description : null,
    vars,
    assert: Array.isArray(test.assert) ? test.assert : [],
    metadata: meta,
    verdict: findVerdict(raw.gradingResult),
    error: responseError ?? (meta === undefined && typeof raw.error === 'string' && raw.error !== '' ? raw.error : null),
  };
}

/**
 * Reads the rows of a promptfoo output: `-o out.json` (parsed whole, up to `maxJsonBytes`; a
 * larger one is refused with the advice to write `-o out.jsonl`) or `-o out.jsonl` (one result per
 * line, read line by line). Every failure is an InputError naming the file (and line) and the fix.
 */
export async function readEvalRows(path: string, options: { maxJsonBytes?: number } = {}): Promise<EvalRows> {
  const maxJsonBytes = options.maxJsonBytes ?? MAX_JSON_BYTES;
  const size = await evalOutputSize(path);
  if (size === 0) throw new InputError(`${path} is empty: pass the file written by promptfoo eval -o out.json (or -o out.jsonl)`);
  return path.toLowerCase().endsWith('.jsonl') ? readJsonl(path) : readJson(path, size, maxJsonBytes);
}

async function readJson(path: string, size: number, maxJsonBytes: number): Promise<EvalRows> {
  if (size > maxJsonBytes) {
    throw new InputError(
      `${path} is ${(size / 2 ** 20).toFixed(0)} MiB, more than the ${(maxJsonBytes / 2 ** 20).toFixed(0)} MiB read whole: write the eval as JSONL (promptfoo eval -o out.jsonl) and probe that file`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path} is not JSON (${(err as Error).message}); pass the file written by promptfoo eval -o out.json, or -o out.jsonl (one result per line)`);
  }
  const results = isObject(data) && isObject(data.results) ? data.results.results : undefined;
  if (!Array.isArray(results)) {
    throw new InputError(`${path} is not a promptfoo output: it has no results.results list (write one with promptfoo eval -o out.json)`);
  }
  return {
    path,
    format: 'json',
    evalId: isObject(data) && typeof data.evalId === 'string' ? data.evalId : null,
    rows: results.map((r, i) => toEvalRow(r, i, `${path}, results[${i}]`)),
  };
}

async function readJsonl(path: string): Promise<EvalRows> {
  const rows: EvalRow[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${path}, line ${n}: not valid JSON (${(err as Error).message}); a JSONL output holds one complete promptfoo result per line`);
    }
    rows.push(toEvalRow(raw, rows.length, `${path}, line ${n}`));
  }
  return { path, format: 'jsonl', evalId: null, rows };
}
