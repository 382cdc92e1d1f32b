import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from './inputError.js';
import { RangeLineError, readRange } from './loadEvalOutput.js';

/** A reader thread of loadEvalOutput: reads one range of whole JSONL lines (or the whole output) and posts what it found. */
const { path, purpose, range, chunkBytes } = workerData as { path: string; purpose: 'report' | 'gate'; range?: { start: number; end: number }; chunkBytes?: number };
try {
  parentPort!.postMessage({ ok: await readRange(path, purpose, range, chunkBytes) });
} catch (err) {
  const e = err as Error;
  parentPort!.postMessage({
    error:
      err instanceof RangeLineError
        ? { kind: 'RangeLineError', message: e.message, line: err.line, rest: err.rest }
        : { kind: err instanceof InputError ? 'InputError' : e.name, message: e.message },
  });
}
