import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorRowInput, ReportRowInput } from '../core/analysis/buildEvalReport.js';
import { classifyResult, reportRowFromParts, VerdictError } from '../report/reportInputs.js';
import { evalOutputSize } from './evalOutputSize.js';
import { InputError } from './inputError.js';
import { JsonSyntaxError, NeedMoreInput } from './jsonScan.js';
import { OutputFormatError, readPromptfooRows } from './promptfooOutput.js';
import type { ReaderJobs, ReaderMessage } from './loadEvalOutputWorker.js';
import { PARALLEL_BYTES, READER_SCRIPT, readerThread } from './readerThreads.js';
import { scanRowParts } from './rowScan.js';
import { type PackedRows, unpackRows } from './rowTransfer.js';

export interface EvalOutput {
  path: string;
  format: 'json' | 'jsonl';
  evalId: string | null;
  /** Rows graded by gradeRollouts, in file order. */
  inputs: ReportRowInput[];
  /** Rows that errored (promptfoo's ERROR rows): counted and listed, never graded. */
  errors: ErrorRowInput[];
  /** Rows with neither a verdict nor an error (not graded by gradeRollouts). */
  ungraded: number;
  /** The reference population the rows were routed on, resolved against the output's folder, if any. */
  reference: string | null;
}

export interface LoadOptions {
  /**
   * `gate` reads only what the gate uses (no sample outputs, no answer distribution); `report`
   * (default) reads everything the report shows.
   */
  purpose?: 'report' | 'gate';
  /** Threads reading, this one included (default: the machine's parallelism, at most 4). */
  threads?: number;
  /** JSONL outputs from this size on are read in chunks by every thread (64 MiB). */
  parallelMinBytes?: number;
  /** The initial read window (8 MiB); tests make it small to cross window boundaries. */
  chunkBytes?: number;
  /**
   * Called on this thread with each output (its index in `paths`) as soon as all of it is read,
   * while other threads may still read the others: the gate builds the baseline's report then.
   * Not called for an output that fails; what it throws is thrown once reading is done.
   */
  onOutput?: (index: number, output: EvalOutput) => void;
}

/** Regular chunks of a large JSONL output: about this many per thread (so threads that run slower take fewer), each 8–64 MiB; smaller ones follow (chunkStarts). */
const CHUNKS_PER_THREAD = 6;

/** An input error about a JSONL line counted from the start of a range: the caller names the line in the file. */
export class RangeLineError extends Error {
  override readonly name = 'RangeLineError';
  constructor(
    readonly line: number,
    /** The message after "<path>, line N". */
    readonly rest: string,
  ) {
    super(rest);
  }
}

/** What one reader (of the whole file or of a range) found. */
export interface PartialEvalOutput {
  format: 'json' | 'jsonl';
  evalId: string | null;
  inputs: ReportRowInput[];
  errors: ErrorRowInput[];
  ungraded: number;
  storedReference: string | null;
  rows: number;
}

/**
 * Reads a promptfoo output written with the plugin — `promptfoo eval -o out.json` (pretty JSON,
 * as promptfoo 0.121 writes it) or `-o out.jsonl` (one result per line, for evals too large for
 * JSON) — streaming, with memory O(rows kept), never O(file); a large JSONL file is read in
 * chunks of whole lines by several threads at once. Graded rows are read by key without parsing
 * their rollouts (rowScan), other rows are parsed whole. A relative `reference` in the verdicts
 * resolves against the output file's folder. Every failure is an InputError that names the file
 * and where in it, and never quotes its content.
 */
export async function loadEvalOutput(path: string, options: LoadOptions = {}): Promise<EvalOutput> {
  return (await loadEvalOutputs([path], options))[0]!;
}

/**
 * Several outputs read at once (the gate's two), sharing the threads: every thread, this one
 * included, takes the next chunk (a byte range of whole JSONL lines, or a whole JSON file) until
 * none is left, so a thread that runs slower reads less. Rows come back in file order.
 */
