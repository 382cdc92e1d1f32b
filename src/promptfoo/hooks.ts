import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { buildEvalReport, type ReportRowInput } from '../core/analysis/buildEvalReport.js';
import { answerDistribution } from '../core/blackbox/answerDistribution.js';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { renderMarkdown } from '../report/renderMarkdown.js';
import { METADATA_KEY, RolloutMetadataSchema } from './rolloutMetadata.js';
import { ROW_KEY, type RowRecoverability, RowRecoverabilitySchema } from './rowRecoverability.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- promptfoo's hook contexts are loosely typed plain data */

/** The gradeRollouts verdict of a result, from its component grading results. */
function rowOf(result: any): RowRecoverability | null {
  const components: any[] = result?.gradingResult?.componentResults ?? [];
  for (const c of [result?.gradingResult, ...components]) {
    const raw = c?.metadata?.[ROW_KEY];
    if (raw) {
      const parsed = RowRecoverabilitySchema.safeParse(raw);
      if (parsed.success) return parsed.data;
    }
  }
  return null;
}

/**
 * afterEach: lifts the rollout assertion's verdict into the row's metadata — `regime`, `route`,
 * `route_reason` — so it shows in `-o out.json` and in `promptfoo view`. Row-local: the per-row
 * z-scale is the assertion's `reference` (the eval-wide analysis is afterAll's report).
 */
export async function afterEach(context: { test?: unknown; result?: any }): Promise<{ result?: any }> {
  const result = context.result;
  const row = rowOf(result);
  if (row && result) {
    result.metadata = { ...(result.metadata ?? {}), regime: row.regime, route: row.route ?? 'none', route_reason: row.route_reason };
  }
  return context;
}

/**
 * afterAll: the eval-wide recoverability analysis over every row — z-scores over this eval's
 * failures (or the reference), k-means clusters, routes, regime shares — written as
 * recoverability.json and recoverability.md next to the output (-o), or in the working
 * directory; regime shares are added to each prompt's eval-level metrics.
 */
export async function afterAll(context: { results?: any[]; prompts?: any[]; evalId?: string; config?: any; suite?: any }): Promise<void> {
  const results = context.results ?? [];
  if (results.length === 0) {
    process.stderr.write(
      'recoverability: promptfoo passed no results to the afterAll hook (this happens with --no-write or writeLatestResults: false); no report written.\n',
    );
    return;
  }
  const inputs: (ReportRowInput & { reference: string | null })[] = [];
  for (const r of results) {
    const row = rowOf(r);
    if (!row) continue;
    const meta = RolloutMetadataSchema.safeParse(r?.response?.metadata?.[METADATA_KEY] ?? r?.metadata?.[METADATA_KEY]);
    const failedAnswers = meta.success ? meta.data.rollouts.filter((_, i) => row.passed[i] === false).map((x) => x.answer) : [];
    const dist = answerDistribution(failedAnswers);
    inputs.push({
      test_idx: r.testIdx ?? 0,
      prompt_idx: r.promptIdx ?? 0,
      repeat: r.repeatIndex ?? 0,
      description: r.testCase?.description ?? describeVars(r.vars ?? r.testCase?.vars ?? {}),
      provider: r.provider?.label ?? r.provider?.id ?? '',
      n_rollouts: row.n_rollouts,
      n_passed: row.n_passed,
      features: row.features,
      answer_entropy: failedAnswers.length > 0 ? dist.entropy : null,
      wrong_mode_share: failedAnswers.length > 0 ? dist.topShare : null,
      unavailable: row.unavailable,
      sample_output: typeof r.response?.output === 'string' ? r.response.output.slice(0, 2000) : '',
      reference: row.reference,
    });
  }
  if (inputs.length === 0) {
    process.stderr.write('recoverability: no row was graded by gradeRollouts; no report written.\n');
    return;
  }
  const referencePath = inputs.find((i) => i.reference)?.reference ?? null;
  const reference = referencePath ? { path: relative(process.cwd(), referencePath) || referencePath, scale: await loadReferenceScale(referencePath) } : null;
  const report = buildEvalReport(inputs, { evalId: context.evalId ?? null, reference });
  addEvalMetrics(context.prompts ?? [], report);
  const dir = reportDir(context.config);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'recoverability.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, 'recoverability.md'), renderMarkdown(report));
  process.stderr.write(`recoverability: ${report.totals.failures} failing rows of ${report.totals.rows}; report written to ${join(dir, 'recoverability.md')}\n`);
}

/** Regime shares (among each prompt's failing rows) as eval-level metrics of that prompt. */
function addEvalMetrics(prompts: any[], report: EvalReport): void {
  prompts.forEach((p, idx) => {
    const metrics = p?.metrics;
    if (!metrics) return;
    const rows = report.rows.filter((r) => r.prompt_idx === idx && r.regime !== 'solved');
    metrics.namedScores ??= {};
    metrics.namedScoresCount ??= {};
    for (const g of PROSPECTIVE_REGIMES) {
      if (g === 'solved') continue;
      const key = `share_${g}`;
      metrics.namedScores[key] = rows.length > 0 ? rows.filter((r) => r.regime === g).length / rows.length : 0;
      metrics.namedScoresCount[key] = 1;
    }
  });
}

function reportDir(config: any): string {
  const out = config?.outputPath;
  const first = Array.isArray(out) ? out[0] : out;
  return typeof first === 'string' && first.length > 0 ? dirname(resolve(first)) : process.cwd();
}

function describeVars(vars: Record<string, unknown>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
