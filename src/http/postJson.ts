import {
  EndpointError,
  EndpointHttpError,
  EndpointTimeoutError,
  EndpointUnreachableError,
  MalformedResponseError,
  redactUrl,
  TruncatedResponseError,
} from './endpointErrors.js';

export interface RetryPolicy {
  timeoutMs: number;
  maxRetries: number;
  /** First backoff; doubles each retry, with full jitter. */
  retryBaseMs: number;
  /** Cap on any single wait, Retry-After included. */
  maxRetryDelayMs: number;
}

export const RETRY_DEFAULTS: RetryPolicy = { timeoutMs: 60_000, maxRetries: 4, retryBaseMs: 250, maxRetryDelayMs: 20_000 };

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/**
 * POSTs JSON (or GETs when body is undefined) and returns the parsed JSON body. Retries
 * timeouts, connection errors, truncated bodies, 429 and 5xx with exponential backoff and full
 * jitter, waiting at least what Retry-After asks (seconds or an HTTP date, capped). Other 4xx
 * fail at once with the server's own message. Every failure is a named EndpointError whose
 * message holds the redacted URL and never a header.
 */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<unknown> {
  const where = redactUrl(url);
  let lastError: EndpointError | null = null;
  for (let attempt = 0; attempt <= policy.maxRetries; attempt++) {
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
          lastError = new TruncatedResponseError(`${where} sent a body that is not complete JSON (${text.length} bytes, ends ${JSON.stringify(text.slice(-40))})`, where, attempts);
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
  const final = lastError!;
  final.message = `${final.message} (gave up after ${final.attempts} attempts)`;
  throw final;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; 0 when absent or unparseable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : 0;
}

/** The server's error message (vLLM/OpenAI error bodies), shortened. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    const m = body.message ?? body.error?.message;
    if (typeof m === 'string') return m.slice(0, 500);
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || '(empty body)';
}
