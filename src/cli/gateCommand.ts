import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { buildEvalReportWith } from '../core/analysis/buildEvalReportWith.js';
import { DECIMAL_NUMBER } from '../core/contracts/featureRow.js';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { compareEvals } from '../core/gate/compareEvals.js';
import { inOrderOnce } from '../core/gate/matchTests.js';
import { gateEstimator } from '../core/gate/gateEstimator.js';
import { GatePolicySchema } from '../core/gate/gatePolicy.js';
import { InputError, withInputErrors } from '../io/inputError.js';
import { type EvalOutput, loadEvalOutputs } from '../io/loadEvalOutput.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { checkWritableFile } from '../io/writableOutput.js';
import { renderGateMarkdown, renderGateSummary } from '../report/renderGate.js';
import { terminalSafe } from '../report/terminalText.js';

export const GATE_USAGE = `Usage: recoverability gate --baseline A.json --candidate B.json [policy flags] [--md FILE] [--json]

Compares two promptfoo outputs of the same suite (written with the plugin, -o out.json or
-o out.jsonl) on the tests graded in both — matched by their vars and assertions, not by name
or position; tests in one eval only, or errored in either, are listed and not compared:
regime shares of tests (chi-square test of homogeneity, a confidence interval per regime),
per-test regime transitions, rollout pass rate and pass@k, and the failure-topography shift
(can a classifier tell baseline failures from candidate failures?). The candidate is z-scored
on the baseline's scale. Every check says whether it passed, failed, or was inconclusive.
Exit 0: pass; 1: a regression fails the policy (and nothing else); 2: usage or input error,
or any other failure (one line).

Policy (flags override --policy FILE, a YAML or JSON file with the same keys):
  --alpha A                   significance level (default 0.05)
  --max-increase R=X[,R=X]    fail when a regime's share of tests rises by more than X and the
                              rise is significant (default beyond_reach=0.05)
  --max-pass-rate-drop X|none fail when the rollout pass rate drops more than X, significantly (default 0.05)
  --topography report|fail    fail on a significant failure-topography shift (default report)
  --permutations N            permutations for the topography p-value (default 200)
  --md FILE                   write the Markdown summary (e.g. $GITHUB_STEP_SUMMARY); checked before any work
  --json                      print the full comparison as JSON`;

