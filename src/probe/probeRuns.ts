import { INTERVENTION_DEFAULTS, type InterventionContext } from '../interventions/applyIntervention.js';
import { operatorName, PAPER_OPERATOR_SPECS } from '../interventions/operators.js';
import { InputError } from '../io/inputError.js';
import type { Mix } from '../simulator/mechanisms.js';
import { readEvalRows } from './evalRows.js';
import { type EndpointOverride, evalTargets, learnStopTokens, ModelPool, publicSpecs, scanEval, type EvalCandidate } from './evalTargets.js';
import type { FailingRow } from './failingRow.js';
import { type Measurement, type MeasureOptions, measureRows, settingsFingerprint } from './measureRows.js';
import { lineagePopulation, type Population, simPopulation } from './populationRows.js';
import { JournalMismatchError, ProbeJournal } from './probeJournal.js';
import { probeSummary, type ProbeSummary } from './probeSummary.js';
import { rowStratum, sampleRows } from './selectRows.js';

/** How the rescue is measured, whatever the rows' source (the attempts and seed as measureRows takes them). */
export interface MeasureSettings extends Pick<MeasureOptions, 'attempts' | 'evalAttempts' | 'reprobe' | 'maxFailed' | 'concurrency' | 'seed'> {
  /** Rows probed at most (a seeded stratified sample); null = every failing row. */
  budget: number | null;
  junction: 'replay' | 'online';
  continuation: 'temperature' | 'greedy';
  /** Output budget per attempt, lowered to the room each prompt leaves in the context. */
  maxTokens: number;
  /** The journal (`<out>.journal.jsonl`); in memory when absent. */
  journalPath?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ProbeRun {
  measurement: Measurement;
  summary: ProbeSummary;
  /** The rows probed (after the budget), in order. */
  rows: FailingRow[];
}

const strataOf = (rows: readonly FailingRow[]) => rows.reduce<Record<string, number>>((acc, r) => ((acc[rowStratum(r)] = (acc[rowStratum(r)] ?? 0) + 1), acc), {});

/** The measurement part of a probe's settings: what decides every attempt's seed and outcome. */
function measureFingerprint(s: MeasureSettings, temperature: number, rows: readonly FailingRow[]) {
  return {
    operators: PAPER_OPERATOR_SPECS.map(operatorName),
    attempts: s.attempts,
    eval_attempts: s.evalAttempts,
    reprobe: s.reprobe,
    max_failed: s.maxFailed,
    seed: s.seed,
    junction: s.junction,
    continuation: s.continuation,
    alpha: INTERVENTION_DEFAULTS.alpha,
    top_k: INTERVENTION_DEFAULTS.topK,
    temperature,
    max_tokens: s.maxTokens,
    rows: rows.map((r) => r.problemId),
  };
}

async function openJournal(path: string | undefined, settings: unknown): Promise<ProbeJournal> {
  if (!path) return ProbeJournal.inMemory();
  try {
    return await ProbeJournal.open(path, settings);
  } catch (err) {
    if (err instanceof JournalMismatchError) throw new InputError(err.message);
    throw err;
  }
}

async function measure(rows: FailingRow[], context: Omit<InterventionContext, 'prompt'>, s: MeasureSettings, settings: Record<string, unknown>) {
  const fingerprint = settingsFingerprint(settings);
  const journal = await openJournal(s.journalPath, settings);
  const measurement = await measureRows(rows, {
    context,
    attempts: s.attempts,
    evalAttempts: s.evalAttempts,
    reprobe: s.reprobe,
    maxFailed: s.maxFailed,
    concurrency: s.concurrency,
    seed: s.seed,
    journal,
    settings: fingerprint,
    onProgress: (d, t) => s.onProgress?.('probing', d, t),
  });
  return { measurement, fingerprint };
}

/** Picks rows by `--rows`: test indexes (`3`, `5-9`) or exact test descriptions. */
export function pickRows(candidates: readonly EvalCandidate[], picks: readonly string[]): EvalCandidate[] {
  if (picks.length === 0) return [...candidates];
  const indexes = new Set<number>();
  const descriptions = new Set<string>();
  for (const pick of picks) {
    if (/^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/.test(pick)) {
      for (const part of pick.split(',')) {
        const [a, b] = part.split('-').map((x) => Number(x.trim()));
        if (b !== undefined && b < a!) throw new InputError(`--rows ${pick}: the range ${part.trim()} runs backwards`);
        for (let i = a!; i <= (b ?? a!); i++) indexes.add(i);
      }
    } else descriptions.add(pick);
  }
  const known = new Set(candidates.map((c) => c.row.description).filter((d): d is string => d !== null));
  for (const d of descriptions) {
    if (!known.has(d)) {
      const some = [...known].slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
      throw new InputError(`--rows "${d}": no failing row has that test description${some ? ` (some that do: ${some})` : ''}; give test indexes (0, 3-7) or exact descriptions`);
    }
  }
  const picked = candidates.filter((c) => (c.row.testIdx !== null && indexes.has(c.row.testIdx)) || (c.row.description !== null && descriptions.has(c.row.description)));
  if (picked.length === 0) throw new InputError(`--rows ${picks.join(' ')} picks no failing row (test indexes of failing rows: ${candidates.slice(0, 12).map((c) => c.row.testIdx).join(', ')}${candidates.length > 12 ? ', …' : ''})`);
  return picked;
}

/**
 * `recoverability probe results.json`: the eval's failing rows (token-level, graded by
 * gradeRollouts), a budgeted stratified sample of them (strata: the eval's regime estimate ×
 * pass-rate band), their failed rollouts' token ids (rollout cache or sidecar; missing ones
 * re-sampled with the row's seed), the endpoints the rows recorded (or the overrides), then the
 * three-phase measurement (measureRows). The fingerprint in the journal covers the eval id, the
 * rows chosen, the models and every measurement setting, so a resume can never probe other rows
 * or exceed the budget.
 */
export async function probeEvalOutput(
  path: string,
  s: MeasureSettings & { rows?: string[]; specialist?: EndpointOverride; ancestor?: EndpointOverride; env?: NodeJS.ProcessEnv; maxJsonBytes?: number },
): Promise<ProbeRun> {
  s.onProgress?.('reading', 0, 0);
  const evalRows = await readEvalRows(path, s.maxJsonBytes !== undefined ? { maxJsonBytes: s.maxJsonBytes } : {});
  const scan = await scanEval(evalRows, { ...(s.specialist ? { specialist: s.specialist } : {}), ...(s.ancestor ? { ancestor: s.ancestor } : {}) });
  const picked = pickRows(scan.candidates, s.rows ?? []);
  const temperatures = [...new Set(picked.map((c) => c.meta.temperature))];
  if (temperatures.length > 1) throw new InputError(`the failing rows were sampled at different temperatures (${temperatures.join(', ')}): probe one provider's rows at a time (--rows)`);
  const stratumOf = (c: EvalCandidate) => rowStratum({ estimatedRegime: c.estimatedRegime, signals: c.signals });
  const chosen = sampleRows(picked, stratumOf, s.budget, s.seed);
  const pool = new ModelPool(s.env ?? process.env);
  s.onProgress?.('token ids', 0, chosen.length);
  const { rows, provenance } = await evalTargets(chosen, pool, { maxTokens: s.maxTokens, maxFailed: s.maxFailed });
  const overhead = provenance.resampled + provenance.retokenized + (await learnStopTokens(rows));
  const first = rows[0]!;
  const context: Omit<InterventionContext, 'prompt'> = {
    ...INTERVENTION_DEFAULTS,
    specialist: first.models!.specialist,
    ancestor: first.models!.ancestor,
    temperature: temperatures[0]!,
    maxTokens: s.maxTokens,
    junction: s.junction,
    continuation: s.continuation,
  };
  const settings = { source: 'eval', eval_id: evalRows.evalId, models: publicSpecs(chosen), ...measureFingerprint(s, temperatures[0]!, rows) };
  const { measurement, fingerprint } = await measure(rows, context, s, settings);
  const summary = probeSummary(measurement, {
    source: 'eval',
    evalId: evalRows.evalId,
    settings: fingerprint,
    population: { rows: scan.rows, failing: scan.candidates.length, skipped: { ...scan.skipped }, selected: rows.length, budget: s.budget, strata: strataOf(rows), tokens: provenance },
    attempts: { label: s.attempts, eval: s.evalAttempts, reprobe: measurement.reprobed > 0 ? s.attempts : 0 },
    overheadRequests: overhead,
  });
  return { measurement, summary, rows };
}

export interface PopulationSettings {
  problems: number;
  samples: number;
  ancestorSamples: number;
  temperature: number;
  /** --lineage: chain lengths (operations per problem). */
  operations?: number[];
  /** --sim: the mechanism mix. */
  mix?: Mix;
}

/**
 * `recoverability probe --lineage` / `--sim`: samples a population in-process (K rollouts per
 * problem scored by the ancestor, the ancestor's own samples), keeps the failing rows with their
 * signals and the paper's regime estimate, and measures a budgeted stratified sample of them
 * exactly as an eval's rows are measured, so `calibrate` reads all three alike.
 */
export async function probePopulation(kind: 'lineage' | 'sim', p: PopulationSettings, s: MeasureSettings): Promise<ProbeRun & { population: Population }> {
  const sampling = {
    seed: s.seed,
    samples: p.samples,
    ancestorSamples: p.ancestorSamples,
    temperature: p.temperature,
    topK: INTERVENTION_DEFAULTS.topK,
    maxTokens: s.maxTokens,
    concurrency: s.concurrency,
    onProgress: (d: number, t: number) => s.onProgress?.('sampling', d, t),
  };
  const population =
    kind === 'lineage'
      ? await lineagePopulation({ ...sampling, problems: p.problems, operations: p.operations ?? [2, 3, 4, 5] })
      : await simPopulation({ ...sampling, problems: p.problems, ...(p.mix ? { mix: p.mix } : {}) });
  const rows = sampleRows(population.rows, rowStratum, s.budget, s.seed);
  if (rows.length === 0) throw new InputError(`none of the ${p.problems} sampled problems has a failed rollout: sample more problems (--problems)`);
  const context: Omit<InterventionContext, 'prompt'> = {
    ...INTERVENTION_DEFAULTS,
    specialist: population.specialist,
    ancestor: population.ancestor,
    temperature: p.temperature,
    maxTokens: s.maxTokens,
    junction: s.junction,
    continuation: s.continuation,
  };
  const settings = {
    source: kind,
    problems: p.problems,
    ...(kind === 'lineage' ? { operations: p.operations ?? [2, 3, 4, 5] } : { mix: p.mix ?? null }),
    samples: p.samples,
    ancestor_samples: p.ancestorSamples,
    ...measureFingerprint(s, p.temperature, rows),
  };
  const { measurement, fingerprint } = await measure(rows, context, s, settings);
  const summary = probeSummary(measurement, {
    source: kind,
    evalId: null,
    settings: fingerprint,
    population: { rows: p.problems, failing: population.rows.length, skipped: { passed: p.problems - population.rows.length }, selected: rows.length, budget: s.budget, strata: strataOf(rows), tokens: null },
    attempts: { label: s.attempts, eval: s.evalAttempts, reprobe: measurement.reprobed > 0 ? s.attempts : 0 },
    overheadRequests: 0,
  });
  return { measurement, summary, rows, population };
}
