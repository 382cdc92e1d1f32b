import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMeasurements, buildEvalReport, type ReportRowInput } from '../../src/core/index.js';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { population, uniformRates } from '../policy/population.js';
import { plantedJournal, plantedProbe } from './probeFixture.js';
import { compareEvals, GatePolicySchema } from '../../src/core/index.js';
import { writeReportJson } from '../../src/io/writeReportJson.js';
import { mdText } from '../../src/report/markdownText.js';
import { renderGateMarkdown } from '../../src/report/renderGate.js';
import { renderMarkdown } from '../../src/report/renderMarkdown.js';
import { reportSummaryLine } from '../../src/report/summaryLine.js';
import { terminalSafe } from '../../src/report/terminalText.js';

/** Payloads that reach a PR comment from test data, model output and endpoint errors. */
export const MD_PAYLOADS = [
  '@everyone please look',
  'cc @org/security-team',
  '![tracker](https://evil.example/pixel.png)',
  '[click me](javascript:alert(1))',
  '<javascript:alert(1)>',
  '<img src=x onerror=alert(1)>',
  '<details open><summary>x</summary>',
  'path`<img src=x onerror=alert(2)>`.csv',
  '$\\huge{\\text{HUGE}}$',
  '# a heading',
  '| a | table | cell |',
  'see https://evil.example and www.evil.example',
  'fixes #123 and org/repo#7',
  '**bold** _em_ ~~strike~~',
  '&lt;script&gt; &#64;everyone',
];

