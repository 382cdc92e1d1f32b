import { terminalSafe } from '../report/terminalText.js';

/**
 * Bad input from the user (a file, a flag): the CLI prints the message and exits 2. The message
 * is made terminal-safe here (control characters from file names or data are shown, never
 * executed), so every InputError can be printed as it is.
 */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(terminalSafe(message), options);
  }
}

/**
 * A failure that is neither bad input nor a verdict — an output that could not be written after
 * its check passed, a bug. A subclass of InputError so the CLI entry exits 2 with one line: for
 * `gate`, exit 1 must mean a regression and nothing else.
 */
export class UnexpectedFailure extends InputError {
  override readonly name: string = 'UnexpectedFailure';
}

/** Any error as one line for the terminal: its name and the first line of its message. */
export function oneLine(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown };
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return `${name}${message.split('\n')[0]!.slice(0, 300)}`;
}

/**
 * Runs a command body so that only its verdict and InputErrors leave it: anything else thrown is
 * wrapped as an UnexpectedFailure with one line (`<what> failed unexpectedly: <name>: <message>`).
 */
export async function withInputErrors<T>(what: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof InputError) throw err;
    if ((err as { code?: unknown })?.code !== undefined && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw err;
    throw new UnexpectedFailure(`${what} failed unexpectedly: ${oneLine(err)}`, { cause: err });
  }
}
