import type { EvalReport } from '../contracts/evalReport.js';
import { kmeansRegimes } from '../regimes/kmeansRegimes.js';
import { buildEvalReportWith, type EvalReportOptions, type ReportRowInput } from './buildEvalReportWith.js';

export * from './buildEvalReportWith.js';

/** buildEvalReportWith, clustering the failures with k-means (kmeansRegimes) unless `clusters` is false. */
export function buildEvalReport(input: readonly ReportRowInput[], options: EvalReportOptions = {}): EvalReport {
  return buildEvalReportWith(options.clusters === false ? null : kmeansRegimes, input, options);
}
