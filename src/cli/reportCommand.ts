import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEvalReport } from '../core/analysis/buildEvalReport.js';
import { rescueAtBudget } from '../core/analysis/rescueAtBudget.js';
import { ProbeJournal } from '../probe/probeJournal.js';
import { EvalReportSchema } from '../core/contracts/evalReport.js';
import { parseWith } from '../core/contracts/validate.js';
import { InputError } from '../io/inputError.js';
import { loadEvalOutput } from '../io/loadEvalOutput.js';
import { loadReferenceScale } from '../io/loadReferenceScale.js';
import { renderHtml } from '../report/renderHtml.js';
import { renderMarkdown } from '../report/renderMarkdown.js';

export const REPORT_USAGE = `Usage: recoverability report <eval-output.json> [--out DIR] [--format json,md,html] [--probe JOURNAL]

Builds the recoverability report from a promptfoo output written with the plugin
(promptfoo eval -o out.json): recoverability.json (schema-validated), recoverability.md (for a PR
comment) and recoverability.html (standalone, offline: regime shares, the routing panel,
feature distributions, a sortable table of failures).

  --out DIR       where to write (default: next to the input)
  --format LIST   any of json, md, html (default: all three)
  --probe FILE    a probe journal (<out>.journal.jsonl from recoverability probe): adds
                  rescue-at-budget curves to the HTML`;

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
  const evalOut = await loadEvalOutput(positionals[0]!);
  const reference = evalOut.reference ? { path: relative(process.cwd(), evalOut.reference) || evalOut.reference, scale: await loadReferenceScale(evalOut.reference).catch((e: Error) => { throw new InputError(e.message); }) } : null;
  const report = parseWith(EvalReportSchema, buildEvalReport(evalOut.inputs, { evalId: evalOut.evalId, reference }), 'recoverability report');
  const dir = values.out ?? dirname(positionals[0]!);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  if (formats.includes('json')) written.push(await write(join(dir, 'recoverability.json'), JSON.stringify(report, null, 2) + '\n'));
  if (formats.includes('md')) written.push(await write(join(dir, 'recoverability.md'), renderMarkdown(report)));
  const budgets = values.probe ? rescueAtBudget(await ProbeJournal.read(values.probe).catch((e: Error) => { throw new InputError(e.message); })) : undefined;
  if (formats.includes('html')) written.push(await write(join(dir, 'recoverability.html'), await renderHtml(report, { ...(budgets ? { budgets } : {}) })));
  out(`${report.totals.failures} failing rows of ${report.totals.rows}: ${Object.entries(report.regimes.counts).filter(([g, n]) => g !== 'solved' && n > 0).map(([g, n]) => `${n} ${g}`).join(', ') || 'none'} → ${written.join(', ')}`);
  return 0;
}

async function write(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}
