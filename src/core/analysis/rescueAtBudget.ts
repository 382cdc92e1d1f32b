/** One probe attempt, as journalled. */
export interface AttemptRecord {
  problem_id: string;
  rollout: number;
  operator: string;
  attempt: number;
  success: boolean;
}

/**
 * Rescue at a budget of b attempts per failed rollout: for each operator, the share of probed
 * (problem, rollout) units whose first success came within the first b attempts, b = 1…max
 * attempt seen. (The probe stops at a first success, so later attempts are never journalled.)
 */
export function rescueAtBudget(entries: readonly AttemptRecord[]): { operator: string; budget: number; rescue: number }[] {
  const firstSuccess = new Map<string, Map<string, number>>();
  let maxBudget = 0;
  for (const e of entries) {
    const units = firstSuccess.get(e.operator) ?? new Map<string, number>();
    firstSuccess.set(e.operator, units);
    const key = `${e.problem_id}\u0000${e.rollout}`;
    const prior = units.get(key) ?? Infinity;
    units.set(key, e.success ? Math.min(prior, e.attempt) : prior);
    maxBudget = Math.max(maxBudget, e.attempt + 1);
  }
  const out: { operator: string; budget: number; rescue: number }[] = [];
  for (const [operator, units] of [...firstSuccess].sort((a, b) => a[0].localeCompare(b[0]))) {
    for (let b = 1; b <= maxBudget; b++) {
      const rescued = [...units.values()].filter((a) => a < b).length;
      out.push({ operator, budget: b, rescue: rescued / units.size });
    }
  }
  return out;
}
