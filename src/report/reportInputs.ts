import { z } from 'zod';
import { answerDistribution } from '../core/blackbox/answerDistribution.js';
import { FeaturesSchema } from '../core/contracts/problemRecord.js';
import { PROSPECTIVE_REGIMES } from '../core/regimes/prospectiveRegime.js';
import { formatPath } from '../core/contracts/validate.js';
import { METADATA_KEY } from '../promptfoo/rolloutMetadata.js';
import type { ErrorRowInput, ReportRowInput, RowEstimate } from '../core/analysis/buildEvalReport.js';
import { ROW_KEY, type RowRecoverability, RowRecoverabilitySchema } from '../promptfoo/rowRecoverability.js';
import { reportVerdictFast } from './reportVerdictFast.js';
import { testKey, testLabel, type TestCaseLike } from './testIdentity.js';

/** The gradeRollouts verdict of a promptfoo result (for the afterEach hook), or null. */
export function rowVerdict(result: any): RowRecoverability | null {
  const parsed = RowRecoverabilitySchema.safeParse(rawVerdict(result));
  return parsed.success ? parsed.data : null;
}

/** The raw verdict object stored by gradeRollouts in a result's (component) grading metadata, if any. */
export function rawVerdict(result: any): unknown {
  const components: any[] = result?.gradingResult?.componentResults ?? [];
  for (const c of [result?.gradingResult, ...components]) {
    const v = c?.metadata?.[ROW_KEY];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/**
 * What the report reads from a row's verdict. `answer_entropy` and `wrong_mode_share` (over the
 * failed rollouts) and `row_key` are the slim fields a newer assertion stores so the reader need
 * not touch the rollout metadata; without them they are computed from the rollouts' answers and
 * `passed`, and the row key read from the metadata.
 */
export const ReportVerdictSchema = z
  .object({
    n_rollouts: z.number().int().nonnegative(),
    n_passed: z.number().int().nonnegative(),
    features: FeaturesSchema.nullable(),
    passed: z.array(z.boolean()).optional(),
    unavailable: z.array(z.string()).default([]),
    reference: z.string().nullable().default(null),
    answer_entropy: z.number().nullable().optional(),
    wrong_mode_share: z.number().nullable().optional(),
    /** The assertion's own estimate: kept by the report for rows a learned policy routed. */
    regime: z.enum(PROSPECTIVE_REGIMES).optional(),
    route: z.string().nullable().optional(),
    route_reason: z.string().optional(),
    route_source: z.enum(['policy', 'paper_rule']).optional(),
    precision: z.number().min(0).max(1).nullable().optional(),
    policy: z.string().nullable().optional(),
    /** Of the row's signals the report reads only the ancestor's pass rate (the others are not checked here). */
    signals: z.object({ ancestor_pass_rate: z.number().min(0).max(1).nullable().optional() }).nullable().optional(),
    ancestor_passed: z.array(z.boolean()).nullable().optional(),
    /** The RolloutProvider's row key, in verdicts that record it (else it is read from the rollout metadata). */
    row_key: z.string().nullable().optional(),
  })
  .refine((v) => v.n_passed <= v.n_rollouts, { message: 'n_passed cannot exceed n_rollouts (the output was edited or corrupted: rerun the eval)', path: ['n_passed'] })
  .refine((v) => v.passed === undefined || (v.passed.length === v.n_rollouts && v.passed.filter(Boolean).length === v.n_passed), {
    message: 'passed[] must list n_rollouts verdicts, n_passed of them true (the output was edited or corrupted: rerun the eval)',
    path: ['passed'],
  });
export type ReportVerdict = z.output<typeof ReportVerdictSchema>;

/** A verdict that does not match its contract: bad input, named by where it is and which field. */
export class VerdictError extends Error {
  override readonly name = 'VerdictError';
}

/** Distinct estimates read so far, by their `why`: a policy gives few, so rows share them. */
const estimates = new Map<string, RowEstimate[]>();

/**
 * The estimate equal to `e` read before, else `e` (kept for the next rows): rows share one object
 * per distinct estimate, which keeps 100k rows small and quick to pass between reader threads.
 * Estimates are never modified after reading.
 */
function sharedEstimate(e: RowEstimate): RowEstimate {
  let same = estimates.get(e.why);
  if (!same) {
    if (estimates.size >= 4096) estimates.clear();
    estimates.set(e.why, (same = []));
  }
  for (const x of same) if (x.regime === e.regime && x.route === e.route && x.source === e.source && x.precision === e.precision && x.policy === e.policy) return x;
  same.push(e);
  return e;
}

/** The format-independent parts of one promptfoo result row the report uses. */
export interface RowParts {
  testIdx: number;
  promptIdx: number;
  testCase: TestCaseLike | null;
  vars: Record<string, unknown> | null;
  provider: string;
  /** promptfoo's verdict on the row, when present. */
  success: boolean | null;
  /** The row's output (only its first `SAMPLE_CHARS` are kept). */
  output: string | null;
  /** The raw verdict (validated by reportRowFromParts). */
  verdict: unknown;
  /** The test's assertions as raw JSON text, when the reader kept them unparsed (then `testCase.assert` is absent). */
  assertText?: string;
  /** Every rollout's final answer, in rollout order, or null when unknown. Read only when the verdict lacks the slim fields. */
  answers: () => (string | null)[] | null;
  /** The RolloutProvider's row key (its cache key: model, prompt, repeat), when the row has one. */
  rowKey?: () => string | null;
}

/** One shared empty list for the (many) rows with every signal available. */
const NONE: string[] = [];

/** Characters of a row's output kept as its sample (the HTML shows 300). */
export const SAMPLE_CHARS = 500;

/**
 * A report row from a graded result's parts; throws a VerdictError naming `where` and the field
 * when the verdict is invalid. `lean` leaves out what only the report shows (the answer
 * distribution, the sample output).
 */
export function reportRowFromParts(parts: RowParts, where: string, lean = false): { row: ReportRowInput; reference: string | null } {
  const v = reportVerdictFast(parts.verdict) ?? checkedVerdict(parts.verdict, where);
  let entropy: number | null = null;
  let wrongMode: number | null = null;
  if (v.answer_entropy !== undefined || v.wrong_mode_share !== undefined) {
    entropy = v.answer_entropy ?? null;
    wrongMode = v.wrong_mode_share ?? null;
  } else if (!lean && v.passed && v.n_passed < v.n_rollouts) {
    const answers = parts.answers();
    if (answers && answers.length === v.n_rollouts) {
      const dist = answerDistribution(answers.filter((_, i) => v.passed![i] === false));
      entropy = dist.entropy;
      wrongMode = dist.topShare;
    }
  }
  const description = testLabel(parts.testCase?.description, parts.testCase?.vars ?? parts.vars, parts.testIdx);
  const ancestor = v.signals?.ancestor_pass_rate ?? (v.ancestor_passed && v.ancestor_passed.length > 0 ? v.ancestor_passed.filter(Boolean).length / v.ancestor_passed.length : null);
  const estimate =
    v.regime !== undefined && v.route_source !== undefined
      ? sharedEstimate({ regime: v.regime, route: v.route ?? null, why: v.route_reason ?? '', source: v.route_source, precision: v.precision ?? null, policy: v.policy ?? null })
      : null;
  return {
    reference: v.reference,
    row: {
      test_idx: parts.testIdx,
      prompt_idx: parts.promptIdx,
      repeat: 0,
      description,
      test_key: testKey(parts.testCase, parts.vars, parts.assertText),
      provider: parts.provider,
      n_rollouts: v.n_rollouts,
      n_passed: v.n_passed,
      row_passed: parts.success,
      features: v.features,
      answer_entropy: entropy,
      wrong_mode_share: wrongMode,
      unavailable: v.unavailable.length === 0 ? NONE : v.unavailable,
      sample_output: lean || parts.output === null ? '' : parts.output.slice(0, SAMPLE_CHARS),
      ancestor_pass_rate: ancestor,
      estimate,
      row_key: lean ? null : v.row_key !== undefined ? v.row_key : (parts.rowKey?.() ?? null),
    },
  };
}

/** A verdict checked by ReportVerdictSchema; a VerdictError naming `where` and the fields when it is invalid. */
function checkedVerdict(raw: unknown, where: string): ReportVerdict {
  const parsed = ReportVerdictSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${ROW_KEY}.${formatPath(i.path)}: ${i.message}`);
    throw new VerdictError(`${where}: the recoverability verdict is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The name of an error from its message (`… EndpointTimeoutError: …` → `EndpointTimeoutError`), else `Error`. */
export function errorKind(message: string): string {
  return /\b([A-Z][A-Za-z0-9]*(?:Error|Exception))\b/.exec(message)?.[1] ?? 'Error';
}

/** An error row from a promptfoo result that errored (promptfoo's failureReason 2, or an error without a grade). */
export function errorRowFromResult(r: any): ErrorRowInput {
  const testIdx = nonNegInt(r?.testIdx);
  const message = String(r?.error ?? r?.response?.error ?? 'unknown error');
  return {
    test_idx: testIdx,
    prompt_idx: nonNegInt(r?.promptIdx),
    test_key: testKey(r?.testCase, r?.vars),
    description: testLabel(r?.testCase?.description, r?.testCase?.vars ?? r?.vars, testIdx),
    provider: providerName(r?.provider),
    kind: errorKind(message),
    message: message.split('\n')[0]!.slice(0, 300),
  };
}

/** promptfoo's failureReason for a row that errored (ResultFailureReason.ERROR). */
export const FAILURE_ERROR = 2;

export type ClassifiedResult = { kind: 'graded'; row: ReportRowInput; reference: string | null } | { kind: 'error'; error: ErrorRowInput } | { kind: 'ungraded' };

/** Sorts a parsed promptfoo result: graded by gradeRollouts, an error row, or neither. Throws a VerdictError for an invalid verdict. */
export function classifyResult(r: any, where: string): ClassifiedResult {
  const verdict = rawVerdict(r);
  if (verdict !== undefined) return { kind: 'graded', ...reportRowFromParts(partsFromResult(r, verdict), where) };
  if (r?.failureReason === FAILURE_ERROR || (r?.error && !r?.gradingResult) || r?.response?.error) return { kind: 'error', error: errorRowFromResult(r) };
  return { kind: 'ungraded' };
}

function partsFromResult(r: any, verdict: unknown): RowParts {
  const meta = r?.response?.metadata?.[METADATA_KEY] ?? r?.metadata?.[METADATA_KEY];
  return {
    testIdx: nonNegInt(r?.testIdx),
    promptIdx: nonNegInt(r?.promptIdx),
    testCase: r?.testCase && typeof r.testCase === 'object' ? r.testCase : null,
    vars: r?.vars && typeof r.vars === 'object' ? r.vars : null,
    provider: providerName(r?.provider),
    success: typeof r?.success === 'boolean' ? r.success : null,
    output: typeof r?.response?.output === 'string' ? r.response.output : null,
    verdict,
    answers: () => (Array.isArray(meta?.rollouts) ? meta.rollouts.map((x: any) => (typeof x?.answer === 'string' ? x.answer : null)) : null),
    rowKey: () => (typeof meta?.row_key === 'string' ? meta.row_key : null),
  };
}

export function providerName(p: any): string {
  if (typeof p === 'string') return p;
  return typeof p?.label === 'string' && p.label ? p.label : typeof p?.id === 'string' ? p.id : '';
}

function nonNegInt(x: unknown): number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0;
}

/** What the report reads from a list of promptfoo results. */
export interface ReportInputs {
  inputs: ReportRowInput[];
  errors: ErrorRowInput[];
  /** Rows with neither a verdict nor an error (not graded by gradeRollouts). */
  ungraded: number;
  /** The reference path the rows were routed on (as stored), if any. */
  reference: string | null;
}

/**
 * Report rows from promptfoo results (the afterAll hook's `results`, or parsed rows of an
 * output): every row graded by gradeRollouts, every error row (counted, never dropped), and the
 * reference path. A row whose verdict is invalid is listed as an error of kind `InvalidVerdict`
 * here (the hook must not fail the eval); the CLI reader refuses such a file instead.
 */
export function reportInputsFromResults(results: readonly unknown[]): ReportInputs & { inputs: ReportRowInput[] } {
  const out: ReportInputs = { inputs: [], errors: [], ungraded: 0, reference: null };
  results.forEach((r: any, i) => {
    try {
      const c = classifyResult(r, `row #${i}`);
      if (c.kind === 'graded') {
        out.inputs.push(c.row);
        out.reference ??= c.reference;
      } else if (c.kind === 'error') out.errors.push(c.error);
      else out.ungraded++;
    } catch (err) {
      if (!(err instanceof VerdictError)) throw err;
      out.errors.push({ ...errorRowFromResult(r), kind: 'InvalidVerdict', message: err.message.slice(0, 300) });
    }
  });
  return out;
}
