import { parentPort } from 'node:worker_threads';
import { InputError } from './inputError.js';
import { type PartialEvalOutput, RangeLineError, readRange } from './loadEvalOutput.js';
import { type PackedRows, packedBuffers, packRows } from './rowTransfer.js';

/** What a reader is asked to read: the jobs, and the counter every thread takes the next job from. */
export interface ReaderJobs {
  jobs: readonly { path: string; range?: { start: number; end: number } }[];
  next: Int32Array;
  purpose: 'report' | 'gate';
  chunkBytes?: number;
}

/**
 * What a reader posts: a job's part (its rows in `packed` when they pack, `ok.inputs` then
 * empty), a job's failure, or that it has stopped.
 */
export interface ReaderMessage {
  job?: number;
  ok?: PartialEvalOutput;
  packed?: PackedRows;
  error?: { kind: string; message: string; line?: number; rest?: string };
  done?: boolean;
}

/**
 * A reader thread of loadEvalOutputs (started by readerThreads, possibly before the reading is
 * known): waits for its ReaderJobs, then takes the next job from the shared counter (a whole
 * output, or a byte range of whole JSONL lines) until none is left, and posts what each held
 * (its rows packed in columns: rowTransfer).
 */
parentPort!.once('message', (asked: ReaderJobs) => void read(asked));

async function read({ jobs, next, purpose, chunkBytes }: ReaderJobs): Promise<void> {
  for (let job = Atomics.add(next, 0, 1); job < jobs.length; job = Atomics.add(next, 0, 1)) {
    try {
      const part = await readRange(jobs[job]!.path, purpose, jobs[job]!.range, chunkBytes);
      // The rows in columns where they pack (they move as a few buffers), else as objects.
      const packed = packRows(part.inputs);
      if (packed === null) parentPort!.postMessage({ job, ok: part } satisfies ReaderMessage);
      else parentPort!.postMessage({ job, ok: { ...part, inputs: [] }, packed } satisfies ReaderMessage, packedBuffers(packed));
    } catch (err) {
      Atomics.store(next, 0, jobs.length); // nobody takes another job
      const e = err as Error;
      parentPort!.postMessage({
        job,
        error:
          err instanceof RangeLineError
            ? { kind: 'RangeLineError', message: e.message, line: err.line, rest: err.rest }
            : { kind: err instanceof InputError ? 'InputError' : e.name, message: e.message },
      });
    }
  }
  parentPort!.postMessage({ done: true });
}
