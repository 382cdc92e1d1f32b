import { parseArgs } from 'node:util';
import { LABELS } from '../core/contracts/operators.js';
import { InputError } from '../io/inputError.js';
import { validateSimulated } from '../validate/validateSimulated.js';
import { type LineageValidation, validateLineage } from '../validate/validateLineage.js';
import { table } from './formatRoute.js';
import { intOption, mixOption } from './options.js';
import { progress } from './progress.js';

export const VALIDATE_USAGE = `Usage: recoverability validate --lineage [--problems 160] [--operations 2,3,4,5] [--seed S] [--budget-max 50] [--json]
       recoverability validate --sim [--problems N] [--seed S] [--mix ...] [--budget-max 50] [--json]

--lineage: the paper's experiment, and the measure-then-route one, on the embedded real lineage.
Samples 12 rollouts per problem (chains of --operations steps, split evenly), probes every
failing row with every operator — label attempts decide the Eq. 2 label, fresh eval attempts
measure the rescue reported, a re-probe of a quarter of the rows measures label noise — then
  (a) the three features → Eq. 2 label: nearest-centroid 5-fold CV accuracy and balanced
      accuracy against the majority class, with the confusion matrix;
  (b) on the rows labelled steerable: the paper's routing against every fixed operator and
      retry, on the eval split;
  (c) rescue at budget there: retry at 1…budget-max attempts against the routed operator at 1…10;
  (d) calibrate's cross-validated choice: a learned policy vs the paper's rule vs every fixed
      operator over all probed rows and the steerable ones (95% intervals), and the regime
      estimate's balanced accuracy against the probe-vs-re-probe ceiling;
  (e) where the paper's rule fails on this lineage, measured.
JSON keys: problems, failing_rows, probed, labels, features_to_labels {accuracy,
balanced_accuracy, majority, majority_balanced_accuracy, confusion}, steerable, routed_rescue,
fixed_rescue, retry_rescue, routes, retry_at_budget, routed_at_budget,
routed_at_10_reaches_retry_at_50, calibration {choice, best_fixed, candidates, regime_estimate,
ceiling}, paper_rule {regime_confusion, routed_groups}, findings.

--sim: the paper's experiment on the planted simulator (one set of best-of-3 attempts), keys
accuracy, majority, confusion, routed_rescue, fixed_rescue, retry_rescue, retry_at_budget,
routed_at_budget, routed_at_10_reaches_retry_at_50.

  --lineage         the embedded real lineage (models/arith-lineage)
  --sim             the planted simulator
  --problems N      problems (default: 160 with --lineage, 200 with --sim)
  --operations L    (--lineage) chain lengths, e.g. 2,3,4,5 (default)
  --seed S          seed of the problems and every sample (default 0)
  --mix M           (--sim) mechanism mix, e.g. easy=0.2,demoted=0.4,beyond=0.4
  --budget-max B    largest retry budget of study (c) (default 50)
  --journal FILE    (--lineage) journal the probe's attempts to FILE and resume from it; the journal
                    of a "probe --lineage" of every failing row (budget all) with the same --problems,
                    --operations and --seed (probe.csv.journal.jsonl) is reused as it is
  --json            one JSON object instead of tables
  --progress        show progress on stderr even when it is not a terminal
  --no-progress     never show progress (shown by default on a terminal)`;

export async function validateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sim: { type: 'boolean', default: false },
      lineage: { type: 'boolean', default: false },
      operations: { type: 'string' },
      journal: { type: 'string' },
      problems: { type: 'string' },
      seed: { type: 'string', default: '0' },
      mix: { type: 'string' },
      'budget-max': { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(VALIDATE_USAGE);
    return 0;
  }
  if (values.sim === values.lineage) throw new InputError(`validate needs --lineage (the embedded real lineage) or --sim (the planted simulator), one of them\n\n${VALIDATE_USAGE}`);
  if (values.lineage && values.mix !== undefined) throw new InputError('--mix configures the simulator: use it with --sim');
  if (values.sim && values.operations !== undefined) throw new InputError('--operations applies to --lineage only');
  if (values.sim && values.journal !== undefined) throw new InputError('--journal applies to --lineage only');
  const mix = mixOption(values.mix);
  const problems = intOption('--problems', values.problems ?? (values.lineage ? '160' : '200'), 10, 100_000);
  const seed = intOption('--seed', values.seed);
  const budgetMax = intOption('--budget-max', values['budget-max'], 10, 1000);
  const started = Date.now();
  const bar = progress('validate', 0, { force: values.progress, disable: values['no-progress'] });
  if (values.lineage) {
    const operations = (values.operations ?? '2,3,4,5').split(',').map((x) => intOption('--operations', x.trim(), 1, 12));
    const result = await validateLineage({ problems, operations, seed, budgetMax, ...(values.journal ? { journalPath: values.journal } : {}), onProgress: (stage, done, total) => bar.update(done ?? 0, total ?? 0, stage) })
      .then((r) => (bar.done(`${problems} lineage problems sampled, probed and studied in ${((Date.now() - started) / 1000).toFixed(1)} s`), r))
      .finally(() => bar.done());
    out(values.json ? JSON.stringify(result) : formatLineageValidation(result));
    return 0;
  }
  const r = await validateSimulated({
    problems,
    seed,
    budgetMax,
    ...(mix ? { mix } : {}),
    onProgress: (stage, done, total) => bar.update(done ?? 0, total ?? 0, stage),
  })
    .then((result) => (bar.done(`${problems} problems sampled, probed and studied in ${((Date.now() - started) / 1000).toFixed(1)} s`), result))
    .finally(() => bar.done());
  if (values.json) {
    out(JSON.stringify(r));
    return 0;
  }
  const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
  out(`Validation on ${r.problems} simulated problems: ${r.failed_problems} with failed rollouts (${LABELS.map((l) => `${r.labels[l]} ${l}`).join(', ')})\n`);
  out(`(a) features → Eq. 2 label: ${pct(r.accuracy)} cross-validated accuracy vs ${pct(r.majority)} majority`);
  out(table([['true \\ predicted', ...LABELS], ...LABELS.map((t) => [t, ...LABELS.map((p) => String(r.confusion[t]![p]))])]));
  out(`\n(b) on the ${r.steerable} steerable failures (best-of-3):`);
  out(table([['', 'rescue'], ['routed', pct(r.routed_rescue)], ...Object.entries(r.fixed_rescue).sort((a, b) => b[1] - a[1]).map(([op, v]) => [`always ${op}`, pct(v)]), ['retry', pct(r.retry_rescue)]]));
  const at = (a: number[], b: number) => pct(a[b - 1]);
  out(`\n(c) rescue at budget (attempts per failed rollout), steerable failures:`);
  out(table([['budget', '1', '3', '5', '10', '20', '50'], ['retry', ...[1, 3, 5, 10, 20, 50].map((b) => at(r.retry_at_budget, b))], ['routed', ...[1, 3, 5, 10].map((b) => at(r.routed_at_budget, b)), '', '']]));
  out(`routed at 10 ${r.routed_at_10_reaches_retry_at_50 ? 'reaches' : 'does not reach'} retry at 50`);
  return 0;
}

