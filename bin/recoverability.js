#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm install` in a clone, by `prepack` in a tarball).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.error(`recoverability: this copy is not built (no dist/ in ${root}); run "npm install" there (or "npm run build"), or install a packed tarball (npm pack)`);
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
