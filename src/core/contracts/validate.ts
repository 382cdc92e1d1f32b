import type { z } from 'zod';

/** A record that crossed a boundary and did not match its contract. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(
    message: string,
    /** One entry per problem: the path in the input and what was expected there. */
    readonly problems: readonly { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** Renders a zod issue path as `rows[3].spread`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

/**
 * Parses `data` with `schema` or throws a ContractError whose message names every failing
 * path and what was expected there, e.g. `problem record: at features.spread: Invalid input:
 * expected number, received string`.
 */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const shown = problems.slice(0, 10).map((p) => `  at ${p.path}: ${p.message}`);
  if (problems.length > 10) shown.push(`  … and ${problems.length - 10} more`);
  throw new ContractError(`${what} is invalid:\n${shown.join('\n')}`, problems);
}
