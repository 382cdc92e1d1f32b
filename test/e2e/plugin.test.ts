import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalReportSchema } from '../../src/core/index.js';
import { runPromptfoo } from '../helpers/promptfoo.js';
import { startServeSim } from '../helpers/simServerProcess.js';

const outDir = () => mkdtempSync(join(tmpdir(), 'recov-e2e-'));
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** promptfoo's CSV output as rows of cells (csv-parse, as the package reads CSV). */
const parseCsv = (text: string): string[][] => parse(text, { relaxColumnCount: true }) as string[][];

describe('root promptfooconfig.yaml (offline, the embedded real lineage)', () => {
  const dir = outDir();
  let json: any;
  let csv: string[][];
  beforeAll(() => {
    const r = runPromptfoo(['eval', '-c', 'promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'out.json'), '-o', join(dir, 'out.csv')]);
    // Exit code 100 = some tests failed (expected: the specialist fails real problems).
    expect([0, 100], r.stderr).toContain(r.code);
    json = readJson(join(dir, 'out.json'));
    csv = parseCsv(readFileSync(join(dir, 'out.csv'), 'utf8'));
  });

  it('runs 40 problems with 12 rollouts each on the real lineage, and no errors', () => {
    const rows = json.results.results;
    expect(rows).toHaveLength(40);
    expect(json.results.stats.errors).toBe(0);
    for (const r of rows) {
      const meta = r.response.metadata.recoverability;
      expect(meta.rollouts).toHaveLength(12);
      // The row names the models it ran on: the embedded lineage, not the simulator.
      expect(meta.specialist).toBe('arith-specialist');
      expect(meta.ancestor).toBe('arith-ancestor');
      expect(meta.models.specialist).toEqual({ type: 'lineage' });
      expect(meta.ancestor_rollouts).toHaveLength(4);
      // The exact prompt in the card's format, newline included (written in the prompt template).
      expect(meta.prompt).toBe(`Q: ${r.vars.expression}=\n`);
    }
  });

  it('JSON rows carry the recoverability columns with sane values', () => {
    const rows = json.results.results;
    for (const r of rows) {
      const s = r.namedScores;
      expect(s.pass_rate).toBeGreaterThanOrEqual(0);
      expect(s.pass_rate).toBeLessThanOrEqual(1);
      expect(s.pass_at_10).toBeGreaterThanOrEqual(s.pass_rate - 1e-12);
      expect(['solved', 'resample', 'steerable', 'beyond_reach', 'retry_insufficient']).toContain(r.metadata.regime);
      expect(typeof r.metadata.route_reason).toBe('string');
      if (s.pass_rate < 1) {
        expect(s.spread).toBeGreaterThanOrEqual(0);
        expect(s.spread).toBeLessThanOrEqual(1);
        // On the reference population's scale (percentiles), since the config names a reference.
        for (const f of ['concentration_pctl', 'logit_dispersion_pctl']) expect(s[f]).toBeGreaterThanOrEqual(0), expect(s[f]).toBeLessThanOrEqual(1);
      }
      // The metadata is compact: no per-token steps or top-K id arrays in promptfoo's database.
      expect(JSON.stringify(r.response.metadata)).not.toMatch(/"steps"|"ids"|"top_logprobs"/);
    }
    // Failing rows are routed by the measured policy (examples/lineage/policy.json), with its precision.
    const failing = rows.filter((r: any) => r.namedScores.pass_rate < 1);
    expect(failing.length).toBeGreaterThan(10);
    for (const r of failing) {
      expect(r.metadata.route_source).toBe('policy');
      expect(r.namedScores.regime_precision).toBeGreaterThan(0);
      expect(r.metadata.route_reason).toMatch(/^\w+ \(precision 0\.\d+ on \d+ probed rows\) → \w+: /);
      expect(r.gradingResult.componentResults[0].reason).toMatch(/^\w+ → \w+ \(learned policy, precision \d+% on \d+ probed rows\) · /);
    }
    const regimes = new Set(failing.map((r: any) => r.metadata.regime));
    for (const g of ['resample', 'steerable', 'beyond_reach']) expect(regimes.has(g), g).toBe(true);
    expect(new Set(failing.map((r: any) => r.metadata.route)).size).toBeGreaterThanOrEqual(2);
  });

  it('the row pass/fail follows the pass rate and threshold', () => {
    for (const r of json.results.results) expect(r.success).toBe(r.namedScores.pass_rate >= 0.5);
  });

  it('CSV has Metric: columns for the numeric ones', () => {
    const head = csv[0]!;
    for (const m of ['pass_rate', 'pass_at_10', 'ancestor_pass_rate', 'spread', 'concentration_pctl', 'logit_dispersion_pctl', 'regime_steerable', 'regime_precision', 'route_retry', 'rescued']) {
      expect(head).toContain(`Metric: ${m}`);
    }
    const col = head.indexOf('Metric: pass_rate');
    const values = csv.slice(1).filter((r) => r.length === head.length).map((r) => Number(r[col]));
    expect(values).toHaveLength(40);
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('regime shares are the header of the regime columns and the report is written next to the output', () => {
    const metrics = json.results.prompts[0].metrics;
    const share = (k: string) => (metrics.namedScores[k] ?? 0) / (metrics.namedScoreWeights[k] ?? 1);
    const report = EvalReportSchema.parse(readJson(join(dir, 'recoverability.json')));
    expect(report.totals.rows).toBe(40);
    expect(report.scale_source).toBe('reference');
    // One denominator everywhere: shares of tests, as in the report's share_of_tests and the gate.
    const solved = report.regimes.counts.solved / report.totals.rows;
    const shares = ['regime_resample', 'regime_steerable', 'regime_beyond_reach', 'regime_retry_insufficient'].map(share);
    expect(shares.reduce((a: number, b: number) => a + b, 0) + solved).toBeCloseTo(1, 9);
    for (const g of ['resample', 'steerable', 'beyond_reach'] as const) expect(share(`regime_${g}`)).toBeCloseTo(report.regimes.share_of_tests[g], 9);
    // Row columns and the report agree (same reference scale).
    for (const row of report.rows) {
      const r = json.results.results.find((x: any) => x.testIdx === row.test_idx);
      expect(r.metadata.regime).toBe(row.regime);
    }
    expect(readFileSync(join(dir, 'recoverability.md'), 'utf8')).toMatch(/# Recoverability report[\s\S]*## Regimes among failures/);
    // The specialist forgot short chains and has not mastered long ones: failures in each group.
    const failing = report.rows.filter((r) => r.n_passed < r.n_rollouts).map((r) => r.description);
    for (const steps of [2, 4, 5]) expect(failing.some((d) => d.startsWith(`${steps} steps:`)), `${steps}-step failures`).toBe(true);
  });
});

describe('the vLLM example against serve-sim over HTTP', () => {
  let sim: Awaited<ReturnType<typeof startServeSim>>;
  beforeAll(async () => {
    sim = await startServeSim(['--seed', '0']);
  });
  afterAll(() => sim.stop());

  it('captures rollouts with ancestor scores over HTTP and fills JSON and CSV', () => {
    const dir = outDir();
    const r = runPromptfoo(['eval', '-c', 'examples/vllm/promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'out.json'), '-o', join(dir, 'out.csv')], { VLLM_BASE_URL: sim.url });
    expect([0, 100], r.stderr).toContain(r.code);
    const out = readJson(join(dir, 'out.json'));
    expect(out.results.stats.errors).toBe(0);
    const rows = out.results.results;
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row.response.error ?? null).toBeNull();
      const meta = row.response.metadata.recoverability;
      expect(meta.capabilities).toEqual({ logprobs: true, ancestor: true });
      expect(meta.rollouts).toHaveLength(8);
      // One sampling request, one ancestor prefill per rollout, one request for the ancestor's own samples.
      expect(row.response.tokenUsage.numRequests).toBe(1 + 8 + 1);
      expect(row.response.metadata.recoverability.ancestor_rollouts).toHaveLength(4);
      // The assertion grades the ancestor's samples with the test's own grader (numeric, var answer).
      const ancestorPass = meta.ancestor_rollouts.filter((a: any) => Number(a.answer) === Number(row.vars.answer)).length / 4;
      expect(row.namedScores.ancestor_pass_rate).toBe(ancestorPass);
    }
    expect(rows.some((x: any) => x.namedScores.spread !== undefined)).toBe(true);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8').split('\n')[0]).toContain('Metric: logit_dispersion_log10'); // no reference: its unit in its name
    expect(existsSync('examples/vllm/traces.jsonl')).toBe(true);
    execFileSync('rm', ['-f', 'examples/vllm/traces.jsonl']);
  });

  it('black-box: promptfoo\'s own OpenAI provider as specialist, clearly degraded', () => {
    const dir = outDir();
    const r = runPromptfoo(['eval', '-c', 'examples/blackbox-openai/promptfooconfig.yaml', '--no-progress-bar', '-o', join(dir, 'out.json')], {
      OPENAI_BASE_URL: sim.url,
      OPENAI_API_KEY: 'not-needed',
      OPENAI_MODEL: 'sim-specialist',
    });
    expect([0, 100], r.stderr).toContain(r.code);
    const rows = readJson(join(dir, 'out.json')).results.results;
    for (const row of rows) {
      const meta = row.response.metadata.recoverability;
      expect(meta.capabilities).toEqual({ logprobs: false, ancestor: false });
      expect(meta.unavailable.join(' ')).toMatch(/black-box \(no top-K log-probs\)/);
      expect(row.namedScores.spread).toBeUndefined();
      expect(row.namedScores.pass_rate).toBeGreaterThanOrEqual(0);
      expect(['solved', 'resample', 'retry_insufficient']).toContain(row.metadata.regime);
    }
    // Six calls per test, and they really are six samples (not one cached answer).
    expect(rows.some((row: any) => new Set(row.response.metadata.recoverability.rollouts.map((x: any) => x.text)).size > 1)).toBe(true);
  });
  // examples/add-to-existing (a config for a project that installed the package) is evaluated in a
  // scratch project by test/e2e/install.test.ts, after `recoverability init` writes it.
});

describe('plugin edge cases through the CLI', () => {
  it('--no-write: the hook says plainly that it got no results', () => {
    const r = runPromptfoo(['eval', '-c', 'promptfooconfig.yaml', '--no-progress-bar', '--no-write']);
    expect(r.stderr + r.stdout).toMatch(/recoverability: promptfoo passed no results to the afterAll hook \(this happens with --no-write/);
  });

  it('a malformed provider config fails with the field named', () => {
    // Inside the package, so package: references resolve as they do for users.
    const cfg = `tmp-bad-${process.pid}.yaml`;
    execFileSync('sh', ['-c', `sed 's/samples: 12/samples: -3/' promptfooconfig.yaml > ${cfg}`]);
    try {
      const r = runPromptfoo(['eval', '-c', cfg, '--no-progress-bar']);
      expect(r.code).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(/RolloutProvider config is invalid:[\s\S]*at samples: Too small/);
    } finally {
      execFileSync('rm', ['-f', cfg]);
    }
  });
});
