import { type FileHandle, open } from 'node:fs/promises';
import { JsonSyntaxError, NeedMoreInput, nextMember, readKey, readValue, skipValue, skipWs } from './jsonScan.js';
import { JsonBuffer } from './wasmJsonBuffer.js';

/** One result row of a promptfoo output: bytes [start, end) of `buf`, valid only while it is being handled. */
export interface RowSlice {
  buf: Buffer;
  start: number;
  end: number;
  /** Where it is, for messages: `line 17` (JSONL, counted from the range's start) or `results[16]` (JSON). */
  where: string;
  /** The JSONL line (from the range's start), or null in JSON. */
  line: number | null;
}

/** The output is not what promptfoo writes: a message without any of the file's content. */
export class OutputFormatError extends Error {
  override readonly name = 'OutputFormatError';
  constructor(
    message: string,
    /** The JSONL line it is about (from the range's start), if any. */
    readonly line: number | null = null,
  ) {
    super(message);
  }
}

/** Receives each row; the slice is valid only during the call. */
export type OnRow = (row: RowSlice) => void;
export type OnFormat = (info: { format: 'json' | 'jsonl'; evalId: string | null }) => void;

const CHUNK = 8 << 20;

/**
 * Read windows' memory left by finished reads, by size: a thread reading a large output in
 * ranges takes one range after another, and a fresh window would map and fault in its 8 MiB
 * (and instantiate its module) again for each.
 */
const spareStores = new Map<number, JsonBuffer[]>();

/**
 * A growable read window over a file range: `buf[0, len)` holds the bytes from file offset
 * `offset` on (in WebAssembly memory where it can be, so skipValue steps over containers with SIMD).
 */
class Window {
  buf: Buffer;
  private readonly store: JsonBuffer;
  len = 0;
  eof = false;
  offset: number;
  private position: number;
  constructor(
    private readonly handle: FileHandle,
    start = 0,
    private readonly end = Infinity,
    chunkBytes = CHUNK,
  ) {
    this.store = spareStores.get(chunkBytes)?.pop() ?? new JsonBuffer(chunkBytes);
    this.buf = this.store.buf;
    this.offset = start;
    this.position = start;
  }

  /** Hands the window's memory to the next window of this size in this thread (a buffer grown past it is dropped). */
  release(chunkBytes: number): void {
    if (this.store.buf.length !== chunkBytes) return;
    const spare = spareStores.get(chunkBytes) ?? [];
    if (spare.length < 2) spare.push(this.store);
    spareStores.set(chunkBytes, spare);
  }

  /** Drops the bytes before `keepFrom`, reads more; returns how far positions moved left. Sets `eof` at the range's end. */
  async more(keepFrom: number): Promise<number> {
    if (keepFrom > 0) {
      this.buf.copy(this.buf, 0, keepFrom, this.len);
      this.len -= keepFrom;
      this.offset += keepFrom;
    }
    if (this.len === this.buf.length) this.buf = this.store.grow(this.buf.length * 2, this.len);
    const want = Math.min(this.buf.length - this.len, this.end - this.position);
    const { bytesRead } = want > 0 ? await this.handle.read(this.buf, this.len, want, this.position) : { bytesRead: 0 };
    if (bytesRead === 0) this.eof = true;
    this.len += bytesRead;
    this.position += bytesRead;
    return keepFrom;
  }
}

/**
 * The result rows of a promptfoo output, streamed with memory O(largest row), never O(file):
 * - JSONL (`promptfoo eval -o out.jsonl`, one result per line, what promptfoo 0.121 writes for
 *   evals too large for JSON): rows are the non-empty lines — of the byte range `range` when
 *   given (a reader running beside others; a range starts at a line start);
 * - JSON (`-o out.json`, pretty or compact): rows are the elements of `results.results`, found by
 *   a streaming scan that stops reading after that list; `evalId` is reported through `onFormat`.
 * A `.json` file holding several JSON values in a row is read as JSONL. Errors are
 * OutputFormatErrors naming the byte offset or line, never quoting the file.
 */
export async function readPromptfooRows(
  path: string,
  onFormat: OnFormat,
  onRow: OnRow,
  range?: { start: number; end: number },
  /** Initial read window (8 MiB); it grows to hold the largest row. Tests make it small. */
  chunkBytes = CHUNK,
): Promise<void> {
  let format: 'json' | 'jsonl' = range || path.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'json';
  if (format === 'json') {
    const handle = await open(path, 'r');
    try {
      const window = new Window(handle, 0, Infinity, chunkBytes);
      try {
        if ((await jsonRows(window, onFormat, onRow)) === 'jsonl') format = 'jsonl';
      } finally {
        window.release(chunkBytes);
      }
    } finally {
      await handle.close();
    }
  }
  if (format === 'jsonl') {
    onFormat({ format: 'jsonl', evalId: null });
    const handle = await open(path, 'r');
    try {
      const window = new Window(handle, range?.start ?? 0, range?.end ?? Infinity, chunkBytes);
      try {
        await jsonlRows(window, onRow);
      } finally {
        window.release(chunkBytes);
      }
    } finally {
      await handle.close();
    }
  }
}

