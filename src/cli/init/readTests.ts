import { readFile } from 'node:fs/promises';
import { extname, relative, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import type { AssertionSketch } from './guessGrader.js';

/** What `init` learns from a config's tests: every test's vars and every assertion written in them. */
export interface TestsSketch {
  rows: Record<string, unknown>[];
  asserts: AssertionSketch[];
  /** Where the tests came from, or why some could not be read. */
  notes: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the tests of a promptfoo config as `init` needs them: inline tests, and test files
 * (`file://tests.csv`, `.yaml`/`.yml`, `.json`, `.jsonl`) relative to the config's folder.
 * Anything else (globs, scripts, sheets) is noted and skipped: the guess then has less to go on.
 */
export async function readTests(tests: unknown, defaultVars: Record<string, unknown>, configDir: string): Promise<TestsSketch> {
  const sketch: TestsSketch = { rows: [], asserts: [], notes: [] };
  const items = tests === undefined || tests === null ? [] : Array.isArray(tests) ? tests : [tests];
  if (items.length === 0) sketch.notes.push('the config has no tests');
  for (const item of items) {
    if (isRecord(item)) addTest(sketch, item, defaultVars);
    else if (typeof item === 'string') await addFile(sketch, item, defaultVars, configDir);
  }
  return sketch;
}

function addTest(sketch: TestsSketch, test: Record<string, unknown>, defaultVars: Record<string, unknown>): void {
  sketch.rows.push({ ...defaultVars, ...(isRecord(test.vars) ? test.vars : {}) });
  if (Array.isArray(test.assert)) sketch.asserts.push(...test.assert.filter(isRecord));
}

async function addFile(sketch: TestsSketch, ref: string, defaultVars: Record<string, unknown>, configDir: string): Promise<void> {
  const path = resolve(configDir, ref.replace(/^file:\/\//, ''));
  const shown = relative(process.cwd(), path) || path;
  if (/[*?[{]/.test(ref)) return void sketch.notes.push(`${ref}: a glob; not read`);
  const ext = extname(path).toLowerCase();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return void sketch.notes.push(`${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    if (ext === '.csv' || ext === '.tsv') {
      const records = parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, relax_column_count: true, delimiter: ext === '.tsv' ? '\t' : ',' }) as Record<string, string>[];
      for (const r of records) sketch.rows.push({ ...defaultVars, ...Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('__'))) });
    } else if (ext === '.yaml' || ext === '.yml' || ext === '.json') {
      const data: unknown = parseYaml(text);
      for (const t of Array.isArray(data) ? data : [data]) if (isRecord(t)) addTest(sketch, t, defaultVars);
    } else if (ext === '.jsonl') {
      for (const line of text.split('\n')) if (line.trim()) addTest(sketch, JSON.parse(line) as Record<string, unknown>, defaultVars);
    } else {
      return void sketch.notes.push(`${shown}: tests in ${ext || 'this kind of'} file are not read by init`);
    }
  } catch (err) {
    return void sketch.notes.push(`${shown}: not readable as ${ext.slice(1)} (${(err as Error).message.split('\n')[0]})`);
  }
  sketch.notes.push(`read ${shown}`);
}
