import type { RequestStats } from '../models/tokenModel.js';
import {
  EndpointError,
  EndpointHttpError,
  EndpointTimeoutError,
  EndpointUnreachableError,
  MalformedResponseError,
  redactUrl,
  TruncatedResponseError,
} from './endpointErrors.js';
import { redactSecrets } from './redact.js';
import type { RetryBudget } from './retryBudget.js';

export interface RetryPolicy {
  timeoutMs: number;
  maxRetries: number;
  /** First backoff; doubles each retry, with full jitter. */
  retryBaseMs: number;
  /** Cap on any single wait, Retry-After included. */
  maxRetryDelayMs: number;
}

export const RETRY_DEFAULTS: RetryPolicy = { timeoutMs: 60_000, maxRetries: 4, retryBaseMs: 250, maxRetryDelayMs: 20_000 };

export interface RequestOptions {
  /** Waits between attempts (tests record instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Shared cap on retries; a retry it refuses ends the request with the last error, naming the budget. */
  budget?: RetryBudget;
  /** Counts this request and its retries (for the row's metadata). */
  stats?: RequestStats;
  /** False when this call repeats a request whose answer was unusable (it is already counted, and its repeat was a retry). */
  countAsRequest?: boolean;
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * POSTs JSON (or GETs when body is undefined) and returns the parsed JSON body. Retries
 * timeouts, connection errors, truncated bodies, 429 and 5xx with exponential backoff and full
 * jitter, waiting at least what Retry-After asks (seconds or an HTTP date, capped), while the
 * retry budget allows. Other 4xx fail at once with the server's own message. Every failure is a
 * named EndpointError whose message holds the redacted URL and the server's text with every
 * credential removed (servers and proxies echo request headers in error bodies).
 */
export async function postJson(url: string, body: unknown, headers: Record<string, string>, policy: RetryPolicy, options: RequestOptions = {}): Promise<unknown> {
  const where = redactUrl(url);
  const sleep = options.sleep ?? realSleep;
  let lastError: EndpointError | null = null;
  if (options.countAsRequest !== false) {
    options.budget?.countRequest();
    if (options.stats) options.stats.requests++;
  }
  for (let attempt = 0; attempt <= policy.maxRetries; attempt++) {
    if (attempt > 0) {
      if (options.budget && !options.budget.tryRetry()) {
        throw lastError!.addDetail(`(gave up after ${lastError!.attempts} attempts: ${options.budget.describe()})`);
      }
      if (options.stats) options.stats.retries++;
    }
    const attempts = attempt + 1;
    let waitAtLeast = 0;
    try {
      const res = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) {
        const message = `${where} answered HTTP ${res.status}: ${serverMessage(text)}`;
        if (!RETRYABLE_STATUS.has(res.status)) throw new EndpointHttpError(message, where, attempts, res.status);
        lastError = new EndpointHttpError(message, where, attempts, res.status);
        waitAtLeast = retryAfterMs(res.headers.get('retry-after'));
      } else {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          if (/[:,\[]\s*-?(NaN|Infinity)\s*[,\]}]/.test(text)) {
            // Python servers write NaN/Infinity literals that JSON cannot carry: the server means it.
            throw new MalformedResponseError(`${where} sent NaN or Infinity (not valid JSON): the model returned non-finite log-probs`, where, attempts);
          }
          // Redact the whole body before cutting it: a cut could split a secret past recognition.
          lastError = new TruncatedResponseError(`${where} sent a body that is not complete JSON (${text.length} bytes, ends ${JSON.stringify(redactSecrets(text).slice(-40))})`, where, attempts);
        }
      }
    } catch (err) {
      if (err instanceof EndpointHttpError || err instanceof MalformedResponseError) throw err;
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        lastError = new EndpointTimeoutError(`${where} did not answer within ${policy.timeoutMs} ms`, where, attempts);
      } else if (e.name === 'TypeError' || e.cause?.code) {
        lastError = new EndpointUnreachableError(`${where} is unreachable: ${e.cause?.code ?? e.message}`, where, attempts);
      } else {
        throw err;
      }
    }
    if (attempt < policy.maxRetries) {
      const backoff = Math.random() * Math.min(policy.maxRetryDelayMs, policy.retryBaseMs * 2 ** attempt);
      await sleep(Math.min(policy.maxRetryDelayMs, Math.max(waitAtLeast, backoff)));
    }
  }
  throw lastError!.addDetail(`(gave up after ${lastError!.attempts} attempts)`);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; 0 when absent or unparseable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : 0;
}

/**
 * The server's error message, shortened and redacted: vLLM's `{"error": {"message"}}` (and
 * its older flat `{"message"}`), `{"error": "…"}` (its --api-key check), FastAPI's `{"detail"}`,
 * or the start of a non-JSON body.
 */
export function serverMessage(raw: string): string {
  // Redact the whole body before cutting it: a cut could split a secret past recognition.
  const text = redactSecrets(raw);
  let message: string | null = null;
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; detail?: unknown };
    const nested = typeof body.error === 'object' && body.error !== null ? (body.error as { message?: unknown }).message : undefined;
    const m = nested ?? body.message ?? body.error ?? body.detail;
    if (typeof m === 'string') message = m.slice(0, 500);
    else if (m !== undefined) message = JSON.stringify(m).slice(0, 500);
  } catch {
    // not JSON
  }
  return message ?? (text.slice(0, 200) || '(empty body)');
}
