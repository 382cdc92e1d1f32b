import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary folder of the run — the tests' own and their child
 * processes' (promptfoo, servers, Chromium), all made under os.tmpdir() — goes under one fresh
 * folder, removed when the run ends, so repeated runs leave nothing behind in the system's.
 * The browser tests' screenshots, made to be looked at after the run, go to the system's
 * temporary folder as before (RECOVERABILITY_SCREENSHOTS, unless set).
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  process.env.RECOVERABILITY_SCREENSHOTS ??= tmpdir();
  const root = mkdtempSync(join(tmpdir(), 'recoverability-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
