import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LABELS } from '../core/contracts/operators.js';
import { redactSecrets } from '../http/redact.js';
import { InputError } from '../io/inputError.js';
import { writeProbeTable } from '../io/probeTable.js';
import { writeFeatureTable } from '../io/writeFeatureTable.js';
import { parseEndpointFlag } from '../probe/evalTargets.js';
import { type MeasureSettings, probeEvalOutput, probePopulation, type ProbeRun } from '../probe/probeRuns.js';
import type { ProbeSummary } from '../probe/probeSummary.js';
import { table } from './formatRoute.js';
import { intOption, mixOption } from './options.js';
import { progress } from './progress.js';

export const PROBE_USAGE = `Usage: recoverability probe <results.json|results.jsonl> --out probe.csv [--budget 100] [--rows LIST]
                            [--specialist URL#model --ancestor URL#model] [options]
       recoverability probe --lineage [--problems 160] [--operations 2,3,4,5] --out probe.csv [options]
       recoverability probe --sim [--problems 80] [--mix ...] --out probe.csv [options]

Measures, on your own model, which failures are fixable and by what. Reads an eval written with
the plugin (promptfoo eval -o results.json, or -o results.jsonl), takes its failing rows (at
least one failed rollout), a seeded sample of --budget of them stratified by the eval's regime
estimate × pass-rate band, and runs every operator on their failed rollouts — retry, sparse
steer at the junction (prefix replay), sparse steer at a random position, local temperature
lift, dense steer — against the endpoints the rows recorded (or --specialist/--ancestor; an API
key comes from the environment variable a spec names, and is never printed). Token ids come
from the eval's rollout cache or sidecar; what is missing is re-sampled with the row's seed.
--lineage and --sim do the same on a population sampled in-process from the embedded real
lineage or the planted simulator. All three write the probe records "recoverability calibrate"
reads.

Three kinds of attempts, with disjoint seeds: --attempts decide each row's Eq. 2 label, fresh
--eval-attempts measure the rescue that is reported, and a re-probe of a --reprobe share of the
rows repeats the label attempts to measure label noise (agreement, Cohen's κ, balanced accuracy).
Every attempt is journalled to <out>.journal.jsonl with what it cost: rerun the same command to
resume (a journal of other settings, rows or models is refused). Dense steer asks both models for
their top-K at every generated position: two requests per token, each re-reading the prefix
unless the server caches prefixes; the cost table shows what it took.

  --out FILE              probe records: probe.csv, or JSONL when FILE ends in .jsonl (required);
                          also writes <out>.summary.json and the journal <out>.journal.jsonl
  --budget N|all          failing rows probed at most (default 100)
  --rows LIST             (eval) only these tests: indexes (3, 5-9) or exact descriptions; repeatable
  --specialist URL#model  (eval) probe this endpoint instead of the recorded specialist
  --ancestor URL#model    (eval) and this one instead of the recorded ancestor
  --api-key-env VAR       (eval) the environment variable holding the overriding endpoints' key
  --lineage               sample the population from the embedded arith lineage
  --sim                   sample the population from the planted simulator
  --problems N            (--lineage 160, --sim 80) problems sampled, split evenly over --operations
  --operations LIST       (--lineage) chain lengths, e.g. 2,3,4,5 (default)
  --mix M                 (--sim) mechanism mix, e.g. easy=0.2,demoted=0.4,beyond=0.4
  --samples K             (--lineage, --sim) rollouts per problem (default 12)
  --ancestor-samples N    (--lineage, --sim) the ancestor's own samples per problem (default 4)
  --attempts N            label attempts per operator per failed rollout (default 3)
  --eval-attempts N       fresh eval attempts per operator per failed rollout (default 3)
  --reprobe R             share of the probed rows re-probed for the noise ceiling (default 0.25; 0 for none)
  --max-failed N          failed rollouts probed per row (default 2)
  --concurrency N         units (failed rollout × operator) in flight (default 8)
  --seed S                seed of the sample, the re-probe subset and every attempt (default 0)
  --max-tokens N          output budget per attempt, lowered to the room each prompt leaves (default 512)
  --junction MODE         replay (default: prefix replay at j*) or online (junction detector)
  --continuation MODE     temperature (default) or greedy, after the intervention
  --feature-table FILE    also write the label split as the paper's feature table ("recoverability route" reads it)
  --json                  print the summary (as <out>.summary.json) instead of tables
  --progress              show progress on stderr even when it is not a terminal
  --no-progress           never show progress (shown by default on a terminal)`;

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const num = (x: number) => x.toLocaleString('en-US');

function shareOption(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InputError(`${flag} takes a share from 0 to 1, got "${value}"`);
  return n;
}

function listOption(flag: string, value: string, min: number, max: number): number[] {
  const parts = value.split(',').map((x) => x.trim());
  const out = parts.map((x) => intOption(flag, x, min, max));
  if (new Set(out).size !== out.length) throw new InputError(`${flag} lists ${value}: each value once`);
  return out;
}