export async function loadEvalOutputs(paths: readonly string[], options: LoadOptions = {}): Promise<EvalOutput[]> {
  const sizes = await Promise.all(paths.map((p) => evalOutputSize(p)));
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(4, availableParallelism()), 16));
  const purpose = options.purpose ?? 'report';
  const canThread = threads > 1 && existsSync(READER_SCRIPT);
  const jobs: ReadJob[] = [];
  for (let f = 0; f < paths.length; f++) {
    const path = paths[f]!;
    const chunked = canThread && path.toLowerCase().endsWith('.jsonl') && sizes[f]! >= (options.parallelMinBytes ?? PARALLEL_BYTES);
    if (!chunked) jobs.push({ file: f, path });
    else {
      // Chunks of 8 MiB at least (less only when told to thread smaller files: tests).
      const minChunk = Math.max(1, Math.min(8 << 20, options.parallelMinBytes ?? PARALLEL_BYTES));
      for (const range of await lineRanges(path, sizes[f]!, threads * CHUNKS_PER_THREAD, threads, minChunk)) jobs.push({ file: f, path, range });
    }
  }
  // Whole files first: they are the longest jobs.
  jobs.sort((a, b) => Number(a.range !== undefined) - Number(b.range !== undefined) || a.file - b.file || (a.range?.start ?? 0) - (b.range?.start ?? 0));
  const parts: PartialEvalOutput[] = new Array(jobs.length);
  const partsOf = (f: number) => jobs.flatMap((job, k) => (job.file === f ? [parts[k]!] : []));
  // Each output as soon as its last part is in (for onOutput).
  const left = paths.map((_, f) => jobs.filter((job) => job.file === f).length);
  const outputs: (EvalOutput | undefined)[] = new Array(paths.length);
  /** What onOutput threw (the first), thrown once reading is done. */
  const thrown: unknown[] = [];
  const onPart = (k: number, part: PartialEvalOutput) => {
    parts[k] = part;
    const f = jobs[k]!.file;
    if (--left[f]! > 0 || !options.onOutput || thrown.length > 0) return;
    try {
      outputs[f] = assemble(paths[f]!, partsOf(f));
    } catch {
      return; // thrown below, in file order
    }
    try {
      options.onOutput(f, outputs[f]);
    } catch (error) {
      thrown.push(error);
    }
  };
  if (canThread && jobs.length > 1) await readJobsInThreads(jobs, Math.min(threads, jobs.length), purpose, options.chunkBytes, onPart);
  else await readJobsHere(jobs, purpose, options.chunkBytes, onPart);
  const all = paths.map((path, f) => outputs[f] ?? assemble(path, partsOf(f)));
  if (thrown.length > 0) throw thrown[0];
  return all;
}

/** One output from the parts its jobs read, in file order. */
function assemble(path: string, parts: PartialEvalOutput[]): EvalOutput {
  const out: EvalOutput = { path, format: parts[0]!.format, evalId: parts[0]!.evalId, inputs: [], errors: [], ungraded: 0, reference: null };
  let rows = 0;
  let storedReference: string | null = null;
  for (const p of parts) {
    for (const r of p.inputs) out.inputs.push(r);
    for (const e of p.errors) out.errors.push(e);
    out.ungraded += p.ungraded;
    rows += p.rows;
    storedReference ??= p.storedReference;
  }
  if (out.inputs.length === 0) {
    const errored = out.errors.length > 0 ? `; ${out.errors.length} of them errored (${summarizeKinds(out.errors)})` : '';
    throw new InputError(
      `${path} has no recoverability columns: none of its ${rows} rows was graded by gradeRollouts${errored} (run the eval with the RolloutProvider and the gradeRollouts assertion)`,
    );
  }
  out.reference = storedReference === null ? null : isAbsolute(storedReference) ? storedReference : resolve(dirname(path), storedReference);
  return out;
}

/**
 * Reads the whole output, or the JSONL lines of one byte range (`range.start` at a line start).
 * Errors: InputError (named by path and row), or RangeLineError for a line of a range.
 */
