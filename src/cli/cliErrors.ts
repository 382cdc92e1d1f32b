import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word` by edit distance, when it is close enough to be a typo (at
 * most 2 edits, or a third of the word's length for long words) or `word` is a prefix of
 * exactly one candidate; else undefined.
 *
 * @example didYouMean('valdate', ['route', 'validate']) // 'validate'
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === '') return undefined;
  const prefixed = candidates.filter((c) => c.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  const best = closest(word, [...candidates]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Errors thrown by node:util parseArgs (unknown option, missing value, stray argument). */
export function isParseArgsError(e: unknown): e is Error & { code: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** The long flags a usage text mentions (`--out`, `--budget-max`, …). */
export function flagsOf(usage: string): string[] {
  return [...new Set(usage.match(/--[a-z][a-z0-9-]*/g) ?? [])];
}

/**
 * One line saying what was wrong with the flags, in our words rather than the parser's: the
 * flag named, and for an unknown flag the nearest one the command has.
 */
export function describeParseError(e: Error & { code: string }, usage: string): string {
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = quoted.split('=')[0] ?? quoted;
      const guess = flag.startsWith('--') ? didYouMean(flag, flagsOf(usage)) : undefined;
      return `unknown option ${flag}${guess ? `; did you mean ${guess}?` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted.split(/[ ,]/).filter((s) => s.startsWith('--')).at(-1) ?? quoted;
      return /does not take an argument/.test(e.message) ? `${flag} is a switch and takes no value` : `${flag} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}" (this command takes none; flags start with --)`;
    default:
      return e.message.split('\n')[0]!;
  }
}
