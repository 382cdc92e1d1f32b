import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InputError } from '../io/inputError.js';
import { writeFeatureTable } from '../io/writeFeatureTable.js';
import { JournalMismatchError } from '../probe/probeJournal.js';
import { probeSimulated } from '../probe/probeSimulated.js';
import { intOption, mixOption } from './options.js';
import { progress } from './progress.js';

export const PROBE_USAGE = `Usage: recoverability probe --sim [--problems N] [--seed S] [--mix ...] [--samples K] [--attempts 3] --out profiles.csv

Samples K rollouts per simulated problem, keeps the problems with failed rollouts, computes
their trajectory features, runs the rescue probe (retry, sparse steer, sparse steer at a
random position, local temperature lift, dense steer; best-of-n attempts per failed rollout,
prefix replay at the junction) and writes the labelled feature table, readable by
"recoverability route". Attempts are journalled to <out>.journal.jsonl as they finish, so an
interrupted probe resumes where it stopped.

  --sim                 use the embedded lineage simulator (required for now)
  --problems N          problems to sample (default 80)
  --seed S              seed of the problems, the world and every sample (default 0)
  --mix M               mechanism mix, e.g. easy=0.2,demoted=0.4,beyond=0.4
  --samples K           rollouts per problem (default 12)
  --attempts N          attempts per operator per failed rollout (default 3)
  --max-failed N        failed rollouts probed per problem (default 4)
  --continuation MODE   temperature (default) or greedy, after the intervention
  --junction MODE       replay (default: prefix replay) or online (junction detector)
  --out FILE            the labelled feature table (CSV)
  --progress            show progress on stderr even when it is not a terminal
  --no-progress         never show progress (shown by default on a terminal)`;

export async function probeCommand(argv: string[], out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sim: { type: 'boolean', default: false },
      problems: { type: 'string', default: '80' },
      seed: { type: 'string', default: '0' },
      mix: { type: 'string' },
      samples: { type: 'string', default: '12' },
      attempts: { type: 'string', default: '3' },
      'max-failed': { type: 'string', default: '4' },
      continuation: { type: 'string', default: 'temperature' },
      junction: { type: 'string', default: 'replay' },
      out: { type: 'string' },
      progress: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(PROBE_USAGE);
    return 0;
  }
  if (!values.sim) throw new InputError(`probe needs --sim (probing an eval output against an endpoint comes with the plugin)\n\n${PROBE_USAGE}`);
  if (!values.out) throw new InputError('probe needs --out FILE for the labelled feature table');
  if (values.continuation !== 'temperature' && values.continuation !== 'greedy') throw new InputError(`--continuation is temperature or greedy, got "${values.continuation}"`);
  if (values.junction !== 'replay' && values.junction !== 'online') throw new InputError(`--junction is replay or online, got "${values.junction}"`);
  const mix = mixOption(values.mix);
  const started = Date.now();
  const bar = progress('probe', 0, { force: values.progress, disable: values['no-progress'] });
  let units = 0;
  const result = await probeSimulated({
    problems: intOption('--problems', values.problems, 1, 1_000_000),
    seed: intOption('--seed', values.seed),
    samples: intOption('--samples', values.samples, 1, 1000),
    attempts: intOption('--attempts', values.attempts, 1, 100),
    maxFailedPerProblem: intOption('--max-failed', values['max-failed'], 1, 1000),
    continuation: values.continuation,
    junction: values.junction,
    journalPath: `${values.out}.journal.jsonl`,
    ...(mix ? { mix } : {}),
    onProgress: (done, total) => {
      units = total;
      bar.update(done, total);
    },
  })
    .then((r) => (bar.done(`${units} units (failed rollout × operator) in ${((Date.now() - started) / 1000).toFixed(1)} s`), r))
    .catch((e: unknown) => {
      throw e instanceof JournalMismatchError ? new InputError(e.message) : e;
    })
    .finally(() => bar.done());
  await writeFile(values.out, writeFeatureTable(result.records));
  const labels = result.records.reduce<Record<string, number>>((acc, r) => ((acc[r.label!] = (acc[r.label!] ?? 0) + 1), acc), {});
  out(
    `probed ${result.failedProblems} of ${result.sampled} problems with failed rollouts in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `${labels.resample ?? 0} resample, ${labels.steerable ?? 0} steerable, ${labels.beyond_reach ?? 0} beyond reach → ${values.out}`,
  );
  if (result.errors.length > 0) {
    for (const e of result.errors.slice(0, 10)) err(`  ${e.problem_id} / ${e.operator} / rollout ${e.rollout}: ${e.message}`);
    err(`${result.errors.length} probe attempts failed; their problems are not in ${values.out}. Rerun the same command to resume.`);
    return 1;
  }
  return 0;
}