/** Undoes mdText's escaping: what a GFM renderer would show as text (zero-width spaces aside). */
const shown = (md: string) => md.replace(/&#8203;/g, '').replace(/\\(.)/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** Characters that start a Markdown or HTML construct, unescaped (not preceded by an odd run of backslashes). */
const unescaped = (md: string, chars: string) => [...md.matchAll(/(\\*)(.)/g)].some((m) => m[1]!.length % 2 === 0 && chars.includes(m[2]!));

describe('mdText: untrusted text renders as itself in GitHub-flavoured Markdown', () => {
  it.each(MD_PAYLOADS)('%s', (payload) => {
    const md = mdText(payload);
    expect(unescaped(md, '`*_~[]|$<>')).toBe(false);
    expect(md).not.toMatch(/@(?!&#8203;)/); // no mention, no e-mail autolink
    expect(md).not.toMatch(/:\/\//); // no autolinked URL
    expect(md).not.toMatch(/(?<!&)#\d/); // no issue reference
    expect(md).not.toMatch(/^[#>+\-=]/); // no heading, quote or list when it opens a line
    expect(md).not.toMatch(/[<>]/);
    expect(shown(md)).toBe(payload.replace(/\s+/g, ' ').trim());
  });

  it('any text (property): one line, nothing unescaped, and it shows exactly as given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const md = mdText(s);
        expect(md).not.toMatch(/[\n\r]/);
        expect(unescaped(md, '`*_~[]|$<>')).toBe(false);
        expect(md).not.toMatch(/@(?!&#8203;)/);
        expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        expect(shown(md)).toBe(terminalSafe(s).replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 500 },
    );
  });

  it('shortens before escaping, so an escape is never cut in half', () => {
    expect(mdText('a'.repeat(10) + '<<<<', 12)).toBe('aaaaaaaaaa&lt;…');
    expect(mdText('<<<<<<<<', 4)).toBe('&lt;&lt;&lt;…');
  });
});

describe('terminalSafe', () => {
  it('shows escape sequences, carriage returns and bidi overrides instead of running them; keeps lines and tabs', () => {
    expect(terminalSafe('cell\x1b[2J\x1b]0;title\x07')).toBe('cell\\x1b[2J\\x1b]0;title\\x07');
    expect(terminalSafe('ok\rFAKE')).toBe('ok\\x0dFAKE');
    expect(terminalSafe('a\u202eb\u009bc')).toBe('a\\u202eb\\x9bc');
    expect(terminalSafe('line 1\n\tline 2')).toBe('line 1\n\tline 2');
  });
});

const row = (i: number, passed: number, text: string, f: [number, number, number] | null = [0.2 + i / 10, 1, -1]): ReportRowInput => ({
  test_idx: i, prompt_idx: 0, repeat: 0, description: text, test_key: `k${i}`, provider: 'p', n_rollouts: 8, n_passed: passed, row_passed: passed >= 4,
  features: f && { spread: f[0], concentration: f[1], logit_dispersion: f[2] }, answer_entropy: null, wrong_mode_share: null, unavailable: [text], sample_output: text,
});

describe('report and gate Markdown are safe to post', () => {
  const rows = MD_PAYLOADS.map((p, i) => row(i, i % 3, p));
  const errors = MD_PAYLOADS.slice(0, 4).map((p, i) => ({ test_idx: 100 + i, prompt_idx: 0, test_key: `e${i}`, description: p, provider: 'p', kind: 'EndpointHttpError', message: `HTTP 500: ${p}` }));
  const report = buildEvalReport(rows, { errors, reference: { path: 'ref/`<img src=x onerror=alert(3)>`@everyone.csv', scale: { n: 3, mean: { spread: 0, concentration: 0, logit_dispersion: 0 }, sd: { spread: 1, concentration: 1, logit_dispersion: 1 } } } });

  const checkDocument = (md: string) => {
    for (const line of md.split('\n')) {
      // Our own tables and emphasis are fine; what came from the data must not open a construct.
      const bare = line.replace(/\\./g, ''); // escaped characters are text
      expect(bare).not.toMatch(/<(img|script|details|summary|svg)/i);
      expect(bare).not.toMatch(/@(?!&#8203;)[A-Za-z]/);
      expect(bare).not.toMatch(/!\[|\]\(|<javascript:/);
      expect(bare).not.toMatch(/https?:\/\//);
      expect(bare).not.toMatch(/\$/);
    }
  };

  it('the report', () => {
    const md = renderMarkdown(report);
    checkDocument(md);
    expect(md).toContain('reference ref/\\`&lt;img src=x onerror=alert(3)&gt;\\`@&#8203;everyone.csv');
    expect(md).toMatch(/## Error rows\n\n4 rows errored and were not graded:/);
    expect(md).toMatch(/\| EndpointHttpError \| 4 \|/);
  });

  it('the report with what was measured: probe, policy and journal paths from the user are inert; the routes\' source leads', () => {
    const payload = '`<img src=x onerror=alert(4)>`@everyone [x](javascript:alert(5)) https://evil.example $x$';
    const failing = report.rows.filter((r) => r.n_passed < r.n_rollouts).map((r) => ({ ...r, ...r.features!, spread: Math.min(1, r.features!.spread!), ancestor_pass_rate: 0.5 }));
    const records = plantedProbe(failing, { reprobeEvery: 2 });
    const policy = calibratePolicy(population({ rows: 60, seed: 3, rescue: () => ({ label: { ...uniformRates(0.05), dense_steer: 0.6 } }) }), { path: `probe ${payload}.csv`, sha256: 'x' }, { resamples: 100 });
    const journal = plantedJournal(records, {}).trim().split('\n').slice(1).map((l) => JSON.parse(l));
    const measured = addMeasurements(report, {
      probe: { path: `probe ${payload}.csv`, format: 'probe-csv', records, notes: [`note ${payload}`] },
      policy: { path: `policy ${payload}.json`, policy },
      journal: { path: `journal ${payload}.jsonl`, settings: null, entries: journal },
      notes: [`looked for ${payload}`],
    });
    const md = renderMarkdown(measured);
    checkDocument(md);
    expect(md.split('\n')[4]).toMatch(/^\*\*Routes: the paper's rule, untested on this model\.\*\* /);
    for (const h of ['## Measured on this model (rescue probe)', '### Estimate vs measurement', '## The learned policy against every alternative', '## Rescue at budget on this model', '## Measurements not used']) expect(md).toContain(h);
    expect(md).toMatch(/Balanced accuracy \d+\.\d% against \d+\.\d% for the majority class \(always [a-z_]+\)/);
    expect(md).toMatch(/\| learned policy( \(chosen\))? \| \d+\.\d% \[\d+\.\d%, \d+\.\d%\] \|/);
    expect(md).toContain('| test | regime → route | measured | why |');
  });

  it('the gate', () => {
    const shifted = buildEvalReport(rows.map((r, i) => ({ ...r, n_passed: 0, test_key: i % 2 ? r.test_key : `other${i}` })), { errors });
    const md = renderGateMarkdown(compareEvals(report, shifted, GatePolicySchema.parse({ permutations: 19 })));
    checkDocument(md);
    expect(md).toContain('> - baseline only: \\#&#8203;1 @&#8203;everyone please look');
    expect(md).toContain('> 4 tests errored in an eval and were not compared (4 EndpointHttpError).');
  });
});

describe('one set of numbers, each named', () => {
  it('the summary line names each quantity with its denominator', () => {
    const r = buildEvalReport([row(0, 8, 'a', null), row(1, 2, 'b'), row(2, 0, 'c'), row(3, 5, 'd')], {
      errors: [{ test_idx: 4, prompt_idx: 0, description: 'e', provider: 'p', kind: 'EndpointTimeoutError', message: 'x' }],
    });
    // rollout pass rate = mean over rows of passed/8 = (1 + 0.25 + 0 + 0.625) / 4
    expect(reportSummaryLine(r)).toBe(
      '4 rows graded (promptfoo: 2 passed, 2 failed; 1 error row: 1 EndpointTimeoutError) · rollout pass rate 46.9% (mean over rows) · 3 rows with a failed rollout · share of tests: ' +
        Object.entries(r.regimes.share_of_tests).filter(([g, x]) => g !== 'solved' && x > 0).map(([g, x]) => `${g} ${(100 * x).toFixed(1)}%`).join(', '),
    );
    expect(r.totals.rollout_pass_rate).toBe((1 + 0.25 + 0 + 0.625) / 4);
    expect(r.regimes.share_of_tests.solved).toBe(0.25);
  });
});

describe('recoverability.json is written in chunks of rows', () => {
  it('parses back to the report: the summary pretty-printed, one compact row per line', async () => {
    const r = buildEvalReport(MD_PAYLOADS.map((p, i) => row(i, i % 4, p)));
    const path = join(mkdtempSync(join(tmpdir(), 'recov-json-')), 'recoverability.json');
    await writeReportJson(path, r);
    const text = readFileSync(path, 'utf8');
    expect(JSON.parse(text)).toEqual(r);
    expect(text.split('\n').filter((l) => l.startsWith('    {"key":'))).toHaveLength(r.rows.length);
    const empty = buildEvalReport([]);
    await writeReportJson(path, empty);
    expect(readFileSync(path, 'utf8')).toBe(JSON.stringify(empty, null, 2) + '\n');
  });
});
