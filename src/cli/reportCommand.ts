import { writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import { rescueAtBudget } from '../core/analysis/rescueAtBudget.js';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { EvalReportSchema } from '../core/contracts/evalReport.js';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { InputError, withInputErrors } from '../io/inputError.js';
import { loadEvalOutput } from '../io/loadEvalOutput.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { checkWritableDir } from '../io/writableOutput.js';
import { writeReportJson } from '../io/writeReportJson.js';
import { renderMarkdown } from '../report/renderMarkdown.js';
import { reportSummaryLine } from '../report/summaryLine.js';
import { terminalSafe } from '../report/terminalText.js';

export const REPORT_USAGE = `Usage: recoverability report <eval-output.json|.jsonl> [--out DIR] [--format json,md,html] [--probe JOURNAL]

Builds the recoverability report from a promptfoo output written with the plugin
(promptfoo eval -o out.json, or -o out.jsonl for evals too large for JSON; both are streamed):
recoverability.json (schema-validated), recoverability.md (for a PR comment) and
recoverability.html (standalone, offline: regime shares, the routing panel, feature
distributions, a sortable table of failures, the error rows).

  --out DIR       where to write (default: next to the input); checked before any work
  --format LIST   any of json, md, html (default: all three)
  --probe FILE    a probe journal (<out>.journal.jsonl from recoverability probe): adds
                  rescue-at-budget curves to the HTML

Exit 0: written; 2: usage or input error, or anything that failed (one line, no stack).`;

const FORMATS = ['json', 'md', 'html'] as const;

export async function reportCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      format: { type: 'string', default: 'json,md,html' },
      probe: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(REPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`report takes one promptfoo output file, got ${positionals.length}\n\n${REPORT_USAGE}`);
  const formats = values.format.split(',').map((f) => f.trim());
  const unknown = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || formats.length === 0) throw new InputError(`--format takes json, md and/or html, got "${values.format}"`);
  const input = positionals[0]!;
  return withInputErrors('report', async () => {
    const dir = values.out ?? dirname(input);
    await checkWritableDir(dir, values.out ? '--out' : 'the output folder');
    const budgets = values.probe ? rescueAtBudget(await readJournal(values.probe)) : undefined;
    const evalOut = await loadEvalOutput(input);
    const reference = evalOut.reference ? { path: relative(process.cwd(), evalOut.reference) || evalOut.reference, scale: await loadReferenceScale(evalOut.reference) } : null;
    let report: EvalReport;
    try {
      const built = buildEvalReport(evalOut.inputs, { evalId: evalOut.evalId, reference, errors: evalOut.errors });
      if (evalOut.ungraded > 0) built.notes.push({ message: 'not graded by gradeRollouts (no recoverability verdict): left out', rows: evalOut.ungraded });
      report = parseWith(EvalReportSchema, built, 'recoverability report');
    } catch (err) {
      if (err instanceof ContractError) throw new InputError(`${input}: ${err.message.split('\n').join(' ')}`);
      throw err;
    }
    const written: string[] = [];
    if (formats.includes('json')) written.push(await writeReportJson(join(dir, 'recoverability.json'), report));
    if (formats.includes('md')) written.push(await write(join(dir, 'recoverability.md'), renderMarkdown(report)));
    if (formats.includes('html')) {
      // Vega is large: loaded only when the HTML is asked for.
      const { renderHtml } = await import('../report/renderHtml.js');
      written.push(await write(join(dir, 'recoverability.html'), await renderHtml(report, { ...(budgets ? { budgets } : {}) })));
    }
    out(terminalSafe(`${reportSummaryLine(report)} → ${written.join(', ')}`));
    return 0;
  });
}

async function readJournal(path: string) {
  const { ProbeJournal } = await import('../probe/probeJournal.js');
  return ProbeJournal.read(path).catch((e: Error) => {
    throw new InputError(e.message);
  });
}

async function write(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}
