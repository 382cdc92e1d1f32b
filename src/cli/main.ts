import { readFileSync } from 'node:fs';
import { InputError } from '../io/inputError.js';
import { startReaderFor } from '../io/readerThreads.js';
import { didYouMean, describeParseError, isParseArgsError } from './cliErrors.js';

export type Command = (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>;

/** A command's module, as `load` gives it: how it runs, and its full usage (shown by --help and on a usage error). */
export interface LoadedCommand {
  run: Command;
  usage: string;
}

/** One subcommand: its module, loaded only when it runs or its help is asked for (so startup loads one command), and its line in the overview. */
export interface CommandSpec {
  load: () => Promise<LoadedCommand>;
  /** The command's short form in the overview, e.g. `route <profiles.csv>`. */
  synopsis: string;
  summary: string;
  /** Other names that run the same command. */
  aliases?: string[];
  /** Work to start before the command's module loads, from its raw arguments (only what speeds it up: the arguments are not checked yet). */
  prestart?: (argv: string[]) => void;
}

/** A command module's `run` and `usage`, by their export names, loaded when first asked for. */
function lazy<M>(load: () => Promise<M>, run: keyof M, usage: keyof M): () => Promise<LoadedCommand> {
  return async () => {
    const module = await load();
    return { run: module[run] as Command, usage: module[usage] as string };
  };
}

/** Every subcommand, in the overview's order. Add one here and it gets help, "did you mean" and usage errors. */
export const COMMANDS: Record<string, CommandSpec> = {
  init: {
    load: lazy(() => import('./initCommand.js'), 'initCommand', 'INIT_USAGE'),
    synopsis: 'init [promptfooconfig.yaml]',
    summary: 'add the plugin to an existing promptfoo config (wraps its providers)',
  },
  route: {
    load: lazy(() => import('./routeCommand.js'), 'routeCommand', 'ROUTE_USAGE'),
    synopsis: 'route <profiles.csv|records.json>',
    summary: 'Eq. 2 taxonomy and the routing report on a feature table',
  },
  probe: {
    load: lazy(() => import('./probeCommand.js'), 'probeCommand', 'PROBE_USAGE'),
    synopsis: 'probe <results.json> --out probe.csv',
    summary: 'measure rescue per operator on an eval\'s failing rows (or --lineage, --sim)',
  },
  serve: {
    load: lazy(() => import('./serveCommand.js'), 'serveCommand', 'SERVE_USAGE'),
    synopsis: 'serve [--sim] [--port N]',
    summary: "serve the embedded lineage (or --sim) in vLLM's OpenAI dialect, as vLLM behaves",
  },
  'serve-sim': {
    load: lazy(() => import('./serveCommand.js'), 'serveSimCommand', 'SERVE_USAGE'),
    synopsis: 'serve-sim [--port N]',
    summary: 'the same as serve --sim (the planted simulator)',
  },
  report: {
    load: lazy(() => import('./reportCommand.js'), 'reportCommand', 'REPORT_USAGE'),
    synopsis: 'report <eval-output.json>',
    summary: 'recoverability.json / .md / .html from a promptfoo output',
    prestart: (argv) => startReaderFor([firstPositional(argv)]),
  },
  gate: {
    load: lazy(() => import('./gateCommand.js'), 'gateCommand', 'GATE_USAGE'),
    synopsis: 'gate --baseline A --candidate B',
    summary: 'compare two evals; exit 1 on a regime-shift regression',
    prestart: (argv) => startReaderFor([flagValue(argv, '--baseline'), flagValue(argv, '--candidate')]),
  },
  validate: {
    load: lazy(() => import('./validateCommand.js'), 'validateCommand', 'VALIDATE_USAGE'),
    synopsis: 'validate --lineage | --sim',
    summary: 'the paper\'s experiment, and measure-then-route, on the embedded lineage or the simulator',
  },
  calibrate: {
    load: lazy(() => import('./calibrateCommand.js'), 'calibrateCommand', 'CALIBRATE_USAGE'),
    synopsis: 'calibrate probe.csv --out policy.json',
    summary: 'learn and choose the routing policy from a rescue probe',
  },
};

/** The overview printed by `recoverability --help` (and, on stderr, with no command). */
export function overview(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.synopsis.length)) + 3;
  const lines = Object.values(COMMANDS).map((c) => `  ${c.synopsis.padEnd(width)}${c.summary}${c.aliases?.length ? ` (also: ${c.aliases.join(', ')})` : ''}`);
  return `Usage: recoverability <command> [options]

Commands:
${lines.join('\n')}

Options: --version, --help; --debug (anywhere) prints the stack of an unexpected error.
Run "recoverability <command> --help" for a command's options.`;
}

