import { parseArgs } from 'node:util';
import { LABELS } from '../core/contracts/operators.js';
import { InputError } from '../io/inputError.js';
import { validateSimulated } from '../validate/validateSimulated.js';
import { table } from './formatRoute.js';
import { intOption, mixOption } from './options.js';
import { progress } from './progress.js';

export const VALIDATE_USAGE = `Usage: recoverability validate --sim [--problems N] [--seed S] [--mix ...] [--budget-max 50] [--json]

The paper's experiment on a simulated population: sample 12 rollouts per problem, probe the
failed ones (best-of-3 per operator), label by Eq. 2, then report
  (a) how well the three features predict the labels: nearest-centroid 5-fold CV accuracy
      against the majority class, with the confusion matrix;
  (b) on the steerable failures: routed rescue against every fixed operator and retry;
  (c) rescue at budget on the steerable failures: retry at 1…budget-max attempts per failed
      rollout against the routed operator at 1…10, and whether routed at 10 reaches retry at 50.

  --problems N      simulated problems (default 200)
  --seed S          seed of the problems and every sample (default 0)
  --mix M           mechanism mix, e.g. easy=0.2,demoted=0.4,beyond=0.4
  --budget-max B    largest retry budget of study (c) (default 50)
  --json            one JSON object instead of tables
  --progress        show progress on stderr even when it is not a terminal
  --no-progress     never show progress (shown by default on a terminal)`;

export async function validateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sim: { type: 'boolean', default: false },
      problems: { type: 'string', default: '200' },
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
  if (!values.sim) throw new InputError(`validate needs --sim (the study runs on the embedded simulator)\n\n${VALIDATE_USAGE}`);
  const mix = mixOption(values.mix);
  const problems = intOption('--problems', values.problems, 10, 100_000);
  const seed = intOption('--seed', values.seed);
  const budgetMax = intOption('--budget-max', values['budget-max'], 10, 1000);
  const started = Date.now();
  const bar = progress('validate', 0, { force: values.progress, disable: values['no-progress'] });
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
