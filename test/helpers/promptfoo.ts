import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROMPTFOO_BIN = join('node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js');

/** Runs the real promptfoo CLI with a fresh PROMPTFOO_CONFIG_DIR, telemetry and update checks off. */
export function runPromptfoo(args: string[], env: Record<string, string> = {}) {
  const configDir = mkdtempSync(join(tmpdir(), 'recov-pf-'));
  const r = spawnSync(process.execPath, [PROMPTFOO_BIN, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PROMPTFOO_CONFIG_DIR: configDir,
      PROMPTFOO_DISABLE_TELEMETRY: '1',
      PROMPTFOO_DISABLE_UPDATE: '1',
      NO_COLOR: '1',
      ...env,
    },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, configDir };
}

/**
 * The same, without blocking this process: needed when the endpoint under test (a fault proxy,
 * an in-process serve-sim) lives in the test process itself.
 */
export function runPromptfooAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const configDir = mkdtempSync(join(tmpdir(), 'recov-pf-'));
  const child = spawn(process.execPath, [PROMPTFOO_BIN, ...args], {
    env: { ...process.env, PROMPTFOO_CONFIG_DIR: configDir, PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}
