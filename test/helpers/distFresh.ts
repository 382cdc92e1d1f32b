import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const files = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)])) : [];

/**
 * CLI and end-to-end tests run bin/ and dist/, so a stale build silently tests old code. Throws
 * "dist is older than src/…; run npm run build" when any src/**\/*.ts is newer than its compiled
 * dist/**\/*.js (or that file is missing). Call it in a beforeAll of every test that runs bin/ or dist/.
 */
export function assertDistFresh(root = '.'): void {
  const stale: string[] = [];
  for (const src of files(join(root, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    const out = join(root, 'dist', relative(join(root, 'src'), src)).replace(/\.ts$/, '.js');
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) stale.push(relative(root, src));
  }
  if (stale.length > 0) {
    throw new Error(`dist is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}; run npm run build`);
  }
}
