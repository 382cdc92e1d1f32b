#!/usr/bin/env node
// npm's `prepare` and `prepack` for this package.
//   node scripts/prepare.mjs          (prepare) builds dist/ when TypeScript is installed here: a
//                                     clone's `npm install`, a git-URL install (npm installs the
//                                     devDependencies first) or `npm i /path/to/clone`. Where
//                                     TypeScript is absent (a clone installed by path before its own
//                                     `npm install`) it says how to build and exits 0, so the
//                                     user's install goes on. Skipped when dist/ is newer than every
//                                     source, and under `npm pack`/`publish` (prepack has just built).
//   node scripts/prepare.mjs --pack   (prepack) a clean dist/ (no stale files ship), then the build;
//                                     fails when it cannot build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pack = process.argv.includes('--pack');
const say = (line) => process.stderr.write(`promptfoo-recoverability: ${line}\n`);

if (!pack && ['pack', 'publish'].includes(process.env.npm_command ?? '')) process.exit(0);

/** Newest modification time of the sources and build settings (ms). */
function newestSource() {
  const files = ['package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => `${root}${f}`).filter((f) => existsSync(f));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
      else files.push(`${dir}/${entry.name}`);
    }
  };
  if (existsSync(`${root}src`)) walk(`${root}src`);
  return Math.max(0, ...files.map((f) => statSync(f).mtimeMs));
}

const built = `${root}dist/index.js`;
if (!pack && existsSync(built) && statSync(built).mtimeMs >= newestSource()) {
  say('dist/ is up to date');
  process.exit(0);
}

let hasTypeScript = true;
try {
  createRequire(`${root}package.json`).resolve('typescript/package.json');
} catch {
  hasTypeScript = false;
}

if (!hasTypeScript) {
  if (pack) {
    say('cannot pack: TypeScript is not installed here; run "npm install" in this folder first');
    process.exit(1);
  }
  if (existsSync(`${root}dist/cli/main.js`)) {
    say('TypeScript is not installed here; using the dist/ already built');
  } else {
    say(`dist/ is not built and TypeScript is not installed in ${root}`);
    say(`to use this folder, run "npm install" in it (installs its devDependencies and builds), or install a packed tarball instead (npm pack)`);
  }
  process.exit(0);
}

if (pack) rmSync(`${root}dist`, { recursive: true, force: true });
const npm = process.env.npm_execpath;
const build = npm ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' }) : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(build.status ?? 1);
