import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates the directory of `path` when missing and checks that the file can be written there
 * (and read, when it exists), so a bad path fails when the provider is made — before any paid
 * rollout is sampled — with the config field named.
 */
export function ensureWritableFile(path: string, field: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    accessSync(dirname(path), constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`RolloutProvider config: ${field}: cannot write ${path} (${e.code ?? e.message}); choose a path in a writable directory`);
  }
}