/** The package's version, from its package.json (two folders up from src/cli and dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function lookup(name: string): [string, CommandSpec] | undefined {
  // Own entries only: `toString` is no command.
  if (Object.hasOwn(COMMANDS, name)) return [name, COMMANDS[name]!];
  return Object.entries(COMMANDS).find(([, c]) => c.aliases?.includes(name));
}

/**
 * Runs the CLI and returns the exit code: 0 success; 2 a usage or input error (the message
 * names the flag or field and the fix) or any unexpected error (one line; `--debug` prints the
 * stack); 1 only what a command itself reports as a finding (a gate regression).
 */
export async function main(argv: string[], out = (s: string) => console.log(s), err = (s: string) => console.error(s)): Promise<number> {
  const dashDash = argv.indexOf('--');
  const head = dashDash < 0 ? argv : argv.slice(0, dashDash);
  const debug = head.includes('--debug') || process.env.RECOVERABILITY_DEBUG === '1';
  const args = [...head.filter((a) => a !== '--debug'), ...(dashDash < 0 ? [] : argv.slice(dashDash))];
  const [name, ...rest] = args;
  if (name === undefined) {
    err(overview());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    out(overview());
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    out(version());
    return 0;
  }
  const helpTopic = name === 'help' ? rest[0] : undefined;
  if (name === 'help' && helpTopic === undefined) {
    out(overview());
    return 0;
  }
  const found = lookup(helpTopic ?? name);
  if (!found) return unknownCommand(helpTopic ?? name, err);
  const [, spec] = found;
  let usage = '';
  try {
    if (helpTopic === undefined && !rest.includes('--help') && !rest.includes('-h')) spec.prestart?.(rest);
    const command = await spec.load();
    usage = command.usage;
    if (helpTopic !== undefined) {
      out(usage);
      return 0;
    }
    return await command.run(rest, out, err);
  } catch (e) {
    if (e instanceof InputError) {
      err(`recoverability ${name}: ${e.message}`);
      return 2;
    }
    if (isParseArgsError(e)) {
      err(`recoverability ${name}: ${describeParseError(e, usage)}\n\n${usage}`);
      return 2;
    }
    const error = e instanceof Error ? e : new Error(String(e));
    if (debug) err(`recoverability ${name}: unexpected error: ${error.stack ?? error.message}`);
    else err(`recoverability ${name}: unexpected error: ${firstLine(error)} (rerun with --debug for the stack)`);
    return 2;
  }
}

/** The first positional argument in raw arguments where every option but --help/-h takes a value (as `report`'s do), if any. */
export function firstPositional(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1];
    if (!a.startsWith('-')) return a;
    if (a !== '--help' && a !== '-h' && !a.includes('=')) i++; // its value
  }
  return undefined;
}

/** The value of `--flag value` or `--flag=value` in raw arguments, if any. */
function flagValue(argv: string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1);
  }
  return undefined;
}

function unknownCommand(name: string, err: (s: string) => void): number {
  const names = [...Object.keys(COMMANDS), ...Object.values(COMMANDS).flatMap((c) => c.aliases ?? []), 'help'];
  const guess = name.startsWith('-') ? didYouMean(name, ['--help', '--version']) : didYouMean(name, names);
  const what = name.startsWith('-') ? 'option' : 'command';
  err(`recoverability: unknown ${what} "${name}"${guess ? `; did you mean "${guess}"?` : ''}\n\n${overview()}`);
  return 2;
}

function firstLine(e: Error): string {
  const line = (e.message || e.name).split('\n').find((l) => l.trim() !== '') ?? e.name;
  return e.name && e.name !== 'Error' && !line.startsWith(e.name) ? `${e.name}: ${line}` : line;
}
