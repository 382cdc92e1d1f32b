import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeSim } from '../helpers/simServerProcess.js';

/**
 * The package installed the ways the README says, into scratch projects that have their own
 * promptfoo, then used there as a user would: `npx recoverability`, `init`, `promptfoo eval`.
 * Installs reuse npm's cache (--prefer-offline); promptfoo is linked in, not reinstalled.
 */
const ROOT = process.cwd();
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
const NODE_MODULES = realpathSync('node_modules');
const EXAMPLE = resolve('examples/add-to-existing');
const MINUTES = 60_000;

/** The environment without the npm_* variables of the `npm test` running us (they would steer the child npm). */
const cleanEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  npm_config_update_notifier: 'false',
  PROMPTFOO_DISABLE_TELEMETRY: '1',
  PROMPTFOO_DISABLE_UPDATE: '1',
  NO_COLOR: '1',
});

function sh(cmd: string, args: string[], cwd: string, timeout = 5 * MINUTES, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', all: `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

const npmInstall = (cwd: string, ...args: string[]) => sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...args], cwd, 9 * MINUTES);

/** The working tree as a clone has it: tracked files and new ones git does not ignore. */
function copyWorkingTree(to: string): void {
  const files = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).stdout.split('\0').filter((f) => f !== '' && f !== 'node_modules'); // a linked node_modules is not matched by "node_modules/"
  expect(files.length).toBeGreaterThan(50);
  for (const f of files) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(to, f), { recursive: true });
}

/** A scratch project with its own promptfoo (linked from ours, so nothing is reinstalled). */
function scratchProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return dir;
}
const linkPromptfoo = (project: string) => symlinkSync(join(NODE_MODULES, 'promptfoo'), join(project, 'node_modules', 'promptfoo'), 'dir');

/** The project's own promptfoo CLI, in the project. */
function promptfoo(project: string, args: string[]) {
  return sh(process.execPath, [join(project, 'node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js'), ...args], project, 3 * MINUTES, {
    PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'recov-pf-')),
    VLLM_BASE_URL: sim.url,
  });
}

let work: string;
let pkg: string;
let tarball: string;
let packed: { files: { path: string }[] };
let sim: Awaited<ReturnType<typeof startServeSim>>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'recov-install-'));
  pkg = join(work, 'clone');
  copyWorkingTree(pkg);
  symlinkSync(NODE_MODULES, join(pkg, 'node_modules'), 'dir'); // the clone after its own `npm install`
  const pack = sh('npm', ['pack', '--json', '--pack-destination', work], pkg);
  expect(pack.code, pack.all).toBe(0);
  packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0];
  tarball = join(work, (packed as unknown as { filename: string }).filename);
  sim = await startServeSim(['--seed', '0']);
}, 5 * MINUTES);

afterAll(async () => {
  await sim?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('what ships', () => {
  it('npm pack (prepack builds a clean dist/): the CLI, the library, hooks, data and docs; no tests, sources, maps or scratch files', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'NOTICE.md', 'hooks.js', 'bin/recoverability.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/promptfoo/hooks.js', 'data/failure_profiles.csv']) {
      expect(paths).toContain(p);
    }
    const stray = paths.filter((p) => /^(test|src|scripts|examples|\.ci|node_modules|output)\//.test(p) || /\.map$|\.tsbuildinfo$|(^|\/)tmp-|\.test\.|\.journal\.jsonl$/.test(p));
    expect(stray).toEqual([]);
  });
});