export async function readRange(path: string, purpose: 'report' | 'gate', range?: { start: number; end: number }, chunkBytes?: number): Promise<PartialEvalOutput> {
  const out: PartialEvalOutput = { format: 'json', evalId: null, inputs: [], errors: [], ungraded: 0, storedReference: null, rows: 0 };
  const gate = purpose === 'gate';
  const fail = (line: number | null, whereText: string, rest: string): never => {
    if (range && line !== null) throw new RangeLineError(line, rest);
    throw new InputError(`${path}, ${whereText}${rest}`);
  };
  try {
    await readPromptfooRows(
      path,
      (info) => ((out.format = info.format), (out.evalId = info.evalId)),
      (row) => {
        out.rows++;
        try {
          const parts = scanRowParts(row.buf, row.start, row.end, gate);
          if (parts !== null) {
            const graded = reportRowFromParts(parts, '', gate);
            out.inputs.push(graded.row);
            out.storedReference ??= graded.reference;
            return;
          }
          let result: unknown;
          try {
            result = JSON.parse(row.buf.toString('utf8', row.start, row.end));
          } catch {
            return fail(row.line, row.where, ` is not valid JSON${out.format === 'jsonl' ? ' (a JSONL output holds one complete promptfoo result per line)' : ''}`);
          }
          const c = classifyResult(result, '');
          if (c.kind === 'graded') {
            out.inputs.push(c.row);
            out.storedReference ??= c.reference;
          } else if (c.kind === 'error') out.errors.push(c.error);
          else out.ungraded++;
        } catch (err) {
          if (err instanceof VerdictError) return fail(row.line, row.where, err.message);
          if (err instanceof JsonSyntaxError || err instanceof NeedMoreInput || err instanceof SyntaxError) return fail(row.line, row.where, ' is not valid JSON');
          throw err;
        }
      },
      range,
      chunkBytes,
    );
  } catch (err) {
    if (err instanceof InputError || err instanceof RangeLineError) throw err;
    if (err instanceof OutputFormatError) {
      if (range && err.line !== null) throw new RangeLineError(err.line, err.message.replace(/^line \d+/, ''));
      throw new InputError(`${path} ${err.message}`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new InputError(`cannot read ${path}: ${code}`);
    throw err;
  }
  return out;
}

/** What one thread reads: a whole output, or a byte range of whole lines of a JSONL output. */
interface ReadJob {
  file: number;
  path: string;
  range?: { start: number; end: number };
}

/**
 * Byte ranges covering a JSONL file for `threads` threads, each starting at a line start: about
 * `count` regular ones (`minChunk` to 64 MiB each), then smaller ones (chunkStarts).
 */
async function lineRanges(path: string, size: number, count: number, threads: number, minChunk: number): Promise<{ start: number; end: number }[]> {
  const parts = Math.max(1, Math.min(count, Math.floor(size / minChunk)), Math.ceil(size / (64 << 20)));
  const starts = [0];
  const handle = await open(path, 'r');
  try {
    const probe = Buffer.allocUnsafe(1 << 20);
    for (const cut of chunkStarts(size, parts, threads, minChunk).slice(1)) {
      let at = cut;
      for (;;) {
        const { bytesRead } = await handle.read(probe, 0, probe.length, at);
        if (bytesRead === 0) {
          at = size;
          break;
        }
        const nl = probe.subarray(0, bytesRead).indexOf(0x0a);
        if (nl >= 0) {
          at += nl + 1;
          break;
        }
        at += bytesRead;
      }
      if (at > starts.at(-1)! && at < size) starts.push(at);
    }
  } finally {
    await handle.close();
  }
  return starts.map((start, k) => ({ start, end: starts[k + 1] ?? size }));
}

/**
 * Where the chunks of a file of `size` bytes begin (before each moves on to a line start):
 * chunks of a `parts`-th of the file, except that the last ones shrink, each about a
 * 2·`threads`-th of what is left (not under an eighth of the others or `minChunk`), and the very
 * last is what remains. Threads that take the next chunk until none is left then finish within a
 * small chunk of each other, not a whole one (guided self-scheduling).
 */
export function chunkStarts(size: number, parts: number, threads: number, minChunk: number): number[] {
  const regular = size / parts;
  const smallest = Math.max(minChunk, regular / 8);
  const starts = [0];
  for (let at = 0; ; ) {
    const left = size - at;
    const chunk = Math.max(1, Math.floor(Math.max(smallest, Math.min(regular, left / (2 * threads)))));
    if (chunk >= left) return starts;
    starts.push((at += chunk));
  }
}

/** What a reader hands over: job k's part, as soon as it is read. */
type OnPart = (k: number, part: PartialEvalOutput) => void;

/** Reads every job in this thread, in order. */
async function readJobsHere(jobs: readonly ReadJob[], purpose: 'report' | 'gate', chunkBytes: number | undefined, onPart: OnPart): Promise<void> {
  for (let k = 0; k < jobs.length; k++) {
    const job = jobs[k]!;
    onPart(k, await readRange(job.path, purpose, job.range, chunkBytes).catch((err: unknown) => rethrowRanged(job, err)));
  }
}

/**
 * Reads the jobs with `threads` threads: this one and threads − 1 workers, each taking the next
 * job from a shared counter until none is left (a worker's rows come to this thread as it
 * finishes each job, packed in columns (rowTransfer), and are handed to `onPart` here). The first failure in file order is thrown
 * once every thread has stopped.
 */
async function readJobsInThreads(jobs: readonly ReadJob[], threads: number, purpose: 'report' | 'gate', chunkBytes: number | undefined, onPart: OnPart): Promise<void> {
  const next = new Int32Array(new SharedArrayBuffer(4));
  const failures: { job: number; error: unknown }[] = [];
  const stop = (job: number, error: unknown) => {
    failures.push({ job, error });
    Atomics.store(next, 0, jobs.length); // nobody takes another job
  };
  const workers = Array.from({ length: threads - 1 }, () => inWorker(jobs, next, purpose, chunkBytes, onPart, stop));
  for (let job = Atomics.add(next, 0, 1); job < jobs.length; job = Atomics.add(next, 0, 1)) {
    let part: PartialEvalOutput;
    try {
      part = await readRange(jobs[job]!.path, purpose, jobs[job]!.range, chunkBytes);
    } catch (err) {
      stop(job, err);
      continue;
    }
    onPart(job, part);
  }
  await Promise.all(workers);
  if (failures.length > 0) {
    // The first failure in file order (as one thread reading the files in turn would meet it).
    const where = (job: number) => [jobs[job]?.file ?? Infinity, jobs[job]?.range?.start ?? 0];
    const first = failures.sort((a, b) => where(a.job)[0]! - where(b.job)[0]! || where(a.job)[1]! - where(b.job)[1]!)[0]!;
    const job = jobs[first.job];
    if (job) await rethrowRanged(job, first.error);
    throw first.error; // a thread that failed outside any job
  }
}

/** A reader's failure, with an error in a range's line named by its line in the file. */
async function rethrowRanged(job: ReadJob, err: unknown): Promise<never> {
  if (err instanceof RangeLineError) {
    const before = job.range ? await countLines(job.path, job.range.start) : 0;
    throw new InputError(`${job.path}, line ${before + err.line}${err.rest}`);
  }
  throw err;
}

/** A worker thread taking jobs until none is left; settles when it has stopped. */
function inWorker(
  jobs: readonly ReadJob[],
  next: Int32Array,
  purpose: 'report' | 'gate',
  chunkBytes: number | undefined,
  onPart: (job: number, part: PartialEvalOutput) => void,
  onError: (job: number, error: unknown) => void,
): Promise<void> {
  return new Promise((resolveDone) => {
    const worker = readerThread();
    worker.postMessage({ jobs, next, purpose, chunkBytes } satisfies ReaderJobs);
    let done = false;
    const finish = () => {
      if (!done) (done = true), resolveDone();
    };
    worker.on('message', (m: ReaderMessage) => {
      if (m.done) return finish();
      if (m.ok) onPart(m.job!, receivedPart(m.ok, m.packed));
      else if (m.error) {
        const e = m.error;
        onError(m.job!, e.kind === 'RangeLineError' ? new RangeLineError(e.line!, e.rest!) : e.kind === 'InputError' ? new InputError(e.message) : new Error(e.message));
      }
    });
    worker.once('error', (err) => {
      onError(jobs.length, err);
      finish();
    });
    worker.once('exit', (code) => {
      if (code !== 0 && !done) onError(jobs.length, new Error(`the reader thread exited with code ${code}`));
      finish();
    });
  });
}

/** A part as a reader thread posted it (ReaderMessage's `ok` and `packed`), with its rows. */
export function receivedPart(ok: PartialEvalOutput, packed: PackedRows | undefined): PartialEvalOutput {
  return packed ? { ...ok, inputs: unpackRows(packed) } : ok;
}

/** Lines before byte `offset` (only to name a line in an error). */
async function countLines(path: string, offset: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    let n = 0;
    for (let at = 0; at < offset; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, offset - at), at);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(0x0a, 0); i >= 0 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) n++;
      at += bytesRead;
    }
    return n;
  } finally {
    await handle.close();
  }
}

function summarizeKinds(errors: readonly ErrorRowInput[]): string {
  const kinds = new Map<string, number>();
  for (const e of errors) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  return [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
}
