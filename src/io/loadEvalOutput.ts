import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorRowInput, ReportRowInput } from '../core/analysis/buildEvalReport.js';
import { classifyResult, reportRowFromParts, VerdictError } from '../report/reportInputs.js';
import { evalOutputSize } from './evalOutputSize.js';
import { InputError } from './inputError.js';
import { JsonSyntaxError, NeedMoreInput } from './jsonScan.js';
import { OutputFormatError, readPromptfooRows } from './promptfooOutput.js';
import { scanRowParts } from './rowScan.js';

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
  /** Threads for a large JSONL output (default: the machine's parallelism, at most 4). */
  threads?: number;
  /** JSONL outputs from this size on are read by several threads (64 MiB). */
  parallelMinBytes?: number;
  /** Read a large output in a thread of its own even with `threads: 1` (the gate reads its candidate there while this thread reads the baseline). */
  ownThread?: boolean;
  /** The initial read window (8 MiB); tests make it small to cross window boundaries. */
  chunkBytes?: number;
}

/** A JSONL output at least this large is read by several threads, each a range of lines. */
const PARALLEL_BYTES = 64 << 20;
const WORKER = fileURLToPath(new URL('./loadEvalOutputWorker.js', import.meta.url));

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
 * JSON) — streaming, with memory O(rows kept), never O(file); a large JSONL file is read by
 * several threads at once, each a range of whole lines. Graded rows are read by key without
 * parsing their rollouts (rowScan), other rows are parsed whole. A relative `reference` in the
 * verdicts resolves against the output file's folder. Every failure is an InputError that names
 * the file and where in it, and never quotes its content.
 */
export async function loadEvalOutput(path: string, options: LoadOptions = {}): Promise<EvalOutput> {
  const size = await evalOutputSize(path);
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(4, availableParallelism()), 16));
  const purpose = options.purpose ?? 'report';
  const large = size >= (options.parallelMinBytes ?? PARALLEL_BYTES) && existsSync(WORKER);
  const jsonl = path.toLowerCase().endsWith('.jsonl');
  const parts =
    large && jsonl && threads > 1
      ? await readInParallel(path, size, threads, purpose, options.chunkBytes)
      : large && options.ownThread
        ? [await inWorker(path, purpose, undefined, options.chunkBytes).catch((err: unknown) => rethrowRanged(path, err))]
        : [await readRange(path, purpose, undefined, options.chunkBytes)];

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
          if (parts !== null && parts !== 'no-verdict') {
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

/** Splits a JSONL file into `threads` ranges of whole lines and reads them in worker threads. */
async function readInParallel(path: string, size: number, threads: number, purpose: 'report' | 'gate', chunkBytes?: number): Promise<PartialEvalOutput[]> {
  const starts = [0];
  const handle = await open(path, 'r');
  try {
    const probe = Buffer.allocUnsafe(1 << 20);
    for (let k = 1; k < threads; k++) {
      let at = Math.floor((size * k) / threads);
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
      if (at > starts.at(-1)!) starts.push(at);
    }
  } finally {
    await handle.close();
  }
  const ranges = starts.map((start, k) => ({ start, end: starts[k + 1] ?? size }));
  // This thread reads the first range itself (its rows need no copying between threads); workers read the others.
  const settled = await Promise.allSettled(ranges.map((range, k) => (k === 0 ? readRange(path, purpose, range, chunkBytes) : inWorker(path, purpose, range, chunkBytes))));
  for (let k = 0; k < settled.length; k++) {
    const s = settled[k]!;
    if (s.status === 'fulfilled') continue;
    const err = s.reason as unknown;
    if (err instanceof RangeLineError) {
      const before = await countLines(path, ranges[k]!.start);
      throw new InputError(`${path}, line ${before + err.line}${err.rest}`);
    }
    throw err;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<PartialEvalOutput>).value);
}

/** A reader thread's failure, for a whole-file read (no range: its line numbers are the file's). */
function rethrowRanged(path: string, err: unknown): never {
  if (err instanceof RangeLineError) throw new InputError(`${path}, line ${err.line}${err.rest}`);
  throw err;
}

function inWorker(path: string, purpose: 'report' | 'gate', range: { start: number; end: number } | undefined, chunkBytes?: number): Promise<PartialEvalOutput> {
  return new Promise((resolvePart, reject) => {
    // A larger young generation than the default: a reader allocates many short-lived values per row.
    const worker = new Worker(WORKER, { workerData: { path, purpose, range, chunkBytes }, resourceLimits: { maxYoungGenerationSizeMb: 48 } });
    worker.once('message', (m: { ok?: PartialEvalOutput; error?: { kind: string; message: string; line?: number; rest?: string } }) => {
      if (m.ok) resolvePart(m.ok);
      else if (m.error?.kind === 'RangeLineError') reject(new RangeLineError(m.error.line!, m.error.rest!));
      else if (m.error?.kind === 'InputError') reject(new InputError(m.error.message));
      else reject(new Error(m.error?.message ?? 'the reader thread failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the reader thread exited with code ${code}`)));
  });
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
