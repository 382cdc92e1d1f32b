import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'promptfoo-recoverability';

/** The root of the package this code runs from (src/cli/init and dist/cli/init are both three folders down). */
export function ownPackageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/**
 * The path of the package's hooks.js as promptfoo's `extensions:` resolves it: relative to the
 * config file's folder, with forward slashes. It prefers the copy a project installed
 * (`node_modules/promptfoo-recoverability/hooks.js` in the config's folder or any folder above,
 * without resolving symlinks, so a linked install keeps the portable path); else this package's
 * own hooks.js (a config inside this repository).
 */
export function hooksPath(configDir: string, packageRoot = ownPackageRoot()): string {
  let file = join(packageRoot, 'hooks.js');
  for (let dir = configDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', PACKAGE_NAME, 'hooks.js');
    if (existsSync(candidate)) {
      file = candidate;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return relative(configDir, file).split(sep).join('/');
}
