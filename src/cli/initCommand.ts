import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { InputError } from '../io/inputError.js';
import { addRecoverability, type WrappedProvider } from './init/addRecoverability.js';
import { guessGrader } from './init/guessGrader.js';
import { hooksPath } from './init/hooksPath.js';
import { lineDiff } from './init/lineDiff.js';
import { readTests } from './init/readTests.js';
import { renderYaml } from './init/renderYaml.js';
import { intOption } from './options.js';

export const INIT_USAGE = `Usage: recoverability init [promptfooconfig.yaml] [--samples 8] [--dry-run] [--no-backup]

Adds promptfoo-recoverability to an existing promptfoo config, in place, keeping its comments:
  providers    each provider is wrapped in the RolloutProvider, which samples K rollouts from it
               per test (its label and config are kept, under specialist:)
  assert       defaultTest gets the gradeRollouts assertion, with a grader guessed from the
               tests' vars and assertions (init says what it guessed and why)
  extensions   the hooks for the row columns and the report, at paths relative to the config
Running it again changes nothing. The old file is kept as <config>.bak (or .bak.1, …).

  --samples K    rollouts per test (default 8; with a black-box provider, K calls per test)
  --dry-run      print the diff and write nothing
  --no-backup    do not keep a copy of the old file`;

const DEFAULT_CONFIGS = ['promptfooconfig.yaml', 'promptfooconfig.yml'];

export async function initCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      samples: { type: 'string', default: '8' },
      'dry-run': { type: 'boolean', default: false },
      'no-backup': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(INIT_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new InputError(`init takes one config file, got ${positionals.length}\n\n${INIT_USAGE}`);
  const samples = intOption('--samples', values.samples, 1, 1000);
  const file = positionals[0] ?? DEFAULT_CONFIGS.find((f) => existsSync(f));
  if (file === undefined) throw new InputError(`no promptfooconfig.yaml in ${process.cwd()}; give the config's path: recoverability init path/to/promptfooconfig.yaml`);
  if (!['.yaml', '.yml'].includes(extname(file).toLowerCase())) {
    throw new InputError(`${file}: init edits YAML configs; for a ${extname(file) || 'config without extension'}, add the three blocks by hand (README: "Add it to your promptfoo config")`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new InputError(`${file}: not valid YAML at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}; fix it and run init again`);
  }
  const configDir = dirname(resolve(file));
  const js = (doc.toJS() ?? {}) as Record<string, unknown>;
  const defaultTest = (typeof js.defaultTest === 'object' && js.defaultTest !== null ? js.defaultTest : {}) as { vars?: Record<string, unknown>; assert?: unknown };
  const tests = await readTests(js.tests, defaultTest.vars ?? {}, configDir);
  const asserts = [...(Array.isArray(defaultTest.assert) ? defaultTest.assert : []), ...tests.asserts];
  const guess = guessGrader(asserts, tests.rows);
  const result = addRecoverability(doc, { samples, hooks: hooksPath(configDir), grader: guess.grader });
  const updated = result.changes.length === 0 ? text : renderYaml(doc, text);

  const name = relative(process.cwd(), resolve(file)) || file;
  if (updated === text) {
    out(`recoverability init: ${name} is already set up for promptfoo-recoverability; nothing to change`);
    for (const w of result.warnings) out(`  ! ${w}`);
    return 0;
  }
  const lines = [`recoverability init: ${name}${values['dry-run'] ? ' (dry run: nothing written)' : ''}`];
  for (const c of result.changes) {
    lines.push(`  + ${c}`);
    if (c.startsWith('defaultTest.assert')) lines.push(`      ${guess.grader ? 'guessed' : 'not guessed'}: ${guess.reason}${guess.grader ? '' : '; set config.grader (README: gradeRollouts config)'}`);
  }
  for (const n of tests.notes.filter((n) => !n.startsWith('read '))) lines.push(`  ! tests: ${n}`);
  for (const w of result.warnings) lines.push(`  ! ${w}`);
  if (values['dry-run']) {
    out(lineDiff(text, updated, { from: `${name}`, to: `${name} (after init)` }));
    out(lines.join('\n'));
    return 0;
  }
  if (!values['no-backup']) {
    const backup = freeName(`${file}.bak`);
    await writeFile(backup, text);
    lines.push(`  backup: ${relative(process.cwd(), resolve(backup))}`);
  }
  await writeFile(file, updated);
  out(lines.join('\n'));
  const hint = endpointHint(result.wrapped, samples);
  if (hint) out(`\n${hint}`);
  out(`\nNext: npx promptfoo eval -c ${name}`);
  return 0;
}

/** `path`, or `path.1`, `path.2`, … : the first that does not exist, so no backup is overwritten. */
function freeName(path: string): string {
  if (!existsSync(path)) return path;
  for (let i = 1; ; i++) if (!existsSync(`${path}.${i}`)) return `${path}.${i}`;
}

/**
 * How to get the trajectory features: the wrapped providers are black-box (text only), so say
 * how to point the specialist at a token-level endpoint (vLLM's OpenAI-compatible server) and
 * add the base model as ancestor, with the base URL and model read from the provider where they
 * are there.
 */
export function endpointHint(wrapped: readonly WrappedProvider[], samples: number): string {
  if (wrapped.length === 0) return '';
  const first = wrapped[0]!;
  const model = /^(?:openai|vllm|azure|openrouter|together|fireworks)(?::(?:chat|completion))?:(.+)$/.exec(first.id)?.[1] ?? 'your-model';
  const base = [first.config.apiBaseUrl, first.config.baseUrl, first.config.apiHost].find((v): v is string => typeof v === 'string' && v !== '') ?? 'http://127.0.0.1:8000/v1';
  const q = (s: string) => (/^[\w./:-]+$/.test(s) ? s : `'${s.replace(/'/g, "''")}'`);
  return [
    `Each test now makes ${samples} calls to ${wrapped.map((w) => w.id).join(', ')} (black-box): you get pass@k, the answer`,
    'distribution and regimes resample / retry_insufficient. The trajectory features (spread, concentration,',
    'logit dispersion) and steer routes need top-K log-probs from a token-level endpoint and the scores of',
    `the base model. If ${first.id} is served by vLLM (OpenAI-compatible), replace its specialist with:`,
    `      specialist: { type: endpoint, baseUrl: ${q(base)}, model: ${q(model)} }`,
    `      ancestor: { type: endpoint, baseUrl: ${q(base)}, model: your-base-model }`,
  ].join('\n');
}
