import { readFile } from 'node:fs/promises';
import { featureScale, type FeatureScale } from '../core/regimes/featureScale.js';
import { InputError } from './inputError.js';
import { loadProblemRecords } from './loadProblemRecords.js';

const cache = new Map<string, Promise<FeatureScale>>();

/**
 * The z-score scale of a reference population of failures: a recoverability.json (its `scale`),
 * a feature table (CSV) or problem records (JSON/JSONL). Cached per path.
 */
export function loadReferenceScale(path: string): Promise<FeatureScale> {
  let p = cache.get(path);
  if (!p) {
    p = readReference(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

async function readReference(path: string): Promise<FeatureScale> {
  if (path.endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new InputError(`reference ${path}: ${(err as Error).message}`);
    }
    const scale = (data as { scale?: FeatureScale | null })?.scale;
    if (scale && typeof scale === 'object' && 'mean' in scale && 'sd' in scale) return scale;
  }
  const scale = featureScale(await loadProblemRecords(path));
  if (!scale) throw new InputError(`reference ${path} has no failures with all three features`);
  return scale;
}