const pctOf = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const withInterval = (e: { mean: number | null; lo: number | null; hi: number | null }) => (e.mean === null ? '—' : `${pctOf(e.mean)} [${pctOf(e.lo)}, ${pctOf(e.hi)}]`);
const points = (e: { mean: number | null; lo: number | null; hi: number | null } | null) => {
  const p = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`);
  return e === null || e.mean === null ? '—' : `${p(e.mean)} [${p(e.lo)}, ${p(e.hi)}]`;
};

/** The tables of `validate --lineage`. */
export function formatLineageValidation(r: LineageValidation): string {
  const lines: string[] = [];
  const f = r.features_to_labels;
  lines.push(`Validation on ${r.problems} lineage problems (chains of ${r.operations.join(', ')} steps): ${r.failing_rows} failing rows, ${r.probed} probed (${LABELS.map((l) => `${r.labels[l]} ${l}`).join(', ')})\n`);
  lines.push(`(a) features → Eq. 2 label: ${pctOf(f.accuracy)} CV accuracy (balanced ${f.balanced_accuracy?.toFixed(3) ?? '—'}) vs ${pctOf(f.majority)} majority (balanced ${f.majority_balanced_accuracy?.toFixed(3) ?? '—'})`);
  if (Object.keys(f.confusion).length) lines.push(table([['true \\ predicted', ...LABELS], ...LABELS.map((t) => [t, ...LABELS.map((p) => String(f.confusion[t]?.[p] ?? 0))])]));
  lines.push(`\n(b) on the ${r.steerable} rows labelled steerable (eval split, fresh attempts):`);
  lines.push(table([['', 'rescue'], [`paper's rule (${Object.entries(r.routes).map(([op, n]) => `${n} → ${op}`).join(', ')})`, pctOf(r.routed_rescue)], ...Object.entries(r.fixed_rescue).sort((a, b) => b[1] - a[1]).map(([op, v]) => [`always ${op}`, pctOf(v)]), ['retry', pctOf(r.retry_rescue)]]));
  const at = (a: number[], b: number) => pctOf(a[b - 1]);
  lines.push('\n(c) rescue at budget (attempts per failed rollout), steerable rows:');
  lines.push(table([['budget', '1', '3', '5', '10', '20', '50'], ['retry', ...[1, 3, 5, 10, 20, 50].map((b) => at(r.retry_at_budget, b))], ["paper's rule", ...[1, 3, 5, 10].map((b) => at(r.routed_at_budget, b)), '', '']]));
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`\n(d) calibrate, 5-fold cross-validated rescue on held-out problems (eval split, 95% bootstrap intervals):`);
    lines.push(table([['candidate', `all probed (${r.probed})`, `steerable (${r.labels.steerable})`, `vs always ${c.best_fixed} (points)`], ...c.candidates.map((x) => [x.name + (x.name === c.choice ? ' *' : ''), withInterval(x.rescue_all), withInterval(x.rescue_steerable), points(x.vs_best_fixed)])]));
    lines.push(`regime estimate, balanced accuracy against the Eq. 2 label: ${c.regime_estimate.map((x) => `${x.name} ${x.balanced_accuracy?.toFixed(3) ?? '—'}`).join(', ')}`);
    lines.push(c.ceiling ? `ceiling (probe vs re-probe, ${c.ceiling.n} rows): agreement ${pctOf(c.ceiling.agreement)}, κ ${c.ceiling.kappa?.toFixed(3) ?? '—'}, balanced accuracy ${c.ceiling.balanced_accuracy?.toFixed(3) ?? '—'}` : 'ceiling: no re-probed rows');
  } else lines.push(`\n(d) calibrate: needs at least 40 probed rows, got ${r.probed}`);
  lines.push(`\n(e) where the paper's rule stands on this lineage:`);
  for (const s of r.findings) lines.push(`  - ${s}`);
  return lines.join('\n');
}
