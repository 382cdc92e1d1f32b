import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LABELS } from '../core/contracts/operators.js';
import { calibratePolicy, CalibrationError, MIN_PROBED_ROWS } from '../core/policy/calibratePolicy.js';
import { describePath, type TreeNode, type TreeStep } from '../core/policy/decisionTree.js';
import type { EstimateJson, Policy } from '../core/policy/policySchema.js';
import type { PolicyLeaf } from '../core/policy/policyTree.js';
import type { RegimeLeaf } from '../core/policy/regimeTree.js';
import { InputError } from '../io/inputError.js';
import { writePolicyFile } from '../io/policyFile.js';
import { parseProbeTable } from '../io/probeTable.js';
import { table } from './formatRoute.js';
import { intOption } from './options.js';

export const CALIBRATE_USAGE = `Usage: recoverability calibrate <probe.csv|probe.jsonl|profiles.csv> --out policy.json [--folds 5] [--seed S] [--json]

Measure, then route: learns from probed failing rows which route each failure should get and
which regime it is in, and chooses honestly. Candidates — a learned depth-≤2 policy tree on the
rows' signals, the paper's z-score rule, and every fixed operator — are compared by
cross-validated rescue on held-out problems, measured with the probe's EVAL split (the policy
is fitted on the LABEL split), with 95% bootstrap intervals and paired differences against the
best fixed operator. A learned policy that does not beat that operator (interval above 0) is
not used. The regime estimate (learned tree vs the paper's estimate vs the majority class) is
scored by cross-validated balanced accuracy against the probe-vs-re-probe ceiling.
Needs at least ${MIN_PROBED_ROWS} probed rows. Reads probe.csv / JSONL (the probe's records) or a
feature table (the paper's data/failure_profiles.csv, the old probe --sim output).

  --out FILE          policy.json to write (required)
  --folds K           cross-validation folds, by problem (default 5)
  --seed S            seed of the folds and bootstrap (default 0)
  --resamples B       bootstrap resamples per interval (default 2000)
  --max-depth D       depth of the learned trees, 0–2 (default 2)
  --min-leaf N        fewest probed rows per leaf (default max(5, 5% of the rows))
  --stop-below R      a leaf whose best operator rescues under R routes to stop (default 0.05)
  --json              print policy.json instead of the tables`;

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`);
const withInterval = (e: EstimateJson) => (e.mean === null ? '—' : `${pct(e.mean)} [${pct(e.lo)}, ${pct(e.hi)}]`);
const diffInterval = (e: EstimateJson | null) => (e === null || e.mean === null ? '—' : `${pts(e.mean)} [${pts(e.lo)}, ${pts(e.hi)}]`);
const fixed3 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));

function shareOption(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InputError(`${flag} takes a share from 0 to 1, got "${value}"`);
  return n;
}

function rules<L>(node: TreeNode<L>, show: (leaf: L) => string, path: TreeStep[] = []): string[] {
  if ('leaf' in node) return [`  ${path.length > 0 ? `if ${describePath(path)}` : 'every row'} → ${show(node.leaf)}`];
  return [
    ...rules(node.below, show, [...path, { signal: node.signal, threshold: node.threshold, side: 'below' }]),
    ...rules(node.above, show, [...path, { signal: node.signal, threshold: node.threshold, side: 'above' }]),
  ];
}

/** The human-readable report of a calibration. */
export function formatCalibration(policy: Policy, notes: readonly string[], out: string): string {
  const lines: string[] = [];
  const c = policy.label_counts;
  lines.push(`Calibrated on ${policy.probe.rows} probed failing rows of ${policy.probe.path}: ${c.resample} resample, ${c.steerable} steerable, ${c.beyond_reach} beyond reach`);
  for (const n of notes) lines.push(`note: ${n}`);
  for (const w of policy.warnings) lines.push(`warning: ${w}`);
  const skipped = Object.entries(policy.signals.skipped).map(([s, why]) => `${s} (${why})`);
  lines.push(`signals used: ${policy.signals.usable.join(', ') || 'none'}${skipped.length ? `; left out: ${skipped.join(', ')}` : ''}`);
  lines.push('');
  const nSteer = policy.candidates.find((x) => x.available)?.rescue_steerable.n ?? 0;
  lines.push(`Routing: ${policy.settings.folds}-fold cross-validated rescue on held-out problems, measured with the eval split (95% bootstrap intervals):`);
  lines.push(
    table([
      ['candidate', `all failures (${policy.probe.rows})`, `steerable (${nSteer})`, `vs always ${policy.choice.best_fixed} (points)`],
      ...policy.candidates.map((x) => [x.name + (x.name === policy.choice.name ? ' *' : ''), withInterval(x.rescue_all), withInterval(x.rescue_steerable), diffInterval(x.vs_best_fixed)]),
    ]),
  );
  for (const x of policy.candidates) if (x.note) lines.push(`  ${x.name}: ${x.note}`);
  lines.push(`choice: ${policy.choice.name} — ${policy.choice.why}`);
  if (policy.route.kind === 'tree') {
    lines.push('the policy (refitted on every probed row):');
    lines.push(...rules<PolicyLeaf>(policy.route.tree, (l) => `${l.route} (${l.n} rows; ${l.route === 'stop' ? `best ${Object.entries(l.rescue).sort((a, b) => b[1] - a[1])[0]?.[0]} ${pct(Object.values(l.rescue).sort((a, b) => b - a)[0])}` : `label-split rescue ${pct(l.rescue[l.route])}`})`));
    lines.push(`  a row missing ${policy.needs.join(' or ')} → ${policy.route.fallback}`);
  }
  lines.push('');
  lines.push('Regime estimate: cross-validated against the Eq. 2 label of the label split:');
  lines.push(
    table([
      ['model', 'balanced accuracy', 'accuracy'],
      ...policy.regime_estimate.candidates.map((x) => [x.name + (x.name === policy.regime.name ? ' *' : ''), fixed3(x.balanced_accuracy), pct(x.accuracy)]),
    ]),
  );
  for (const x of policy.regime_estimate.candidates) if (x.note) lines.push(`  ${x.name}: ${x.note}`);
  const ceil = policy.regime_estimate.ceiling;
  lines.push(
    ceil
      ? `ceiling, probe vs independent re-probe on ${ceil.n} rows: agreement ${pct(ceil.agreement)}, Cohen's κ ${fixed3(ceil.kappa)}, balanced accuracy ${fixed3(ceil.balanced_accuracy)}`
      : 'ceiling: no row has a reprobe_label, so the label noise is not measured',
  );
  const chosen = policy.regime_estimate.candidates.find((x) => x.name === policy.regime.name)!;
  const predicted = [...new Set(Object.values(chosen.confusion).flatMap((r) => Object.keys(r)))];
  lines.push(`confusion of ${chosen.name} (true \\ predicted):`);
  lines.push(table([['', ...predicted], ...LABELS.map((t) => [t, ...predicted.map((p) => String(chosen.confusion[t]?.[p] ?? 0))])]));
  lines.push(`precision per regime: ${LABELS.map((l) => `${l} ${fixed3(policy.regime.precision[l].precision)} (${policy.regime.precision[l].n} rows)`).join(', ')}`);
  if (policy.regime.model.kind === 'tree') lines.push(...rules<RegimeLeaf>(policy.regime.model.tree, (l) => `${l.regime} (${l.n} rows)`));
  lines.push('');
  lines.push(`wrote ${out}: route ${policy.route.kind === 'fixed' ? `always ${policy.route.operator}` : policy.choice.name}, regime ${policy.regime.name}${policy.needs.length ? `; needs ${policy.needs.join(', ')}` : ''}`);
  return lines.join('\n');
}

