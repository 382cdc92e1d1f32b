import type { ReportRowInput } from '../core/analysis/buildEvalReport.js';
import { answerDistribution } from '../core/blackbox/answerDistribution.js';
import { METADATA_KEY } from '../promptfoo/rolloutMetadata.js';
import { ROW_KEY, type RowRecoverability, RowRecoverabilitySchema } from '../promptfoo/rowRecoverability.js';


/** The gradeRollouts verdict of a promptfoo result, from its (component) grading results. */
export function rowVerdict(result: any): RowRecoverability | null {
  const components: any[] = result?.gradingResult?.componentResults ?? [];
  for (const c of [result?.gradingResult, ...components]) {
    const parsed = RowRecoverabilitySchema.safeParse(c?.metadata?.[ROW_KEY]);
    if (parsed.success) return parsed.data;
  }
  return null;
}

/**
 * Report rows from promptfoo results (the afterAll hook's `results`, or `results.results` of an
 * `-o out.json`): every row graded by gradeRollouts, with the reference path it used, if any.
 */
export function reportInputsFromResults(results: readonly unknown[]): { inputs: ReportRowInput[]; reference: string | null } {
  const inputs: ReportRowInput[] = [];
  let reference: string | null = null;
  for (const r of results as any[]) {
    const row = rowVerdict(r);
    if (!row) continue;
    reference ??= row.reference;
    // Only the failed rollouts' answers are needed: read them defensively rather than validating
    // every rollout summary (the hot path of a 100k-row report).
    const rollouts: unknown = (r?.response?.metadata?.[METADATA_KEY] ?? r?.metadata?.[METADATA_KEY])?.rollouts;
    const failedAnswers = Array.isArray(rollouts)
      ? rollouts.filter((_, i) => row.passed[i] === false).map((x) => (typeof x?.answer === 'string' ? x.answer : null))
      : [];
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
    });
  }
  return { inputs, reference };
}

function describeVars(vars: Record<string, unknown>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
