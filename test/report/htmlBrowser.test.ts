import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvalReport, type ReportRowInput } from '../../src/core/index.js';
import { renderHtml } from '../../src/report/renderHtml.js';
import { launchChromium } from '../helpers/browser.js';

/** XSS payloads that could reach the report from test data, model output or endpoint errors. */
const PAYLOADS = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '"><svg onload="window.__pwned=3">',
  "'><iframe srcdoc=\"<script>parent.__pwned=4</script>\">",
  '<a href="javascript:window.__pwned=5">x</a>',
  '<body onload="window.__pwned=6">',
  '<details open ontoggle="window.__pwned=7">',
  '<math><mi xlink:href="javascript:window.__pwned=8">x</mi></math>',
  '<object data="javascript:window.__pwned=9"></object>',
  '<input autofocus onfocus="window.__pwned=10">',
  '<style>@import "javascript:window.__pwned=11"</style>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=12">',
  '</td></tr></table><script>window.__pwned=13</script>',
  '<svg><animate onbegin="window.__pwned=14" attributeName="x"/></svg>',
  '<video><source onerror="window.__pwned=15"></video>',
  '`${window.__pwned=16}` {{constructor.constructor("window.__pwned=16")()}}',
];

const row = (i: number, passed: number, f: [number, number, number] | null, text: string): ReportRowInput => ({
  test_idx: i, prompt_idx: 0, repeat: 0, description: `test ${i} ${text}`, provider: 'p', n_rollouts: 8, n_passed: passed,
  features: f && { spread: f[0], concentration: f[1], logit_dispersion: f[2] }, answer_entropy: null, wrong_mode_share: null,
  unavailable: [], sample_output: `Step 1: … ${text}\nAnswer: ${text}`,
});

let browser: BrowserContext;
let url: string;
beforeAll(async () => {
  const rows = [
    row(0, 8, null, 'fine'),
    ...PAYLOADS.map((p, i) => row(i + 1, i % 3, [0.2 + 0.03 * i, 1 + 0.1 * (i % 5), -1.5 - 0.05 * (i % 4)], p)),
  ];
  // Every payload also arrives as an endpoint error (an error row).
  const errors = PAYLOADS.map((p, i) => ({ test_idx: 100 + i, prompt_idx: 0, description: p, provider: p, kind: 'EndpointHttpError', message: `HTTP 500: ${p}` }));
  const html = await renderHtml(buildEvalReport(rows, { evalId: 'eval-<b>x</b>', errors }), {
    budgets: [1, 2, 3].flatMap((b) => [{ operator: 'retry', budget: b, rescue: 0.1 * b }, { operator: 'sparse_steer', budget: b, rescue: 0.2 * b }]),
  });
  const file = join(mkdtempSync(join(tmpdir(), 'recov-html-')), 'report.html');
  writeFileSync(file, html);
  url = pathToFileURL(file).href;
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close());

describe('the standalone HTML report in headless Chromium', () => {
  it('renders with no console errors, its plots present, and executes nothing from model output', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    expect(errors).toEqual([]);
    expect(requests.filter((r) => r !== url)).toEqual([]); // offline: nothing fetched
    expect(await page.locator('figure svg').count()).toBe(6); // regimes, routing, 3 distributions, rescue at budget
    expect(await page.locator('figure svg .mark-symbol path, figure svg .mark-symbol').count()).toBeGreaterThan(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    const body = await page.locator('body').innerText();
    for (const p of PAYLOADS) expect(body).toContain(p); // shown as text, literally
    expect(await page.locator('table#failures img, table#failures script, table#error-rows img, table#error-rows script, iframe, object, video, input').count()).toBe(0);
    expect(await page.locator('table#error-rows tbody tr').count()).toBe(PAYLOADS.length);
    await page.close();
  });

  it('sorts the failures table by a clicked column', async () => {
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const col = async () => page.locator('table#failures tbody tr td:nth-child(5)').allInnerTexts();
    await page.locator('th[data-col="4"]').click();
    const asc = (await col()).map((t) => Number.parseFloat(t));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.locator('th[data-col="4"]').click();
    const desc = (await col()).map((t) => Number.parseFloat(t));
    expect(desc).toEqual([...asc].reverse());
    await page.close();
  });
});
