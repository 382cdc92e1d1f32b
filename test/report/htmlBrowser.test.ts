/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMeasurements, buildEvalReport, type EvalReport, EvalReportSchema, type ReportRowInput } from '../../src/core/index.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { REGIME_COLORS, ROUTE_COLORS } from '../../src/report/palettes.js';
import { renderHtml } from '../../src/report/renderHtml.js';
import { launchChromium } from '../helpers/browser.js';
import { population, uniformRates } from '../policy/population.js';
import { plantedJournal, plantedProbe } from './probeFixture.js';

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
  test_idx: i, prompt_idx: 0, repeat: 0, description: `test ${i} ${text}`, test_key: `key-${i}`, provider: 'p', n_rollouts: 8, n_passed: passed,
  features: f && { spread: f[0], concentration: f[1], logit_dispersion: f[2] }, answer_entropy: null, wrong_mode_share: null,
  unavailable: [], sample_output: `Step 1: … ${text}\nAnswer: ${text} ${'long output '.repeat(40)}`, ancestor_pass_rate: (i % 5) / 4 > 1 ? 1 : (i % 5) / 4,
});

/** The report with a planted probe of its failing rows, a policy (calibrated on a planted population) and the probe's journal. */
function measuredReport(): EvalReport {
  const rows = [row(0, 8, null, 'fine'), ...PAYLOADS.map((p, i) => row(i + 1, i % 3, [0.2 + 0.03 * i, 1 + 0.1 * (i % 5), -1.5 - 0.05 * (i % 4)], p))];
  // Every payload also arrives as an endpoint error (an error row).
  const errors = PAYLOADS.map((p, i) => ({ test_idx: 100 + i, prompt_idx: 0, description: p, provider: p, kind: 'EndpointHttpError', message: `HTTP 500: ${p}` }));
  const report = buildEvalReport(rows, { evalId: 'eval-<b>x</b>', errors });
  const failing = report.rows.filter((r) => r.n_passed < r.n_rollouts).map((r) => ({ ...r, ...r.features!, ancestor_pass_rate: r.ancestor_pass_rate }));
  const records = plantedProbe(failing, { reprobeEvery: 3 });
  const policy = calibratePolicy(population({ rows: 60, seed: 3, rescue: (s) => ({ label: s.ancestor_pass_rate >= 0.5 ? { ...uniformRates(0.05), dense_steer: 0.7 } : uniformRates(0.02) }) }), { path: 'probe-<img src=x onerror=alert(1)>.csv', sha256: 'x' }, { resamples: 200 });
  const journal = plantedJournal(records, { fixture: true }).trim().split('\n').slice(1).map((l) => JSON.parse(l));
  return EvalReportSchema.parse(
    addMeasurements(report, {
      probe: { path: 'probe.csv', format: 'probe-csv', records },
      policy: { path: 'policy.json', policy },
      journal: { path: 'probe.csv.journal.jsonl', settings: 'fixture0000000000', entries: journal },
    }),
  );
}

