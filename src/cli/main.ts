import { InputError } from '../io/inputError.js';
import { calibrateCommand } from './calibrateCommand.js';
import { gateCommand } from './gateCommand.js';
import { probeCommand } from './probeCommand.js';
import { reportCommand } from './reportCommand.js';
import { routeCommand } from './routeCommand.js';
import { serveCommand, serveSimCommand } from './serveCommand.js';
import { validateCommand } from './validateCommand.js';

const USAGE = `Usage: recoverability <command> [options]

Commands:
  route <profiles.csv|records.json>   Eq. 2 taxonomy and the routing report on a feature table
  probe --sim --out profiles.csv      sample, featurize and rescue-probe a simulated population
  serve [--sim] [--port N]            serve models in vLLM's OpenAI dialect, as vLLM behaves
  serve-sim [--port N]                the same as serve --sim (the lineage simulator)
  report <eval-output.json>           recoverability.json / .md / .html from a promptfoo output
  gate --baseline A --candidate B     compare two evals; exit 1 on a regime-shift regression
  validate --sim                      the paper's experiment on a simulated population
  calibrate probe.csv --out policy.json  learn and choose the routing policy from a rescue probe

Run "recoverability <command> --help" for a command's options.`;

type Command = (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>;
const COMMANDS: Record<string, Command> = { route: routeCommand, probe: probeCommand, serve: serveCommand, 'serve-sim': serveSimCommand, report: reportCommand, gate: gateCommand, validate: validateCommand, calibrate: calibrateCommand };

/**
 * Runs the CLI and returns the exit code: 0 success, 2 usage or input error (the message names
 * the file, field and fix), 1 anything unexpected.
 */
export async function main(argv: string[], out = (s: string) => console.log(s), err = (s: string) => console.error(s)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`recoverability: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, out, err);
  } catch (e) {
    if (e instanceof InputError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`recoverability ${name}: ${(e as Error).message}`);
      return 2;
    }
    err(`recoverability ${name}: unexpected error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