export async function gateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      baseline: { type: 'string' },
      candidate: { type: 'string' },
      policy: { type: 'string' },
      alpha: { type: 'string' },
      'max-increase': { type: 'string' },
      'max-pass-rate-drop': { type: 'string' },
      topography: { type: 'string' },
      permutations: { type: 'string' },
      md: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(GATE_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new InputError(`gate takes no positional arguments (got ${positionals.join(' ')}); use --baseline and --candidate`);
  if (!values.baseline || !values.candidate) throw new InputError(`gate needs --baseline and --candidate\n\n${GATE_USAGE}`);
  const baselinePath = values.baseline;
  const candidatePath = values.candidate;

  return withInputErrors('gate', async () => {
    const policyInput: Record<string, unknown> = values.policy ? await readPolicy(values.policy) : {};
    if (values.alpha !== undefined) policyInput.alpha = numberFlag('--alpha', values.alpha);
    if (values['max-increase'] !== undefined) policyInput.maxIncrease = increases(values['max-increase']);
    if (values['max-pass-rate-drop'] !== undefined) {
      policyInput.maxPassRateDrop = values['max-pass-rate-drop'] === 'none' ? null : numberFlag('--max-pass-rate-drop', values['max-pass-rate-drop']);
    }
    if (values.topography !== undefined) policyInput.topography = values.topography;
    if (values.permutations !== undefined) policyInput.permutations = numberFlag('--permutations', values.permutations);
    let policy;
    try {
      policy = parseWith(GatePolicySchema, policyInput, 'gate policy');
    } catch (err) {
      throw new InputError((err as Error).message.split('\n').map((l) => l.trim()).join(' '));
    }
    if (values.md) await checkWritableFile(values.md, '--md');

    /** The baseline's reference scale, if it names one, and its report (no clusters: the gate compares regimes; ml-kmeans is never loaded). */
    const baselineReport = async (base: EvalOutput, verdictEstimates: boolean) => {
      const reference = base.reference ? { path: relative(process.cwd(), base.reference) || base.reference, scale: await loadReferenceScale(base.reference) } : null;
      const report = buildEvalReportWith(null, base.inputs, { evalId: base.evalId, reference, errors: base.errors, clusters: false, verdictEstimates });
      // What matching needs of the baseline alone, found here while the other thread reads on.
      return { reference, verdictEstimates, report, inOrder: inOrderOnce(report) };
    };
    // The two outputs are read at once, every thread taking the next chunk of either. Once the
    // baseline is read, its report is built here while the other thread reads on, with the
    // estimates its own rows call for; used when the candidate's agree (else built again below).
    let early: Promise<Awaited<ReturnType<typeof baselineReport>> | null> | undefined;
    const [base, cand] = (await loadEvalOutputs([baselinePath, candidatePath], {
      purpose: 'gate',
      threads: Math.min(8, availableParallelism()),
      onOutput: (index, output) => {
        if (index === 0) early = baselineReport(output, gateEstimator(output.inputs, output.inputs).source === 'policy').catch(() => null);
      },
    })) as [EvalOutput, EvalOutput];
    let result;
    try {
      // Both evals routed by one learned policy: its estimates, as their reports show them; else the paper's rule on the baseline's scale.
      const estimator = gateEstimator(base.inputs, cand.inputs);
      const verdictEstimates = estimator.source === 'policy';
      const built = early ? await early : null;
      const { reference, report: baseline, inOrder } = built && built.verdictEstimates === verdictEstimates ? built : await baselineReport(base, verdictEstimates);
      const candidate = buildEvalReportWith(null, cand.inputs, {
        evalId: cand.evalId,
        reference: baseline.scale ? { path: reference?.path ?? baselinePath, scale: baseline.scale } : null,
        errors: cand.errors,
        clusters: false,
        verdictEstimates,
      });
      result = compareEvals(baseline, candidate, policy, estimator, inOrder);
    } catch (err) {
      if (err instanceof ContractError) throw new InputError(err.message.split('\n').join(' '));
      throw err;
    }
    if (result.suite.shared === 0) {
      const errored = result.suite.errored.length > 0 ? ` (${result.suite.errored.length} tests are in both but errored in one)` : '';
      throw new InputError(`${baselinePath} and ${candidatePath} share no test graded in both${errored}: they are not evals of the same suite`);
    }
    if (values.md) await writeFile(values.md, renderGateMarkdown(result));
    out(values.json ? JSON.stringify(result, null, 2) : terminalSafe(renderGateSummary(result)));
    return result.pass ? 0 : 1;
  });
}

async function readPolicy(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    // JSON schema: numbers only in decimal (YAML 1.1 would read 0x10 as 16 and 1_000 as 1000).
    data = yaml.load(text, { schema: yaml.JSON_SCHEMA });
  } catch (err) {
    const mark = (err as { mark?: { line?: number; column?: number } }).mark;
    throw new InputError(`policy ${path} is not valid YAML${mark?.line !== undefined ? ` at line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}` : ''}`);
  }
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new InputError(`policy ${path}: expected a mapping of policy keys (alpha, maxIncrease, …)`);
  return data as Record<string, unknown>;
}

function numberFlag(flag: string, value: string): number {
  const n = Number(value.trim());
  if (!DECIMAL_NUMBER.test(value.trim()) || !Number.isFinite(n)) throw new InputError(`${flag} takes a decimal number, got "${value}"`);
  return n;
}

function increases(text: string): Record<string, number> {
  return Object.fromEntries(
    text.split(',').map((part) => {
      const [regime, x] = part.split('=').map((s) => s.trim());
      if (!regime || x === undefined) throw new InputError(`--max-increase takes regime=fraction pairs, e.g. beyond_reach=0.05; got "${part}"`);
      return [regime, numberFlag(`--max-increase ${regime}`, x)];
    }),
  );
}
