import { createWriteStream } from 'node:fs';
import type { EvalReport } from '../core/contracts/evalReport.js';

/**
 * recoverability.json as pretty JSON, written row by row: the same text as
 * JSON.stringify(report, null, 2), without building one string of every row (100k rows would
 * make hundreds of MB).
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
    for (let i = 0; i < rows.length; i++) {
      const row = JSON.stringify(rows[i], null, 2).replace(/\n/g, '\n    ');
      await put(`    ${row}${i < rows.length - 1 ? ',' : ''}\n`);
    }
    await put('  ]\n}\n');
  }
  stream.end();
  await done;
  return path;
}
