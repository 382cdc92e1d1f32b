import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from './inputError.js';

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * Checks, before any work, that `path` can be written as a file: it is not a directory, its
 * folder exists, and opening it for appending succeeds (truncating nothing). A file this check
 * creates is removed again, so a later failure leaves nothing behind. Throws an InputError naming
 * the flag, the path and the reason.
 */
export async function checkWritableFile(path: string, flag: string): Promise<void> {
  let existed = true;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(`${flag} ${path} is a directory; give a file path`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`${flag} ${path} cannot be written: ${code(err)}`);
    existed = false;
  }
  try {
    const handle = await open(path, 'a');
    await handle.close();
  } catch (err) {
    throw new InputError(`${flag} ${path} cannot be written: ${code(err)}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (its folder does not exist)' : ''}`);
  }
  if (!existed) await rm(path, { force: true });
}

/**
 * Checks, before any work, that `dir` is (or can be made) a folder we can write in: creates it
 * (with parents) if missing, then creates and removes a probe file in it. Throws an InputError
 * naming the flag and the path when it is a file or not writable.
 */
export async function checkWritableDir(dir: string, flag: string): Promise<void> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new InputError(`${flag} ${dir} is a file, not a folder; give a folder to write the reports in`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`${flag} ${dir} cannot be used: ${code(err)}${code(err) === 'ENOTDIR' ? ' (a part of the path is a file)' : ''}`);
    try {
      await mkdir(dir, { recursive: true });
    } catch (mkErr) {
      throw new InputError(`${flag} ${dir} cannot be created: ${code(mkErr)}`);
    }
  }
  const probe = join(dir, `.recoverability-write-check-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
  } catch (err) {
    throw new InputError(`${flag} ${dir} is not writable: ${code(err)}`);
  }
  await rm(probe, { force: true });
}
