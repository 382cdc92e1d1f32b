/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnScale } from '../../src/report/viewColumns.js';
import { launchChromium } from '../helpers/browser.js';
import { assertDistFresh } from '../helpers/distFresh.js';
import { runPromptfoo } from '../helpers/promptfoo.js';

/**
 * The columns of `promptfoo view` as a person sees them: the root suite (the embedded real
 * lineage, with a reference) evaluated by the real promptfoo CLI, then `promptfoo view` on that
 * database, driven by headless Chromium. promptfoo 0.121.20 shows a row's first 10 metric pills
 * (sorted by name) and the header's first 10, each header value as mean × 100 "%" unless its
 * weight is 0 (then the plain value). Screenshots go to the temp folder.
 */
const PROMPTFOO = join('node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js');
const dir = mkdtempSync(join(tmpdir(), 'recov-view-'));
let configDir: string;
let evalDefault: string;
let evalAll: string;
let view: ChildProcess;
let base: string;
let browser: BrowserContext;
const shots: string[] = [];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  assertDistFresh();
  const first = runPromptfoo(['eval', '-c', 'promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'out.json')]);
  expect([0, 100], first.stderr).toContain(first.code);
  configDir = first.configDir;
  evalDefault = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).evalId;
  // The same suite with `columns: all`, its first 10 tests, into the same database.
  const cfg = `tmp-view-all-${process.pid}.yaml`; // next to the original, so its relative paths hold
  writeFileSync(cfg, readFileSync('promptfooconfig.yaml', 'utf8').replace(/^(\s+)passAtK: \[1, 3, 5, 10\]$/m, '$1passAtK: [1, 3, 5, 10]\n$1columns: all'));
  mkdirSync(join(dir, 'all'));
  try {
    const second = runPromptfoo(['eval', '-c', cfg, '--no-progress-bar', '-n', '10', '-o', join(dir, 'all', 'all.json')], { PROMPTFOO_CONFIG_DIR: configDir });
    expect([0, 100], second.stderr).toContain(second.code);
  } finally {
    execFileSync('rm', ['-f', cfg]);
  }
  evalAll = JSON.parse(readFileSync(join(dir, 'all', 'all.json'), 'utf8')).evalId;
  expect(evalAll).not.toBe(evalDefault);

  const port = await freePort();
  view = spawn(process.execPath, [PROMPTFOO, 'view', '-p', String(port), '-n'], {
    env: { ...process.env, PROMPTFOO_CONFIG_DIR: configDir, PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = `http://localhost:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('promptfoo view did not start within 60 s')), 60_000);
    const onData = (d: Buffer) => d.toString().includes('Server running') && (clearTimeout(timer), resolve());
    view.stdout!.on('data', onData);
    view.stderr!.on('data', onData);
    view.once('exit', (code) => reject(new Error(`promptfoo view exited with ${code}`)));
  });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (view && view.exitCode === null) view.kill('SIGTERM');
  if (shots.length) console.log(`promptfoo view screenshots: ${shots.join(', ')}`);
});

async function openEval(id: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1600, height: 1100 });
  await page.goto(`${base}/eval/${id}`, { waitUntil: 'networkidle' });
  await page.locator('.output-header [data-testid="custom-metrics"]').first().waitFor({ timeout: 60_000 });
  return page;
}

/**
 * A screenshot of `element`, taken again when promptfoo's view re-renders it meanwhile (its table
 * can re-render after loading: "Element is not attached to the DOM"); the locator finds the new one.
 */
async function screenshot(element: Locator, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await element.screenshot({ path });
      return;
    } catch (err) {
      if (attempt >= 3 || !/not attached to the DOM/.test(String(err))) throw err;
    }
  }
}

/** The pills of a metric container: [name, shown value]. */
async function pills(container: Locator): Promise<[string, string][]> {
  return container.locator('[data-testid^="metric-"].metric-chip').evaluateAll((chips) =>
    chips.map((c) => [c.querySelector('.metric-name')?.textContent ?? '', c.querySelector('.metric-value')?.textContent ?? '']),
  ) as Promise<[string, string][]>;
}

describe('promptfoo view shows columns a person can read (real CLI, headless Chromium)', () => {
  it('the header: every default column in a bounded scale, its mean a true percentage; regime and route shares of graded rows', async () => {
    const page = await openEval(evalDefault);
    const header = page.locator('.output-header').first();
    const shot = join(process.env.RECOVERABILITY_SCREENSHOTS ?? tmpdir(), 'recoverability-view-header.png');
    await screenshot(header, shot);
    shots.push(shot);
    const shown = await pills(header.locator('[data-testid="custom-metrics"]'));
    const names = shown.map(([n]) => n);
    // The ones that matter come first (promptfoo sorts by name and shows 10).
    expect(names.slice(0, 5)).toEqual(['ancestor_pass_rate', 'concentration_pctl', 'logit_dispersion_pctl', 'pass_at_10', 'pass_rate']);
    expect(names.some((n) => n.startsWith('regime_'))).toBe(true);
    for (const [name, value] of shown) {
      expect(['share', 'indicator'], name).toContain(columnScale(name));
      const pct = Number(/^(-?\d+\.\d\d)% \(/.exec(value)?.[1]);
      expect(pct, `${name}: ${value}`).toBeGreaterThanOrEqual(0);
      expect(pct, `${name}: ${value}`).toBeLessThanOrEqual(100);
    }
    // Regime shares are of the graded rows (40), as in recoverability.json.
    const report = JSON.parse(readFileSync(join(dir, 'recoverability.json'), 'utf8'));
    const steerable = shown.find(([n]) => n === 'regime_steerable')?.[1];
    expect(steerable).toBe(`${(100 * report.regimes.share_of_tests.steerable).toFixed(2)}% (${report.regimes.counts.steerable.toFixed(2)}/40.00)`);
    await page.close();
  });

  it('a failing row: at most 10 pills (no "Show more"), its regime and route, and one reason line led by regime → route', async () => {
    const page = await openEval(evalDefault);
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    const row = out.results.results.find((r: any) => r.metadata.regime === 'steerable');
    const cell = page.locator('tbody tr').filter({ hasText: row.vars.expression }).first().locator('td').last();
    await cell.scrollIntoViewIfNeeded();
    const shot = join(process.env.RECOVERABILITY_SCREENSHOTS ?? tmpdir(), 'recoverability-view-row.png');
    await screenshot(cell, shot);
    shots.push(shot);
    const shown = await pills(cell.locator('[data-testid="custom-metrics"]'));
    expect(shown.length).toBeLessThanOrEqual(10);
    expect(await cell.locator('[data-testid="toggle-show-more"]').count()).toBe(0);
    expect(shown.map(([n]) => n)).toEqual(expect.arrayContaining(['pass_rate', 'ancestor_pass_rate', 'spread', 'concentration_pctl', 'logit_dispersion_pctl', 'regime_steerable', `route_${row.metadata.route}`]));
    for (const [name, value] of shown) {
      const v = Number(value);
      expect(v, name).toBeGreaterThanOrEqual(0);
      expect(v, name).toBeLessThanOrEqual(1);
    }
    const reason = (await cell.locator('.fail-reason').first().innerText()).trim();
    expect(reason.split('\n')).toHaveLength(1);
    // The root suite routes by its shipped policy: the source says so, with the policy's precision.
    expect(row.metadata.route_source).toBe('policy');
    expect(reason).toMatch(new RegExp(`^steerable → ${row.metadata.route} \\(learned policy, precision \\d+% on \\d+ probed rows\\) · \\d+/12 rollouts pass`));
    expect(reason.split(' · ')[0]!.split(row.metadata.route).length - 1).toBe(1); // the lead names the route once
    expect(reason).toMatch(/ · Repair: [a-z_]+ (rescued the row on attempt \d of 4|did not rescue the row in 4 attempts)/);
    await page.close();
  });

  it('columns: all — every other column carries its unit, and the header shows its plain mean, not a percentage', async () => {
    const page = await openEval(evalAll);
    const header = page.locator('.output-header').first();
    const all = JSON.parse(readFileSync(join(dir, 'all', 'all.json'), 'utf8'));
    const rows = all.results.results.filter((r: any) => r.namedScores.concentration_log10 !== undefined);
    const mean = rows.reduce((s: number, r: any) => s + r.namedScores.concentration_log10, 0) / rows.length;
    const shown = await pills(header.locator('[data-testid="custom-metrics"]'));
    expect(shown.find(([n]) => n === 'concentration_log10')?.[1]).toBe(mean.toFixed(2)); // no "%"
    for (const [name, value] of shown) expect(value.includes('%'), `${name}: ${value}`).toBe(['share', 'indicator'].includes(columnScale(name)));
    const shot = join(process.env.RECOVERABILITY_SCREENSHOTS ?? tmpdir(), 'recoverability-view-header-all.png');
    await screenshot(header, shot);
    shots.push(shot);
    // promptfoo's header "Show more…" opens its metrics dialog, listing every metric by name.
    await header.locator('[data-testid="toggle-show-more"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = await dialog.innerText();
    for (const name of ['answer_entropy_nats', 'concentration_log10', 'dispersion_at_min_confidence_log10', 'logit_dispersion_log10', 'mean_token_entropy_nats', 'pass_hat_10']) expect(text).toContain(name);
    expect(all.results.prompts[0].metrics.namedScoreWeights.concentration_log10).toBe(0);
    expect(all.results.prompts[0].metrics.namedScores.concentration_log10).toBeCloseTo(mean, 12);
    await page.close();
  });
});
