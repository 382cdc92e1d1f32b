import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';

/**
 * vLLM's error body since v0.10.1 (vllm-project/vllm#22099): `{"error": {message, type, param,
 * code}}`; before it was the flat `{object: "error", message, type, param, code}`.
 * (vllm/entrypoints/serve/engine/protocol.py, ErrorInfo / ErrorResponse.)
 */
export interface NestedErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

/** An HTTP error answered in vLLM's nested body. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  body(): NestedErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/**
 * vLLM's VLLMValidationError as its error handler answers it: 400 BadRequestError, `param` the
 * parameter, and the message suffixed " (parameter=…, value=…)" when they are known
 * (vllm/exceptions.py __str__; serve/exception_handling/error_response.py).
 */
export function validationError(message: string, parameter?: string, value?: unknown): ServerError {
  const extras = [parameter !== undefined ? `parameter=${parameter}` : null, value !== undefined && value !== null ? `value=${pyRepr(value)}` : null].filter(Boolean);
  return new ServerError(400, extras.length > 0 ? `${message} (${extras.join(', ')})` : message, 'BadRequestError', parameter ?? null);
}

/** A 404 for an unknown served model, as vLLM's _check_model answers it. */
export function modelNotFound(model: string): ServerError {
  return new ServerError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');
}

/**
 * An HTTP-level error (unknown route, wrong method, body too large …): vLLM's
 * http_exception_handler uses the status phrase as the type.
 */
export function httpError(status: number, message: string): ServerError {
  return new ServerError(status, message, STATUS_CODES[status] ?? 'Error');
}

/**
 * A request that fails schema validation: FastAPI's RequestValidationError as vLLM's handler
 * answers it (type "Bad Request", param the dotted location, "N validation error(s):" then one
 * line per issue; serve/exception_handling/handlers/validation.py). Each line names the field.
 */
export function schemaError(raw: readonly z.core.$ZodIssue[]): ServerError {
  const issues = raw.flatMap(unionBranch);
  const shown = issues.slice(0, 10);
  const lines = shown.map((i) => `  ${['body', ...i.path.map(String)].join('.')}: ${i.message}`);
  if (issues.length > shown.length) lines.push(`  ...and ${issues.length - shown.length} more errors`);
  const param = ['body', ...(issues[0]?.path.map(String) ?? [])].join('.');
  return new ServerError(400, `${issues.length} validation error${issues.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, 'Bad Request', param);
}

/**
 * An issue of a union that no branch matched, as the issues of the branch that got furthest
 * (deepest path, then fewest issues), so the message names the field inside it.
 */
function unionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
  return best.flatMap((i) => unionBranch({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue));
}

/** Python's str() of a number or string as vLLM prints it in messages: 3 → "3", a float 3.0 → "3.0". */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function pyRepr(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(pyRepr).join(', ')}]` : String(v);
}
