import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FEATURE_NAMES, type Features } from '../core/contracts/problemRecord.js';
import type { ReferenceValues } from '../report/viewColumns.js';
import { loadProblemRecords } from './loadProblemRecords.js';
import { loadReferenceScale } from './loadReferenceScale.js';

const cache = new Map<string, Promise<ReferenceValues | null>>();

/**
 * Each feature's values over a reference population's failures, sorted ascending, for the view's
 * percentile columns: the failures with all three features of a feature table, of problem
 * records, or of a recoverability.json's rows (a row with a failed rollout). Null when the file
 * has a scale but no such rows (a hand-written `{"scale": …}`). The file is first checked by
 * loadReferenceScale (which refuses what is not a reference population, naming why); cached per path.
 */
export function loadReferenceValues(path: string): Promise<ReferenceValues | null> {
  let p = cache.get(path);
  if (!p) {
    p = readValues(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

async function readValues(path: string): Promise<ReferenceValues | null> {
  await loadReferenceScale(path);
  let population: { features: Features }[];
  if (extname(path).toLowerCase() === '.json') {
    const data = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (data && typeof data === 'object' && !Array.isArray(data) && 'scale' in data) {
      const rows = (data as { rows?: unknown }).rows;
      population = Array.isArray(rows)
        ? rows.filter((r): r is { features: Features; n_passed: number; n_rollouts: number } => {
            const x = r as { features?: unknown; n_passed?: unknown; n_rollouts?: unknown } | null;
            return !!x && typeof x.features === 'object' && x.features !== null && typeof x.n_passed === 'number' && typeof x.n_rollouts === 'number' && x.n_passed < x.n_rollouts;
          })
        : [];
    } else population = await loadProblemRecords(path);
  } else population = await loadProblemRecords(path);
  const usable = population.filter((p) => FEATURE_NAMES.every((f) => typeof p.features[f] === 'number' && Number.isFinite(p.features[f])));
  if (usable.length === 0) return null;
  return Object.fromEntries(FEATURE_NAMES.map((f) => [f, usable.map((p) => p.features[f] as number).sort((a, b) => a - b)])) as unknown as ReferenceValues;
}