export async function calibrateCommand(argv: string[], out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      folds: { type: 'string', default: '5' },
      seed: { type: 'string', default: '0' },
      resamples: { type: 'string', default: '2000' },
      'max-depth': { type: 'string', default: '2' },
      'min-leaf': { type: 'string' },
      'stop-below': { type: 'string', default: '0.05' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(CALIBRATE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`calibrate takes one probe file, got ${positionals.length}\n\n${CALIBRATE_USAGE}`);
  if (!values.out) throw new InputError('calibrate needs --out FILE for policy.json');
  const options = {
    folds: intOption('--folds', values.folds, 2, 20),
    seed: intOption('--seed', values.seed),
    resamples: intOption('--resamples', values.resamples, 100, 100_000),
    maxDepth: intOption('--max-depth', values['max-depth'], 0, 2),
    ...(values['min-leaf'] !== undefined ? { minLeaf: intOption('--min-leaf', values['min-leaf'], 1, 1_000_000) } : {}),
    stopBelow: shareOption('--stop-below', values['stop-below']),
  };
  const path = positionals[0]!;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const probe = parseProbeTable(bytes.toString('utf8'), path);
  let policy: Policy;
  try {
    policy = calibratePolicy(probe.records, { path, sha256: createHash('sha256').update(bytes).digest('hex') }, options);
  } catch (e) {
    if (e instanceof CalibrationError) throw new InputError(`${path}: ${e.message}`);
    throw e;
  }
  await writePolicyFile(values.out, policy);
  if (values.json) out(JSON.stringify(policy, null, 2));
  else out(formatCalibration(policy, probe.notes, values.out));
  void err;
  return 0;
}
