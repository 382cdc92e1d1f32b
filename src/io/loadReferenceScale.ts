import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { FEATURE_NAMES } from '../core/contracts/problemRecord.js';
import { featureScale, type FeatureScale } from '../core/regimes/featureScale.js';
import { InputError } from './inputError.js';
import { loadProblemRecords } from './loadProblemRecords.js';

const cache = new Map<string, Promise<FeatureScale>>();

/** What a reference population can be: a feature table, problem records, or a recoverability.json. */
const EXTENSIONS = ['.csv', '.json', '.jsonl'];
/** A reference population is a table of failures; anything far larger is not one. */
const MAX_BYTES = 256 << 20;

/**
 * The z-score scale of a reference population of failures: a recoverability.json (its `scale`),
 * a feature table (CSV) or problem records (JSON/JSONL). Cached per path. Only such files are
 * opened: another extension, a non-regular file (a device, a FIFO) or a file over 256 MiB is
 * refused before reading, and a file of the right name but the wrong shape is refused with a
 * message that names the path and what is wrong, never its content (a secrets file named
 * in `reference` must not leak a value).
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
  const refuse = (why: string) => new InputError(`reference ${path} is not a reference population: ${why}`);
  const ext = extname(path).toLowerCase();
  if (!EXTENSIONS.includes(ext)) {
    throw refuse(`expected a feature table (.csv), problem records (.json, .jsonl) or a recoverability.json, not a "${ext || 'extension-less'}" file`);
  }
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw refuse('not a regular file');
    size = s.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`reference ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (size > MAX_BYTES) throw refuse(`${(size / 2 ** 20).toFixed(0)} MiB is larger than any population of failures (limit 256 MiB)`);
  if (ext === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) throw new InputError(`reference ${path} cannot be read: ${(err as NodeJS.ErrnoException).code}`);
      throw refuse('not valid JSON'); // never the parser's message: it quotes the file
    }
    if (data && typeof data === 'object' && !Array.isArray(data) && 'scale' in data) {
      const scale = validScale((data as { scale: unknown }).scale);
      if (!scale) throw refuse('its "scale" is not a z-scale (n, and a finite mean and SD ≥ 0 for spread, concentration and logit_dispersion)');
      return scale;
    }
    if (!Array.isArray(data) && !(data && typeof data === 'object' && Array.isArray((data as { records?: unknown }).records))) {
      throw refuse('a JSON reference is a recoverability.json (with a "scale") or problem records (an array, or {"records": [...]})');
    }
  }
  let scale: FeatureScale | null;
  try {
    scale = featureScale(await loadProblemRecords(path));
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`reference ${err.message}`);
    throw err;
  }
  if (!scale) throw refuse('no failure in it has all three features');
  return scale;
}

function validScale(x: unknown): FeatureScale | null {
  const s = x as { n?: unknown; mean?: Record<string, unknown>; sd?: Record<string, unknown> } | null;
  if (!s || typeof s !== 'object' || typeof s.n !== 'number' || !s.mean || !s.sd) return null;
  for (const f of FEATURE_NAMES) {
    const m = s.mean[f];
    const d = s.sd[f];
    if (typeof m !== 'number' || !Number.isFinite(m) || typeof d !== 'number' || !Number.isFinite(d) || d < 0) return null;
  }
  return { n: s.n, mean: { ...s.mean }, sd: { ...s.sd } } as FeatureScale;
}
