import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import { parseWith } from '../core/contracts/validate.js';
import { compareEvals } from '../core/gate/compareEvals.js';
import { GatePolicySchema } from '../core/gate/gatePolicy.js';
import { InputError } from '../io/inputError.js';
import { loadEvalOutput } from '../io/loadEvalOutput.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { renderGateMarkdown, renderGateSummary } from '../report/renderGate.js';

export const GATE_USAGE = `Usage: recoverability gate --baseline A.json --candidate B.json [policy flags] [--md FILE] [--json]

Compares two promptfoo outputs of the same suite (written with the plugin): regime shares
(chi-square test of homogeneity, a confidence interval per regime), per-test regime
transitions, pass rate and pass@k, and the failure-topography shift (can a classifier tell
baseline failures from candidate failures?). The candidate is z-scored on the baseline's scale.
Exit 0: pass; 1: a regression fails the policy; 2: usage or input error.

Policy (flags override --policy FILE, a YAML or JSON file with the same keys):
  --alpha A                   significance level (default 0.05)
  --max-increase R=X[,R=X]    fail when a regime's share of tests rises by more than X and the
                              rise is significant (default beyond_reach=0.05)
  --max-pass-rate-drop X|none fail when the pass rate drops more than X, significantly (default 0.05)
  --topography report|fail    fail on a significant failure-topography shift (default report)
  --permutations N            permutations for the topography p-value (default 200)
  --md FILE                   write the Markdown summary (e.g. $GITHUB_STEP_SUMMARY)
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
    throw new InputError((err as Error).message);
  }

  const [base, cand] = await Promise.all([loadEvalOutput(values.baseline), loadEvalOutput(values.candidate)]);
  const reference = base.reference ? { path: relative(process.cwd(), base.reference) || base.reference, scale: await loadReferenceScale(base.reference) } : null;
  const baseline = buildEvalReport(base.inputs, { evalId: base.evalId, reference });
  const candidate = buildEvalReport(cand.inputs, {
    evalId: cand.evalId,
    reference: baseline.scale ? { path: reference?.path ?? values.baseline, scale: baseline.scale } : null,
  });
  const result = compareEvals(baseline, candidate, policy);
  if (result.suite.shared === 0) {
    throw new InputError(`${values.baseline} and ${values.candidate} share no test: they are not evals of the same suite`);
  }
  out(values.json ? JSON.stringify(result, null, 2) : renderGateSummary(result));
  if (values.md) await writeFile(values.md, renderGateMarkdown(result));
  return result.pass ? 0 : 1;
}

async function readPolicy(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const data = yaml.load(text);
    if (data === undefined || data === null) return {};
    if (typeof data !== 'object' || Array.isArray(data)) throw new Error('expected a mapping of policy keys');
    return data as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`policy ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function numberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`${flag} takes a number, got "${value}"`);
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
