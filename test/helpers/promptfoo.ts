import { spawnSync } from 'node:child_process';
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
