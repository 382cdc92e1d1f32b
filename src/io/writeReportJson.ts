import { createWriteStream } from 'node:fs';
import type { EvalReport } from '../core/contracts/evalReport.js';

/**
 * recoverability.json, written in chunks of rows without building one string of every row (100k
 * rows would make hundreds of MB): the summary pretty-printed, then one compact row per line.
 * JSON.parse of the file gives the report back.
 */
export async function writeReportJson(path: string, report: EvalReport): Promise<string> {
  const { rows, ...head } = report;
  const headText = JSON.stringify({ ...head, rows: [] }, null, 2);
  const stream = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('finish', resolve);
  });
  const put = (s: string) => (stream.write(s) ? Promise.resolve() : new Promise<void>((r) => stream.once('drain', r)));
  if (rows.length === 0) await put(headText + '\n');
  else {
    await put(headText.slice(0, headText.lastIndexOf('[]')) + '[\n');
    const CHUNK = 500;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK).map((row, k) => `    ${JSON.stringify(row)}${i + k < rows.length - 1 ? ',' : ''}\n`);
      await put(part.join(''));
    }
    await put('  ]\n}\n');
  }
  stream.end();
  await done;
  return path;
}