async function jsonlRows(w: Window, onRow: OnRow): Promise<void> {
  let pos = 0;
  let line = 1;
  for (;;) {
    let nl = w.buf.indexOf(0x0a, pos);
    if (nl >= w.len) nl = -1;
    if (nl < 0 && !w.eof) {
      pos -= await w.more(pos);
      continue;
    }
    const lineEnd = nl < 0 ? w.len : nl;
    const start = skipWs(w.buf, pos, lineEnd);
    let end = lineEnd;
    while (end > start && (w.buf[end - 1] === 0x0d || w.buf[end - 1] === 0x20 || w.buf[end - 1] === 0x09)) end--;
    if (end > start) {
      if (w.buf[start] !== 0x7b) throw new OutputFormatError(`line ${line} is not a JSON object (a JSONL output holds one promptfoo result per line)`, line);
      onRow({ buf: w.buf, start, end, where: `line ${line}`, line });
    }
    if (nl < 0) return;
    pos = nl + 1;
    line++;
  }
}

/**
 * Calls onRow with the elements of `results.results` of a JSON document, streamed. Returns
 * 'jsonl' when the document's first value is followed by another one (JSONL in a .json file).
 */
async function jsonRows(w: Window, onFormat: OnFormat, onRow: OnRow): Promise<'jsonl' | void> {
  let pos = 0;
  /** Runs a scan step at `pos`, reading more and retrying while the window ends inside it. */
  const step = async <T>(fn: () => T): Promise<T> => {
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!(err instanceof NeedMoreInput)) {
          if (err instanceof JsonSyntaxError) throw new OutputFormatError(`is not valid JSON at byte ${w.offset + err.at}: ${err.message}`);
          if (err instanceof SyntaxError) throw new OutputFormatError(`is not valid JSON near byte ${w.offset + pos}`);
          throw err;
        }
        if (w.eof) {
          throw new OutputFormatError(
            `ends before its JSON is complete (at byte ${w.offset + w.len}): the file is truncated. If promptfoo could not write it (an eval too large for JSON), write the output as JSONL: promptfoo eval -o out.jsonl`,
          );
        }
        pos -= await w.more(pos);
      }
    }
  };
  /** The keys of the object whose `{` was just consumed; the caller moves `pos` past each value. */
  const members = async function* () {
    for (;;) {
      const m = await step(() => readKey(w.buf, pos, w.len));
      if (!m) {
        pos = skipWs(w.buf, pos, w.len) + 1;
        return;
      }
      pos = m.valueAt;
      yield m.key;
      const sep = await step(() => nextMember(w.buf, pos, w.len));
      if (sep.next < 0) {
        pos = sep.closeAt + 1;
        return;
      }
      pos = sep.next;
    }
  };
  const skip = () => step(() => (pos = skipValue(w.buf, pos, w.len)));

  await step(() => {
    const i = skipWs(w.buf, pos, w.len);
    if (i >= w.len) throw new NeedMoreInput('a JSON object');
    if (w.buf[i] !== 0x7b) throw new JsonSyntaxError('a JSON object expected', i);
    pos = i + 1;
  });
  let evalId: string | null = null;
  for await (const key of members()) {
    if (key === 'evalId') {
      const v = await step(() => readValue(w.buf, pos, w.len));
      evalId = typeof v.value === 'string' ? v.value : null;
      pos = v.next;
    } else if (key === 'results' && w.buf[pos] === 0x7b) {
      pos++;
      for await (const inner of members()) {
        if (inner !== 'results' || w.buf[pos] !== 0x5b) {
          await skip();
          continue;
        }
        onFormat({ format: 'json', evalId });
        pos++;
        for (let k = 0; ; k++) {
          pos = await step(() => {
            const i = skipWs(w.buf, pos, w.len);
            if (i >= w.len) throw new NeedMoreInput('element expected');
            return i;
          });
          if (w.buf[pos] === 0x5d) break;
          if (w.buf[pos] !== 0x7b) throw new OutputFormatError(`has a results.results[${k}] that is not an object`);
          const end = await step(() => skipValue(w.buf, pos, w.len));
          onRow({ buf: w.buf, start: pos, end, where: `results[${k}]`, line: null });
          pos = end;
          const sep = await step(() => nextMember(w.buf, pos, w.len));
          if (sep.next < 0) break;
          pos = sep.next;
        }
        return; // the rest (config, metadata) is not needed
      }
    } else {
      await skip();
    }
  }
  // The first value ended without results.results: another value after it means JSONL.
  while (!w.eof && skipWs(w.buf, pos, w.len) >= w.len) pos -= await w.more(pos);
  if (skipWs(w.buf, pos, w.len) < w.len) return 'jsonl';
  throw new OutputFormatError('is not a promptfoo output: it has no results.results list (write one with promptfoo eval -o out.json, or -o out.jsonl)');
}
