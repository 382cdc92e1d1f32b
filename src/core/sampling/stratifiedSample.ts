import { seededRandom, seedOf } from '../random/seededRandom.js';

/**
 * A seeded stratified sample of `budget` items: every stratum gets at least one item while the
 * budget allows (largest strata first), the rest is allocated in proportion to stratum size by
 * largest remainder, and items are drawn uniformly without replacement within each stratum.
 * Returns indices into `strata` in ascending order; the whole population when budget ≥ its size.
 * Deterministic for a seed, and independent of the order strata first appear in.
 *
 * @example stratifiedSample(['a', 'a', 'a', 'b'], 2, 1) // one index of an 'a', and 3
 */
export function stratifiedSample(strata: readonly string[], budget: number, seed: number): number[] {
  if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`budget must be a whole number ≥ 0, got ${budget}`);
  const n = strata.length;
  if (budget >= n) return strata.map((_, i) => i);
  const groups = new Map<string, number[]>();
  strata.forEach((s, i) => (groups.get(s) ?? groups.set(s, []).get(s)!).push(i));
  const keys = [...groups.keys()].sort((a, b) => groups.get(b)!.length - groups.get(a)!.length || (a < b ? -1 : 1));

  const take = new Map<string, number>(keys.map((k) => [k, 0]));
  let left = budget;
  for (const k of keys) {
    if (left === 0) break;
    take.set(k, 1);
    left--;
  }
  if (left > 0) {
    // Proportional shares of the remaining budget over what each stratum still has.
    const room = keys.map((k) => groups.get(k)!.length - take.get(k)!);
    const total = room.reduce((a, b) => a + b, 0);
    const exact = room.map((r) => (left * r) / total);
    const floors = exact.map(Math.floor);
    let rest = left - floors.reduce((a, b) => a + b, 0);
    const byRemainder = keys.map((_, i) => i).sort((i, j) => exact[j]! - floors[j]! - (exact[i]! - floors[i]!) || i - j);
    keys.forEach((k, i) => take.set(k, take.get(k)! + floors[i]!));
    for (const i of byRemainder) {
      if (rest === 0) break;
      if (take.get(keys[i]!)! < groups.get(keys[i]!)!.length) {
        take.set(keys[i]!, take.get(keys[i]!)! + 1);
        rest--;
      }
    }
  }
  const chosen: number[] = [];
  for (const k of keys) {
    const members = [...groups.get(k)!];
    const random = seededRandom(seedOf('stratum', seed, k));
    // Partial Fisher–Yates: the first `take` slots are a uniform sample without replacement.
    for (let i = 0; i < take.get(k)!; i++) {
      const j = i + Math.floor(random.uniform() * (members.length - i));
      [members[i], members[j]] = [members[j]!, members[i]!];
      chosen.push(members[i]!);
    }
  }
  return chosen.sort((a, b) => a - b);
}
