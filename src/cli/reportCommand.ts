import { writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { addMeasurements } from '../core/analysis/addMeasurements.js';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import type { EvalReport } from '../core/contracts/evalReport.js';
import { EvalReportSchema } from '../core/contracts/evalReport.js';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { InputError, withInputErrors } from '../io/inputError.js';
import { loadEvalOutput } from '../io/loadEvalOutput.js';
import { loadMeasurements, rowNames } from '../io/loadMeasurements.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { checkWritableDir } from '../io/writableOutput.js';
import { writeReportJson } from '../io/writeReportJson.js';
import { renderMarkdown } from '../report/renderMarkdown.js';
import { reportSummaryLine } from '../report/summaryLine.js';
import { terminalSafe } from '../report/terminalText.js';

export const REPORT_USAGE = `Usage: recoverability report <eval-output.json|.jsonl> [--out DIR] [--format json,md,html]
                             [--probe probe.csv] [--policy policy.json] [--journal probe.csv.journal.jsonl]

Builds the recoverability report from a promptfoo output written with the plugin
(promptfoo eval -o out.json, or -o out.jsonl for evals too large for JSON; both are streamed):
recoverability.json (its summary checked against the schema), recoverability.md (for a
PR comment) and recoverability.html (standalone, offline: regime shares, the routing panel,
feature distributions, a sortable table of failures, the error rows). Each says whether the
routes are measured (a learned policy) or the paper's rule, untested on this model.

  --out DIR        where to write (default: next to the input); checked before any work
  --format LIST    any of json, md, html (default: all three)
  --probe FILE     the probe's records (probe.csv or .jsonl from recoverability probe): the
                   measured regime shares, the estimate's agreement with the measured labels on
                   the probed rows (confusion matrix, balanced accuracy against the majority
                   class), the ceiling (probe vs re-probe), and each probed row's label
  --policy FILE    a learned policy (policy.json from recoverability calibrate): its
                   cross-validated rescue against every fixed operator and the paper's rule, with
                   95% intervals. Default: the policy the rows were routed with, if any (and the
                   probe it records, when --probe is not given)
  --journal FILE   the probe's journal: rescue at budget on your model (its eval phase).
                   Default: <probe>.journal.jsonl when it exists
  A probe, policy or journal of another probe or another population is refused, saying which.

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
      policy: { type: 'string' },
      journal: { type: 'string' },
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
    const evalOut = await loadEvalOutput(input);
    const reference = evalOut.reference ? { path: relative(process.cwd(), evalOut.reference) || evalOut.reference, scale: await loadReferenceScale(evalOut.reference) } : null;
    let report: EvalReport;
    try {
      const built = buildEvalReport(evalOut.inputs, { evalId: evalOut.evalId, reference, errors: evalOut.errors, verdictEstimates: true });
      if (evalOut.ungraded > 0) built.notes.push({ message: 'not graded by gradeRollouts (no recoverability verdict): left out', rows: evalOut.ungraded });
      const rowsPolicy = [...new Set(evalOut.inputs.flatMap((r) => (r.estimate?.policy ? [r.estimate.policy] : [])))];
      const policy = values.policy ?? (rowsPolicy.length === 1 ? rowsPolicy[0] : undefined);
      const measurements = await loadMeasurements(
        { probe: values.probe, policy, policyNamed: values.policy !== undefined, journal: values.journal },
        { rows: rowNames(built.rows), strict: true },
      );
      report = checkedReport(addMeasurements(built, measurements));
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
      written.push(await write(join(dir, 'recoverability.html'), await renderHtml(report)));
    }
    out(terminalSafe(`${reportSummaryLine(report)} → ${written.join(', ')}`));
    return 0;
  });
}

/**
 * The report after checking its summary against the schema (recoverability.json's contract). The
 * rows are not re-checked here: each is built by buildEvalReport from a verdict checked on reading
 * (ReportVerdictSchema) and from probe records checked on loading; the tests check whole reports,
 * rows included, against EvalReportSchema. (Re-checking 100k rows cost half a second.)
 */
function checkedReport(report: EvalReport): EvalReport {
  const { rows, ...head } = report;
  return { ...parseWith(EvalReportSchema, { ...head, rows: [] }, 'recoverability report'), rows };
}

async function write(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}
