import { stat } from 'node:fs/promises';
import { InputError } from './inputError.js';

/** The size in bytes of a promptfoo output file; an InputError naming the file and the fix when it is not a readable file. */
export async function evalOutputSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new InputError(`${path} is not a file: pass the file written by promptfoo eval -o out.json (or -o out.jsonl)`);
    return s.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