/** The human-readable report of a probe. */
export function formatProbe(s: ProbeSummary, out: string, seconds: number): string {
  const lines: string[] = [];
  const pop = s.population;
  const skips = Object.entries(pop.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace('_', ' ')}`);
  const source = s.source === 'eval' ? `${pop.rows} rows${s.eval_id ? ` of ${s.eval_id}` : ''}` : `${pop.rows} ${s.source === 'lineage' ? 'lineage' : 'simulated'} problems`;
  lines.push(`${pop.failing} failing rows of ${source}${skips.length ? ` (not probed: ${skips.join(', ')})` : ''}; probed ${pop.selected}${pop.budget !== null && pop.budget < pop.failing ? ` (budget ${pop.budget}, stratified by regime estimate × pass-rate band: ${Object.entries(pop.strata).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
  if (pop.tokens) {
    const t = pop.tokens;
    lines.push(`failed rollouts' token ids: ${t.stored} from the rollout cache or sidecar, ${t.resampled} re-sampled with the row's seed${t.retokenized ? `, ${t.retokenized} re-tokenized from the recorded text (the re-sample differed)` : ''}${t.unreadable.length ? `; unreadable: ${t.unreadable.join(', ')}` : ''}`);
  }
  lines.push(`Eq. 2 labels (label split, best-of-${s.attempts.label}): ${LABELS.map((l) => `${s.labels[l]} ${l.replace('_', ' ')}`).join(', ')}`);
  lines.push(
    s.ceiling
      ? `re-probe of ${s.ceiling.n} rows (noise ceiling): agreement ${pct(s.ceiling.agreement)}, Cohen's κ ${s.ceiling.kappa === null ? '— (one label throughout)' : s.ceiling.kappa.toFixed(3)}, balanced accuracy ${s.ceiling.balanced_accuracy.toFixed(3)}`
      : 're-probe: none (--reprobe 0), so label noise is not measured',
  );
  if (s.eval_rescue.all) {
    const ops = Object.keys(s.eval_rescue.all);
    lines.push(`\nrescue measured with fresh attempts (eval split, best-of-${s.attempts.eval}):`);
    lines.push(table([['rows', ...ops], [`all probed (${s.probed})`, ...ops.map((o) => pct(s.eval_rescue.all![o]))], [`labelled steerable (${s.labels.steerable})`, ...ops.map((o) => pct(s.eval_rescue.steerable?.[o]))]]));
  }
  lines.push('\ncost per operator (every phase):');
  lines.push(
    table([
      ['operator', 'attempts', 'requests', 'tokens read', 'tokens generated', 'requests/attempt'],
      ...s.cost.map((c) => [c.operator, num(c.attempts), num(c.requests), num(c.promptTokens), num(c.generatedTokens), c.requests_per_attempt === null ? '—' : c.requests_per_attempt.toFixed(1)]),
      ['total', num(s.total.attempts), num(s.total.requests), num(s.total.promptTokens), num(s.total.generatedTokens), ''],
    ]),
  );
  const dense = s.cost.find((c) => c.operator === 'dense_steer');
  if (dense && dense.generatedTokens > 0) {
    lines.push(`dense steer asks both models for their top-K at every position: ${num(dense.requests)} requests for ${num(dense.generatedTokens / 2)} decoded tokens, re-reading ${num(dense.promptTokens)} prefix tokens (a server without prefix caching prefills them all)`);
  }
  if (s.overhead_requests > 0) lines.push(`besides: ${s.overhead_requests} requests to re-sample missing rollouts and learn the endpoint's stop token`);
  lines.push(`\nwrote ${out} (${s.probed} probe records), ${out}.summary.json; journal ${out}.journal.jsonl (${seconds.toFixed(1)} s)`);
  return lines.join('\n');
}

