import type { Budget } from '../contracts/evalReport.js';

/** One probe attempt, as journalled. */
export interface AttemptRecord {
  problem_id: string;
  rollout: number;
  operator: string;
  attempt: number;
  success: boolean;
  /** The probe phase (label / eval / reprobe); absent in journals written before phases: label. */
  phase?: string | undefined;
  /** Tokens generated and read by the attempt, when journalled. */
  tokens?: number | undefined;
  prompt_tokens?: number | undefined;
}

/**
 * Rescue at a budget of b attempts per failed rollout: for each operator, the share of probed
 * (problem, rollout) units whose first success came within the first b attempts, b = 1…max
 * attempt seen. (The probe stops at a first success, so later attempts are never journalled.)
 */
export function rescueAtBudget(entries: readonly AttemptRecord[]): { operator: string; budget: number; rescue: number }[] {
  return rescueCurves(entries).flatMap((c) => c.points.map((p) => ({ operator: c.operator, ...p })));
}

/** The curves of rescueAtBudget with the units (failed rollouts) and attempts behind each operator. */
export function rescueCurves(entries: readonly AttemptRecord[]): { operator: string; units: number; attempts: number; tokens: number | null; points: { budget: number; rescue: number }[] }[] {
  const firstSuccess = new Map<string, Map<string, number>>();
  const attempts = new Map<string, number>();
  const tokens = new Map<string, number | null>();
  let maxBudget = 0;
  for (const e of entries) {
    const units = firstSuccess.get(e.operator) ?? new Map<string, number>();
    firstSuccess.set(e.operator, units);
    const key = `${e.problem_id}\u0000${e.rollout}`;
    const prior = units.get(key) ?? Infinity;
    units.set(key, e.success ? Math.min(prior, e.attempt) : prior);
    maxBudget = Math.max(maxBudget, e.attempt + 1);
    attempts.set(e.operator, (attempts.get(e.operator) ?? 0) + 1);
    const t = e.tokens === undefined ? null : e.tokens + (e.prompt_tokens ?? 0);
    const before = tokens.has(e.operator) ? tokens.get(e.operator)! : 0;
    tokens.set(e.operator, before === null || t === null ? null : before + t);
  }
  return [...firstSuccess].sort((a, b) => a[0].localeCompare(b[0])).map(([operator, units]) => {
    const firsts = [...units.values()];
    const points: { budget: number; rescue: number }[] = [];
    for (let b = 1; b <= maxBudget; b++) points.push({ budget: b, rescue: firsts.filter((a) => a < b).length / units.size });
    return { operator, units: units.size, attempts: attempts.get(operator)!, tokens: tokens.get(operator) ?? null, points };
  });
}

/**
 * Rescue at budget on this model, from a probe journal: the fresh `eval` phase's attempts (the
 * label phase's for a journal written before phases, said in a note; re-probe attempts never).
 */
export function budgetSection(path: string, settings: string | null, entries: readonly AttemptRecord[]): Budget {
  const hasPhases = entries.some((e) => e.phase !== undefined);
  const evalEntries = entries.filter((e) => e.phase === 'eval');
  const phase: Budget['phase'] = evalEntries.length > 0 ? 'eval' : 'label';
  const used = phase === 'eval' ? evalEntries : entries.filter((e) => (e.phase ?? 'label') === 'label');
  const notes: string[] = [];
  if (phase === 'label') {
    notes.push(
      hasPhases
        ? 'the journal has no eval-phase attempts (probe --eval-attempts 0): the curves use the label phase, whose attempts also decided the labels'
        : 'a journal written before the probe had phases: the curves use its attempts, which also decided the labels',
    );
  }
  return { path, phase, settings, problems: new Set(used.map((e) => e.problem_id)).size, curves: rescueCurves(used), notes };
}
