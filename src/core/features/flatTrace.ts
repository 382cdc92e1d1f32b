import { InvalidLogprobError } from '../tokens/tokenSignals.js';

/**
 * One model's top-K slices over a rollout as flat typed arrays (CSR): position t's entries are
 * [offsets[t], offsets[t + 1]) of `ids`, `logprobs` and, optionally, `ranks` (vLLM's, see
 * TopKSlice). An empty range is a position without scores. Entries may come in any order.
 */
export interface FlatSlices {
  ids: Int32Array;
  logprobs: Float64Array;
  ranks?: Int32Array | undefined;
  /** n + 1 non-decreasing offsets, from 0 to the number of entries. */
  offsets: Int32Array;
}

/**
 * A rollout's token steps without an object per position (RolloutFeatureAccumulator.pushFlat):
 * the taken token per position, the specialist's slices and, optionally, the ancestor's.
 */
export interface FlatTrace {
  tokens: Int32Array;
  specialist: FlatSlices;
  ancestor?: FlatSlices | undefined;
}

/** Checks a flat trace's shape (not its log-probs: the kernel does) and returns its positions. */
export function checkFlatTrace(trace: FlatTrace): number {
  const n = trace.tokens.length;
  checkSlices(trace.specialist, n, 'specialist');
  if (trace.ancestor) checkSlices(trace.ancestor, n, 'ancestor');
  return n;
}

function checkSlices(f: FlatSlices, n: number, which: string): void {
  const fail = (msg: string) => {
    throw new InvalidLogprobError(`flat trace: ${which}.${msg}`);
  };
  // Typed arrays, as declared (a JavaScript caller may pass plain arrays); ranks are optional.
  const typed = (field: keyof FlatSlices, type: typeof Int32Array | typeof Float64Array, optional = false) => {
    const v = f[field];
    if ((optional && v === undefined) || v instanceof type) return;
    fail(`${field} must be ${type === Int32Array ? 'an' : 'a'} ${type.name} (a flat trace is typed arrays: ${type.name}.from(values) makes one)`);
  };
  typed('ids', Int32Array);
  typed('logprobs', Float64Array);
  typed('offsets', Int32Array);
  typed('ranks', Int32Array, true);
  const o = f.offsets;
  if (o.length !== n + 1) fail(`offsets has ${o.length} entries for ${n} positions; it needs n + 1 (one start per position, then the end)`);
  if (f.logprobs.length !== f.ids.length) fail(`logprobs has ${f.logprobs.length} entries but ids has ${f.ids.length}; one log-prob per id`);
  if (f.ranks && f.ranks.length !== f.ids.length) fail(`ranks has ${f.ranks.length} entries but ids has ${f.ids.length}; one rank per id, or none`);
  if (o[0] !== 0 || o[n] !== f.ids.length) fail(`offsets must run from 0 to ${f.ids.length} (the number of entries), got ${o[0]} … ${o[n]}`);
  for (let t = 0; t < n; t++) if (o[t + 1]! < o[t]!) fail(`offsets must not decrease: offsets[${t + 1}] = ${o[t + 1]} < offsets[${t}] = ${o[t]}`);
}
