import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { addMeasurements } from '../core/analysis/addMeasurements.js';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { loadMeasurements, rowNames } from '../io/loadMeasurements.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { fixHeaderMetrics } from '../report/headerMetrics.js';
import { renderMarkdown } from '../report/renderMarkdown.js';
import { rawVerdict, reportInputsFromResults, rowVerdict } from '../report/reportInputs.js';
import { reportSummaryLine } from '../report/summaryLine.js';
import { METADATA_KEY } from './rolloutMetadata.js';
import { ROW_KEY } from './rowRecoverability.js';

/**
 * afterEach: lifts the rollout assertion's verdict into the row's metadata — `regime`, `route`,
 * `route_reason`, `route_source` — so it shows in `-o out.json` and in the row's Metadata tab of
 * `promptfoo view`. Row-local: the per-row z-scale is the assertion's `reference` (the eval-wide
 * analysis is afterAll's report). promptfoo copies the provider's metadata into the row's; the
 * rollouts stay once, under `response.metadata`, so the database and the outputs do not carry
 * them twice.
 */
export async function afterEach(context: { test?: unknown; result?: any }): Promise<{ result?: any }> {
  const result = context.result;
  const row = rowVerdict(result);
  if (row && result) {
    const { [METADATA_KEY]: copy, ...rest } = result.metadata ?? {};
    const kept = copy !== undefined && result.response?.metadata?.[METADATA_KEY] === undefined ? { [METADATA_KEY]: copy } : {};
    result.metadata = { ...rest, ...kept, regime: row.regime, route: row.route ?? 'none', route_reason: row.route_reason, route_source: row.route_source };
  }
  return context;
}

/**
 * afterAll: the eval-wide recoverability analysis over every row — z-scores over this eval's
 * failures (or the reference), k-means clusters, routes, regime shares; with the learned policy
 * the rows were routed by, what was measured (the policy's evidence, the probe it records and
 * that probe's journal) — written as recoverability.json and recoverability.md next to the output
 * (-o), or in the working directory. It also makes `promptfoo view`'s column header read right
 * (headerMetrics: shares as percentages, regime and route indicators as shares of graded rows,
 * other numbers as plain means). Anything it cannot read is said, never fatal to the eval.
 */
export async function afterAll(context: { results?: any[]; prompts?: any[]; evalId?: string; config?: any; suite?: any }): Promise<void> {
  const results = context.results ?? [];
  if (results.length === 0) {
    process.stderr.write(
      'recoverability: promptfoo passed no results to the afterAll hook (this happens with --no-write or writeLatestResults: false); no report written.\n',
    );
    return;
  }
  const { inputs, errors, reference: referencePath } = reportInputsFromResults(results);
  if (inputs.length === 0 && errors.length === 0) {
    process.stderr.write('recoverability: no row was graded by gradeRollouts; no report written.\n');
    return;
  }
  fixViewHeader(context.prompts ?? [], results);
  const reference = referencePath ? { path: relative(process.cwd(), referencePath) || referencePath, scale: await loadReferenceScale(referencePath) } : null;
  let report: EvalReport = buildEvalReport(inputs, { evalId: context.evalId ?? null, reference, errors, verdictEstimates: true });
  const policies = [...new Set(inputs.flatMap((r) => (r.estimate?.policy ? [r.estimate.policy] : [])))];
  if (policies.length === 1) {
    const measurements = await loadMeasurements({ policy: policies[0]! }, { rows: rowNames(report.rows), strict: false }).catch((err: Error) => ({
      notes: [`the policy's measurements could not be read: ${err.message}`],
    }));
    report = addMeasurements(report, measurements);
  }
  const dir = reportDir(context.config);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'recoverability.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, 'recoverability.md'), renderMarkdown(report));
  const measured = report.measured ? `; measured on ${report.measured.probe.matched} probed rows` : '';
  process.stderr.write(`recoverability: ${reportSummaryLine(report)}${measured}; report written to ${join(dir, 'recoverability.md')}\n`);
}

/**
 * The view's column header, per prompt (headerMetrics.ts): our columns are those the
 * gradeRollouts component of each row wrote (its own namedScores, prefix included); the
 * denominator of the regime and route indicators is the prompt's graded rows.
 */
function fixViewHeader(prompts: any[], results: readonly any[]): void {
  prompts.forEach((p, idx) => {
    const metrics = p?.metrics;
    if (!metrics) return;
    const ours = new Set<string>();
    let graded = 0;
    let prefix: string | null = null;
    for (const r of results) {
      if ((r?.promptIdx ?? 0) !== idx || rawVerdict(r) === undefined) continue;
      graded++;
      const component = [r?.gradingResult, ...(r?.gradingResult?.componentResults ?? [])].find((c) => c?.metadata?.[ROW_KEY] !== undefined);
      const config = component?.assertion?.config;
      prefix ??= typeof config?.prefix === 'string' ? config.prefix : '';
      for (const k of Object.keys(component?.namedScores ?? r?.namedScores ?? {})) ours.add(k.slice((prefix ?? '').length));
    }
    if (graded === 0) return;
    fixHeaderMetrics(metrics, { gradedRows: graded, ours, prefix: prefix ?? '' });
  });
}

function reportDir(config: any): string {
  const out = config?.outputPath;
  const first = Array.isArray(out) ? out[0] : out;
  return typeof first === 'string' && first.length > 0 ? dirname(resolve(first)) : process.cwd();
}
