import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The threads that read a promptfoo output beside the main one (loadEvalOutputs). A reader
 * takes a few hundred milliseconds to start (a thread, then its modules, zod among them), so
 * `report` and `gate` start one as the CLI starts, while the main thread loads the command: it
 * is ready when the reading begins. This module stays light (it loads nothing of the reader's).
 */

/** The reader's script: it waits for its jobs (a `ReaderJobs` message). */
export const READER_SCRIPT = fileURLToPath(new URL('./loadEvalOutputWorker.js', import.meta.url));

/** A JSONL output at least this large is read in chunks by every thread (smaller ones by one thread each). */
export const PARALLEL_BYTES = 64 << 20;

/** Readers started ahead and not yet taken (none that failed or exited), each with its listener that drops it. */
const started = new Map<Worker, () => void>();

/** A new reader thread (a larger young generation than the default: a reader allocates many short-lived values per row). */
function newReader(): Worker {
  return new Worker(READER_SCRIPT, { resourceLimits: { maxYoungGenerationSizeMb: 48 } });
}

/**
 * Starts one reader now, to be taken by the next reading (readerThread). It never keeps the
 * process alive, and one that fails before it is taken is dropped (the reading starts another).
 */
export function startReader(): void {
  if (!existsSync(READER_SCRIPT)) return;
  const worker = newReader();
  worker.unref();
  const drop = () => void started.delete(worker);
  worker.once('error', drop);
  worker.once('exit', drop);
  started.set(worker, drop);
}

/** Readers started ahead and waiting to be taken. */
export function readersWaiting(): number {
  return started.size;
}

/** A reader: one started ahead, else a new one. */
export function readerThread(): Worker {
  for (const [worker, drop] of started) {
    started.delete(worker);
    worker.off('error', drop);
    worker.off('exit', drop);
    worker.ref();
    return worker;
  }
  return newReader();
}

/**
 * Starts a reader when the outputs at `paths` will be read by more than one thread: several
 * outputs (the gate's two), or one JSONL output of PARALLEL_BYTES or more. A path that cannot
 * be read starts none (the reading then names it).
 */
export function startReaderFor(paths: readonly (string | undefined)[]): void {
  if (availableParallelism() < 2) return;
  const files = paths.filter((p): p is string => p !== undefined);
  try {
    if (files.length > 1 || (files.length === 1 && files[0]!.toLowerCase().endsWith('.jsonl') && statSync(files[0]!).size >= PARALLEL_BYTES)) startReader();
  } catch {
    // not readable: no reader ahead
  }
}