describe('installed from the packed tarball into a project with its own promptfoo', () => {
  let project: string;
  beforeAll(() => {
    project = scratchProject('from-tarball');
    const r = npmInstall(project, tarball);
    expect(r.code, r.all).toBe(0);
    linkPromptfoo(project);
  }, 5 * MINUTES);

  it('npx recoverability --version', () => {
    const r = sh('npx', ['--no-install', 'recoverability', '--version'], project);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  }, 5 * MINUTES);

  it('init at the project root writes examples/add-to-existing/after.yaml, and promptfoo evaluates it', () => {
    cpSync(join(EXAMPLE, 'before.yaml'), join(project, 'promptfooconfig.yaml'));
    cpSync(join(EXAMPLE, 'tests.csv'), join(project, 'tests.csv'));
    const init = sh('npx', ['--no-install', 'recoverability', 'init'], project);
    expect(init.code, init.all).toBe(0);
    expect(readFileSync(join(project, 'promptfooconfig.yaml'), 'utf8')).toBe(readFileSync(join(EXAMPLE, 'after.yaml'), 'utf8'));

    const r = promptfoo(project, ['eval', '--no-progress-bar', '-o', 'out/results.json']);
    expect([0, 100], r.all).toContain(r.code);
    const out = JSON.parse(readFileSync(join(project, 'out', 'results.json'), 'utf8'));
    expect(out.results.stats.errors).toBe(0);
    expect(out.results.results).toHaveLength(6);
    for (const row of out.results.results) {
      expect(row.response.metadata.recoverability.rollouts).toHaveLength(8);
      expect(['solved', 'resample', 'retry_insufficient']).toContain(row.metadata.regime); // black-box: no steer regimes
      expect(row.namedScores.pass_rate).toBeGreaterThanOrEqual(0);
    }
    expect(existsSync(join(project, 'out', 'recoverability.md'))).toBe(true); // the afterAll hook ran
  }, 5 * MINUTES);

  it('init in a subfolder (evals/) sets hook paths relative to it, and promptfoo evaluates it from the root', () => {
    mkdirSync(join(project, 'evals'));
    cpSync(join(EXAMPLE, 'before.yaml'), join(project, 'evals', 'arith.yaml'));
    cpSync(join(EXAMPLE, 'tests.csv'), join(project, 'evals', 'tests.csv'));
    const init = sh('npx', ['--no-install', 'recoverability', 'init', 'evals/arith.yaml'], project);
    expect(init.code, init.all).toBe(0);
    expect(init.stdout).toContain('extensions: added file://../node_modules/promptfoo-recoverability/hooks.js:afterEach');
    const r = promptfoo(project, ['eval', '-c', 'evals/arith.yaml', '--no-progress-bar', '-o', 'evals/out/results.json']);
    expect([0, 100], r.all).toContain(r.code);
    expect(JSON.parse(readFileSync(join(project, 'evals', 'out', 'results.json'), 'utf8')).results.stats.errors).toBe(0);
    expect(existsSync(join(project, 'evals', 'out', 'recoverability.json'))).toBe(true);
  }, 5 * MINUTES);
});

describe('installed from a local path', () => {
  it('npm i --install-links /path/to/clone: a built copy, like the tarball', () => {
    const project = scratchProject('from-path-copy');
    const r = npmInstall(project, '--install-links', pkg);
    expect(r.code, r.all).toBe(0);
    expect(existsSync(join(project, 'node_modules', 'promptfoo-recoverability', 'dist', 'cli', 'main.js'))).toBe(true);
    const v = sh('npx', ['--no-install', 'recoverability', '--version'], project);
    expect(v.stdout.trim(), v.all).toBe(VERSION);
  }, 5 * MINUTES);

  it('npm i /path/to/clone (a link): works once the clone has run its own npm install (and is not rebuilt when up to date)', () => {
    const project = scratchProject('from-path-link');
    const r = npmInstall(project, '--foreground-scripts', pkg);
    expect(r.code, r.all).toBe(0);
    expect(r.all).toMatch(/dist\/ is up to date/);
    const v = sh('npx', ['--no-install', 'recoverability', '--version'], project);
    expect(v.stdout.trim(), v.all).toBe(VERSION);
  }, 5 * MINUTES);

  it('a fresh clone never installed: the user\'s install still succeeds and says how to build it', () => {
    const fresh = join(work, 'fresh-clone');
    copyWorkingTree(fresh);
    const project = scratchProject('from-fresh-clone');
    const r = npmInstall(project, '--foreground-scripts', fresh);
    expect(r.code, r.all).toBe(0);
    expect(r.all).toMatch(/dist\/ is not built and TypeScript is not installed[\s\S]*run "npm install" in it/);
    const v = sh('npx', ['--no-install', 'recoverability', '--version'], project);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/this copy is not built \(no dist\/ in .*fresh-clone\/\); run "npm install" there/);
  }, 5 * MINUTES);
});

describe('installed from a git URL', () => {
  it('npm i git+file://…: npm installs the dev dependencies, prepare builds, the package works', () => {
    const repo = join(work, 'repo');
    copyWorkingTree(repo);
    const git = (...args: string[]) => sh('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'init.defaultBranch=main', ...args], repo);
    for (const step of [['init', '-q'], ['add', '-A'], ['commit', '-qm', 'snapshot']]) expect(git(...step).code).toBe(0);
    const project = scratchProject('from-git');
    const r = npmInstall(project, `git+file://${repo}`);
    expect(r.code, r.all).toBe(0);
    const installed = join(project, 'node_modules', 'promptfoo-recoverability');
    expect(existsSync(join(installed, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false); // packed by `files`, not the whole repository
    const v = sh('npx', ['--no-install', 'recoverability', '--version'], project);
    expect(v.stdout.trim(), v.all).toBe(VERSION);
    linkPromptfoo(project);
    const lib = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('promptfoo-recoverability'); console.log(typeof m.RolloutProvider, typeof m.gradeRollouts)"], project);
    expect(lib.stdout.trim(), lib.all).toBe('function function');
  }, 12 * MINUTES);
});

// A path under the work folder must never be the repository itself.
it('the scratch work happened outside the repository', () => {
  expect(dirname(work)).not.toBe(ROOT);
  expect(existsSync(join(ROOT, 'promptfoo-recoverability-' + VERSION + '.tgz'))).toBe(false);
});
