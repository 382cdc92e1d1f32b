import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Environment variables that name a Chromium or Chrome executable, in the order they are read. */
export const BROWSER_ENV = ['CHROMIUM_PATH', 'CHROME_PATH', 'PUPPETEER_EXECUTABLE_PATH'] as const;

/** Where Chromium or Chrome usually lives, on Linux and macOS. */
export function systemBrowserPaths(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'].map((n) => join(dir, n)));
  return [
    ...onPath,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    join(home, 'Applications/Chromium.app/Contents/MacOS/Chromium'),
    join(home, 'Applications/Google Chrome.app/Contents/MacOS/Google Chrome'),
  ];
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export const HOW_TO_GET_A_BROWSER = [
  'no Chromium or Chrome found for the browser tests. Any one of these works:',
  '  - set CHROMIUM_PATH (or CHROME_PATH / PUPPETEER_EXECUTABLE_PATH) to a Chromium or Chrome executable;',
  "  - Debian/Ubuntu: apt-get install chromium (as root; CI's .ci/run does this);",
  '  - macOS: install Google Chrome or Chromium in /Applications;',
  "  - Playwright's own build: npx playwright-core install chromium (downloads it).",
].join('\n');

/**
 * The browser the tests drive, found the usual way: an environment variable naming it (which must
 * then exist), Playwright's managed Chromium (playwright-core's registry path), then Chromium or
 * Chrome on PATH and in the usual system places. Throws with the ways to get one when none is there.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, candidates: string[] = systemBrowserPaths(env), managed: string | undefined = playwrightChromium()): string {
  for (const name of BROWSER_ENV) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!isExecutable(value)) throw new Error(`${name}=${value} is not an executable file; point it at a Chromium or Chrome binary, or unset it`);
    return value;
  }
  const found = [managed, ...candidates].find((p): p is string => p !== undefined && isExecutable(p));
  if (found === undefined) throw new Error(HOW_TO_GET_A_BROWSER);
  return found;
}

/** Where Playwright keeps the Chromium it manages (`npx playwright-core install chromium`), whether or not it is there. */
export function playwrightChromium(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

/** The flags this closed network needs: headless, no sandbox (root in CI), nothing that phones home. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Headless Chromium in a fresh profile (a new --user-data-dir, removed on close). Playwright
 * takes the profile as launchPersistentContext's first argument, so it returns a BrowserContext
 * (newPage(), close()).
 */
export async function launchChromium(): Promise<BrowserContext> {
  const executablePath = findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'recov-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_FLAGS });
  const close = context.close.bind(context);
  context.close = async (options) => {
    await close(options);
    // Chromium may still be flushing its profile as it exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  return context;
}