export async function probeCommand(argv: string[], out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sim: { type: 'boolean', default: false },
      lineage: { type: 'boolean', default: false },
      problems: { type: 'string' },
      operations: { type: 'string' },
      seed: { type: 'string', default: '0' },
      mix: { type: 'string' },
      samples: { type: 'string', default: '12' },
      'ancestor-samples': { type: 'string', default: '4' },
      budget: { type: 'string', default: '100' },
      rows: { type: 'string', multiple: true },
      specialist: { type: 'string' },
      ancestor: { type: 'string' },
      'api-key-env': { type: 'string' },
      attempts: { type: 'string', default: '3' },
      'eval-attempts': { type: 'string', default: '3' },
      reprobe: { type: 'string', default: '0.25' },
      'max-failed': { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '8' },
      'max-tokens': { type: 'string', default: '512' },
      continuation: { type: 'string', default: 'temperature' },
      junction: { type: 'string', default: 'replay' },
      'feature-table': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(PROBE_USAGE);
    return 0;
  }
  const sources = [positionals.length > 0 ? 'an eval output' : null, values.lineage ? '--lineage' : null, values.sim ? '--sim' : null].filter(Boolean);
  if (sources.length !== 1 || positionals.length > 1) {
    throw new InputError(`probe takes one source: an eval output (results.json / .jsonl), --lineage or --sim; got ${sources.length === 0 ? 'none' : positionals.length > 1 ? `${positionals.length} files` : sources.join(' and ')}\n\n${PROBE_USAGE}`);
  }
  if (!values.out) throw new InputError('probe needs --out FILE for the probe records (probe.csv, or .jsonl)');
  const outPath = values.out;
  const evalSource = positionals.length === 1;
  const onlyFor = (flag: string, set: boolean, where: string) => {
    if (set) throw new InputError(`${flag} applies to ${where} only`);
  };
  onlyFor('--rows', !evalSource && values.rows !== undefined, 'an eval output');
  onlyFor('--specialist', !evalSource && values.specialist !== undefined, 'an eval output (--lineage and --sim bring their own models)');
  onlyFor('--ancestor', !evalSource && values.ancestor !== undefined, 'an eval output (--lineage and --sim bring their own models)');
  onlyFor('--problems', evalSource && values.problems !== undefined, '--lineage and --sim (an eval output has its own rows)');
  onlyFor('--operations', !values.lineage && values.operations !== undefined, '--lineage');
  onlyFor('--mix', !values.sim && values.mix !== undefined, '--sim');
  if (values.continuation !== 'temperature' && values.continuation !== 'greedy') throw new InputError(`--continuation is temperature or greedy, got "${values.continuation}"`);
  if (values.junction !== 'replay' && values.junction !== 'online') throw new InputError(`--junction is replay or online, got "${values.junction}"`);
  const budget = values.budget === 'all' ? null : intOption('--budget', values.budget, 1, 10_000_000);
  const started = Date.now();
  const bar = progress('probe', 0, { force: values.progress, disable: values['no-progress'] });
  const settings: MeasureSettings = {
    budget,
    attempts: intOption('--attempts', values.attempts, 1, 100),
    evalAttempts: intOption('--eval-attempts', values['eval-attempts'], 1, 100),
    reprobe: shareOption('--reprobe', values.reprobe),
    maxFailed: intOption('--max-failed', values['max-failed'], 1, 1000),
    concurrency: intOption('--concurrency', values.concurrency, 1, 1024),
    seed: intOption('--seed', values.seed),
    junction: values.junction,
    continuation: values.continuation,
    maxTokens: intOption('--max-tokens', values['max-tokens'], 1, 1_000_000),
    journalPath: `${outPath}.journal.jsonl`,
    onProgress: (stage, done, total) => bar.update(done, total, stage),
  };
  let run: ProbeRun;
  try {
    if (evalSource) {
      const apiKeyEnv = values['api-key-env'];
      run = await probeEvalOutput(positionals[0]!, {
        ...settings,
        ...(values.rows ? { rows: values.rows } : {}),
        ...(values.specialist ? { specialist: parseEndpointFlag('--specialist', values.specialist, apiKeyEnv) } : {}),
        ...(values.ancestor ? { ancestor: parseEndpointFlag('--ancestor', values.ancestor, apiKeyEnv) } : {}),
      });
    } else {
      const kind = values.lineage ? 'lineage' : 'sim';
      const mix = mixOption(values.mix);
      run = await probePopulation(
        kind,
        {
          problems: intOption('--problems', values.problems ?? (kind === 'lineage' ? '160' : '80'), 1, 1_000_000),
          samples: intOption('--samples', values.samples, 1, 1000),
          ancestorSamples: intOption('--ancestor-samples', values['ancestor-samples'], 0, 1000),
          temperature: 0.6,
          ...(kind === 'lineage' ? { operations: listOption('--operations', values.operations ?? '2,3,4,5', 1, 12) } : {}),
          ...(mix ? { mix } : {}),
        },
        settings,
      );
    }
    bar.done(`${run.summary.total.attempts} attempts on ${run.summary.population.selected} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    bar.done();
  }
  const { measurement, summary } = run;
  if (measurement.records.length > 0) await writeProbeTable(outPath, measurement.records);
  await writeFile(`${outPath}.summary.json`, JSON.stringify(summary, null, 2) + '\n');
  if (values['feature-table']) {
    // The features are the row's (over all its failed rollouts), not only the probed rollouts'.
    const signals = new Map(run.rows.map((r) => [r.problemId, r.signals]));
    const problems = measurement.problems.filter((p) => p.rescue.label).map((p) => {
      const s = signals.get(p.record.problem_id)!;
      return { ...p.record, features: { spread: s.spread, concentration: s.concentration, logit_dispersion: s.logit_dispersion } };
    });
    await writeFile(values['feature-table'], writeFeatureTable(problems));
  }
  if (values.json) out(JSON.stringify(summary));
  else out(formatProbe(summary, outPath, (Date.now() - started) / 1000));
  if (measurement.errors.length > 0) {
    for (const e of measurement.errors.slice(0, 10)) err(`  ${e.problem_id} / ${e.operator} / rollout ${e.rollout} (${e.phase}): ${redactSecrets(e.message)}`);
    err(`${measurement.errors.length} probe attempts failed; their rows are not in ${outPath}. Rerun the same command to resume.`);
    return 1;
  }
  return 0;
}
