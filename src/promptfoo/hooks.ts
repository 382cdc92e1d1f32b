import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { renderMarkdown } from '../report/renderMarkdown.js';
import { reportInputsFromResults, rowVerdict } from '../report/reportInputs.js';
import { reportSummaryLine } from '../report/summaryLine.js';
import { METADATA_KEY } from './rolloutMetadata.js';

/**
 * afterEach: lifts the rollout assertion's verdict into the row's metadata — `regime`, `route`,
 * `route_reason` — so it shows in `-o out.json` and in `promptfoo view`. Row-local: the per-row
 * z-scale is the assertion's `reference` (the eval-wide analysis is afterAll's report).
 * promptfoo copies the provider's metadata into the row's; the rollouts stay once, under
 * `response.metadata`, so the database and the outputs do not carry them twice.
 */
export async function afterEach(context: { test?: unknown; result?: any }): Promise<{ result?: any }> {
  const result = context.result;
  const row = rowVerdict(result);
  if (row && result) {
    const { [METADATA_KEY]: copy, ...rest } = result.metadata ?? {};
    const kept = copy !== undefined && result.response?.metadata?.[METADATA_KEY] === undefined ? { [METADATA_KEY]: copy } : {};
    result.metadata = { ...rest, ...kept, regime: row.regime, route: row.route ?? 'none', route_reason: row.route_reason };
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
  const { inputs, errors, reference: referencePath } = reportInputsFromResults(results);
  if (inputs.length === 0 && errors.length === 0) {
    process.stderr.write('recoverability: no row was graded by gradeRollouts; no report written.\n');
    return;
  }
  const reference = referencePath ? { path: relative(process.cwd(), referencePath) || referencePath, scale: await loadReferenceScale(referencePath) } : null;
  const report = buildEvalReport(inputs, { evalId: context.evalId ?? null, reference, errors });
  addEvalMetrics(context.prompts ?? [], report);
  const dir = reportDir(context.config);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'recoverability.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, 'recoverability.md'), renderMarkdown(report));
  process.stderr.write(`recoverability: ${reportSummaryLine(report)}; report written to ${join(dir, 'recoverability.md')}\n`);
}

/**
 * Regime shares as eval-level metrics of each prompt, with the report's and the gate's
 * denominator: the share of that prompt's graded tests (solved ones included, not as a metric).
 */
function addEvalMetrics(prompts: any[], report: EvalReport): void {
  prompts.forEach((p, idx) => {
    const metrics = p?.metrics;
    if (!metrics) return;
    const rows = report.rows.filter((r) => r.prompt_idx === idx);
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

