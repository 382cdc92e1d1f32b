import { open } from 'node:fs/promises';
import type { EvalReport } from '../core/contracts/evalReport.js';

/** Bytes encoded before a write (4 MiB): rows are UTF-8 encoded into one reused buffer, not a string per chunk. */
const BUFFER_BYTES = 4 << 20;

/**
 * recoverability.json, written without building one string of every row (100k rows would make
 * hundreds of MB): the summary pretty-printed, then one compact row per line, each encoded
 * straight into a reused buffer that is written when full. JSON.parse of the file gives the
 * report back.
 */
export async function writeReportJson(path: string, report: EvalReport): Promise<string> {
  const { rows, ...head } = report;
  const headText = JSON.stringify({ ...head, rows: [] }, null, 2);
  const file = await open(path, 'w');
  try {
    if (rows.length === 0) {
      await file.writeFile(headText + '\n');
      return path;
    }
    const out = Buffer.allocUnsafe(BUFFER_BYTES);
    let used = 0;
    const flush = async (bytes: Buffer, length: number) => {
      // A write may take fewer bytes than it was given: write the rest.
      for (let done = 0; done < length; ) done += (await file.write(bytes, done, length - done)).bytesWritten;
    };
    /** Encodes `text` into the buffer; false when it does not fit (flush, then put again). */
    const put = (text: string): boolean => {
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      if (used + 3 * text.length > out.length) return false;
      used += out.write(text, used);
      return true;
    };
    const putAll = async (text: string) => {
      if (put(text)) return;
      await flush(out, used);
      used = 0;
      if (put(text)) return;
      const long = Buffer.from(text); // longer than the buffer
      await flush(long, long.length);
    };
    await putAll(headText.slice(0, headText.lastIndexOf('[]')) + '[\n');
    const last = rows.length - 1;
    for (let i = 0; i <= last; i++) {
      const line = `    ${JSON.stringify(rows[i])}${i < last ? ',' : ''}\n`;
      if (!put(line)) await putAll(line);
    }
    await putAll('  ]\n}\n');
    await flush(out, used);
  } finally {
    await file.close();
  }
  return path;
}