let browser: BrowserContext;
let url: string;
let plainUrl: string;
let report: EvalReport;
beforeAll(async () => {
  report = measuredReport();
  const dir = mkdtempSync(join(tmpdir(), 'recov-html-'));
  writeFileSync(join(dir, 'report.html'), await renderHtml(report));
  url = pathToFileURL(join(dir, 'report.html')).href;
  const plain = buildEvalReport([row(0, 2, [0.2, 1.3, -2], 'a'), row(1, 0, [0.4, 1.1, -2.4], 'b'), row(2, 5, [0.3, 1.0, -1.9], 'c'), row(3, 8, null, 'd')]);
  writeFileSync(join(dir, 'plain.html'), await renderHtml(plain));
  plainUrl = pathToFileURL(join(dir, 'plain.html')).href;
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close());

async function open(at: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(at, { waitUntil: 'load' });
  return { page, errors, requests };
}

describe('the standalone HTML report in headless Chromium at 1400 px', () => {
  it('renders with no console errors, offline, and executes nothing from model output', async () => {
    const { page, errors, requests } = await open(url);
    expect(errors).toEqual([]);
    expect(requests.filter((r) => r !== url)).toEqual([]); // offline: nothing fetched
    expect(await page.locator('figure svg').count()).toBe(6); // regimes, routing, 3 distributions, rescue at budget
    expect(await page.locator('figure svg .mark-symbol path, figure svg .mark-symbol').count()).toBeGreaterThan(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    const shot = join(process.env.RECOVERABILITY_SCREENSHOTS ?? tmpdir(), 'recoverability-report-1400.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    // Open every sample output, so the full text is in the page's text.
    await page.evaluate(() => document.querySelectorAll('td.out details').forEach((d: Element) => d.setAttribute('open', '')));
    const body = await page.locator('body').innerText();
    for (const p of PAYLOADS) expect(body).toContain(p); // shown as text, literally
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('table#failures img, table#failures script, table#error-rows img, table#error-rows script, iframe, object, video, input').count()).toBe(0);
    expect(await page.locator('table#error-rows tbody tr').count()).toBe(PAYLOADS.length);
    await page.close();
  });

  it('no chart, table or cell reaches outside its card, and the page does not scroll sideways', async () => {
    const { page } = await open(url);
    const overflow = await page.evaluate(() => {
      const out: string[] = [];
      for (const card of document.querySelectorAll('figure, .card')) {
        const box = card.getBoundingClientRect();
        for (const el of card.querySelectorAll('*')) {
          const b = el.getBoundingClientRect();
          if (b.width === 0 && b.height === 0) continue;
          if (b.right > box.right + 0.5 || b.left < box.left - 0.5) out.push(`${card.id || card.tagName}: <${el.tagName.toLowerCase()}> ${Math.round(b.left)}–${Math.round(b.right)} outside ${Math.round(box.left)}–${Math.round(box.right)}`);
        }
      }
      const table = document.querySelector('table#failures')!.getBoundingClientRect();
      for (const cell of document.querySelectorAll('table#failures td, table#failures th')) {
        const b = cell.getBoundingClientRect();
        if (b.right > table.right + 0.5) out.push(`failures cell ${Math.round(b.right)} > table ${Math.round(table.right)}`);
      }
      return { out, scroll: document.documentElement.scrollWidth, width: window.innerWidth };
    });
    expect(overflow.out).toEqual([]);
    expect(overflow.scroll).toBeLessThanOrEqual(overflow.width);
    // Sample outputs are one line each until opened.
    const heights = await page.locator('table#failures td.out').evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().height));
    const lineHeights = await page.locator('table#failures td.why').evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThanOrEqual(Math.max(...lineHeights));
    await page.close();
  });

  it('one colour per meaning: a regime or a route has one colour in every chart, and no colour means both', async () => {
    const { page } = await open(url);
    const marks = await page.locator('figure svg [aria-label]').evaluateAll((els) =>
      els.map((el) => ({ label: el.getAttribute('aria-label') ?? '', fill: el.getAttribute('fill') ?? el.getAttribute('stroke') ?? '' })),
    );
    const colours = { regime: new Map<string, Set<string>>(), route: new Map<string, Set<string>>() };
    for (const m of marks) {
      for (const kind of ['regime', 'route', 'operator'] as const) {
        const name = new RegExp(`(?:^|; )${kind}: ([a-z_]+)`).exec(m.label)?.[1];
        if (!name || !m.fill || m.fill === 'none' || m.fill === 'transparent') continue;
        const map = kind === 'regime' ? colours.regime : colours.route;
        (map.get(name) ?? map.set(name, new Set()).get(name)!).add(m.fill.toLowerCase());
      }
    }
    expect(colours.regime.size).toBeGreaterThanOrEqual(3);
    expect(colours.route.size).toBeGreaterThanOrEqual(3);
    for (const [name, set] of [...colours.regime, ...colours.route]) expect([name, [...set]]).toEqual([name, [expect.any(String)]]);
    for (const [name, set] of colours.regime) expect([...set][0]).toBe(REGIME_COLORS[name]!.toLowerCase());
    const regimeFills = new Set([...colours.regime.values()].flatMap((s) => [...s]));
    for (const [name, set] of colours.route) {
      expect(regimeFills.has([...set][0]!), `route ${name} shares a regime's colour`).toBe(false);
      if (ROUTE_COLORS[name]) expect([...set][0]).toBe(ROUTE_COLORS[name]!.toLowerCase());
    }
    await page.close();
  });

  it('says what it shows: interventions, clusters in z, which rows the routing panel leaves out, the scales, the budget\'s n and source', async () => {
    const { page } = await open(url);
    const routes = Object.keys(report.routing.counts);
    expect(await page.locator('#interventions tbody tr').count()).toBe(routes.length);
    expect(await page.locator('#interventions tbody').innerText()).toContain(routes[0]!);
    expect(await page.locator('#clusters thead').innerText()).toMatch(/z spread\s+z concentration\s+z logit dispersion/);
    const firstCluster = report.clusters[0]!;
    expect(await page.locator('#clusters tbody tr').first().innerText()).toContain(firstCluster.centroid_z.spread!.toFixed(2));
    expect(await page.locator('#chart-routing .caption').innerText()).toMatch(/^\d+ of \d+ rows with a failed rollout; left out: \d+ resample/);
    expect(await page.locator('#chart-hist-logit_dispersion .caption').innerText()).toMatch(/negative is normal/);
    expect(await page.locator('body').innerText()).toMatch(/log10 of the logit variance around the junction/);
    expect(await page.locator('#chart-budget .caption').innerText()).toBe(
      `Fresh eval-phase attempts of probe.csv.journal.jsonl: ${report.budget!.problems} probed problems, ${report.budget!.curves[0]!.units} failed rollouts per operator; rescue = share of failed rollouts with a success within the budget.`,
    );
    await page.close();
  });

  it('speaks measured truth: the probe\'s shares, the agreement against the majority class, the ceiling, the policy\'s candidates, each probed row\'s label', async () => {
    const { page } = await open(url);
    const m = report.measured!;
    expect(await page.locator('#route-source').innerText()).toMatch(/^Routes: the paper's rule, untested on this model\./);
    expect(await page.locator('#measured-shares tbody').innerText()).toContain(`${m.regime_shares.counts.steerable}`);
    const a = m.agreement!;
    expect(await page.locator('#balanced-accuracy').innerText()).toBe(
      `Balanced accuracy ${(100 * a.balanced_accuracy).toFixed(1)}% against ${(100 * a.majority.balanced_accuracy).toFixed(1)}% for the majority class (always ${a.majority.label}); accuracy ${(100 * a.accuracy).toFixed(1)}% against ${(100 * a.majority.accuracy).toFixed(1)}%.`,
    );
    const cells = await page.locator('#confusion tbody td').allInnerTexts();
    expect(cells.filter((_, i) => i % (Object.keys(a.confusion.resample).length + 1) !== Object.keys(a.confusion.resample).length).map(Number).reduce((s, x) => s + x, 0)).toBe(a.n);
    expect(await page.locator('#measured-shares').innerText()).toMatch(/Ceiling \(this probe\): on \d+ rows probed twice/);
    expect(await page.locator('#candidates tbody tr').count()).toBe(report.policy!.candidates.length);
    expect(await page.locator('#candidates tbody').innerText()).toMatch(/\d+\.\d% \[\d+\.\d%, \d+\.\d%\]/);
    expect(await page.locator('#candidates tbody').innerText()).toContain('(chosen)');
    const probed = report.rows.filter((r) => r.measured);
    expect(probed.length).toBe(m.probe.matched);
    const measuredCells = await page.locator('table#failures tbody tr td:nth-child(3)').allInnerTexts();
    expect(measuredCells.filter((t) => /^(resample|steerable|beyond_reach)/.test(t))).toHaveLength(probed.filter((r) => r.regime !== 'solved').length);
    await page.close();
  });

  it('without a probe it says the routes are the paper\'s untested rule, and shows no measured section', async () => {
    const { page, errors } = await open(plainUrl);
    expect(errors).toEqual([]);
    expect(await page.locator('#route-source').innerText()).toMatch(/^Routes: the paper's rule, untested on this model\. .*recoverability probe/);
    expect(await page.locator('#measured').count()).toBe(0);
    expect(await page.locator('figure svg').count()).toBe(5); // regimes, routing, 3 distributions
    await page.close();
  });

  it('sorts the failures table by a clicked column', async () => {
    const { page } = await open(url);
    const idx = (await page.locator('table#failures thead th').allInnerTexts()).indexOf('pass rate');
    const col = async () => page.locator(`table#failures tbody tr td:nth-child(${idx + 1})`).allInnerTexts();
    await page.locator(`th[data-col="${idx}"]`).click();
    const asc = (await col()).map((t) => Number.parseFloat(t));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.locator(`th[data-col="${idx}"]`).click();
    const desc = (await col()).map((t) => Number.parseFloat(t));
    expect(desc).toEqual([...asc].reverse());
    await page.close();
  });
});
