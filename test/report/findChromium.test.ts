import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium, systemBrowserPaths } from '../helpers/browser.js';

const fakeBrowser = (name = 'chromium') => {
  const path = join(mkdtempSync(join(tmpdir(), 'recov-browser-')), name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};

describe('findChromium: the browser found the usual way', () => {
  it('an environment variable wins, and must name an executable', () => {
    const exe = fakeBrowser();
    expect(findChromium({ CHROMIUM_PATH: exe }, [], undefined)).toBe(exe);
    expect(findChromium({ PUPPETEER_EXECUTABLE_PATH: exe }, ['/usr/bin/chromium'], undefined)).toBe(exe);
    expect(() => findChromium({ CHROMIUM_PATH: '/nope/chrome' }, [exe], undefined)).toThrow(/CHROMIUM_PATH=\/nope\/chrome is not an executable file/);
  });

  it("then Playwright's managed Chromium, then the system's, in order", () => {
    const managed = fakeBrowser('chrome');
    const system = fakeBrowser();
    expect(findChromium({}, [system], managed)).toBe(managed);
    expect(findChromium({}, ['/missing/chromium', system], '/missing/playwright/chrome')).toBe(system);
  });

  it('none: an error that says how to get one', () => {
    expect(() => findChromium({}, ['/missing/chromium'], '/missing/playwright/chrome')).toThrow(/no Chromium or Chrome found[\s\S]*CHROMIUM_PATH[\s\S]*apt-get install chromium[\s\S]*playwright-core install chromium/);
  });

  it('looks on PATH and in the usual Linux and macOS places', () => {
    const paths = systemBrowserPaths({ PATH: '/opt/x/bin' }, '/home/u');
    expect(paths).toContain('/opt/x/bin/chromium');
    expect(paths).toContain('/usr/bin/chromium');
    expect(paths).toContain('/Applications/Google Chrome.app/Contents/MacOS/Google Chrome');
    expect(paths).toContain('/home/u/Applications/Chromium.app/Contents/MacOS/Chromium');
  });
});
