import { redactSecrets } from './redact.js';

/**
 * Something went wrong talking to a model endpoint. The message is redacted when the error is
 * made (server text can echo request headers), so no credential reaches any artifact.
 */
export class EndpointError extends Error {
  override readonly name: string = 'EndpointError';
  constructor(
    message: string,
    /** The endpoint (URL without credentials or query). */
    readonly endpoint: string,
    /** Attempts made, retries included. */
    readonly attempts: number,
  ) {
    super(redactSecrets(message));
  }

  /** Appends to the message (redacted like the rest). */
  addDetail(detail: string): this {
    this.message = redactSecrets(`${this.message} ${detail}`);
    return this;
  }
}

/** No response within the timeout, on every attempt. */
export class EndpointTimeoutError extends EndpointError {
  override readonly name = 'EndpointTimeoutError';
}

/** The server answered with an HTTP error status (after retries, for 429 and 5xx). */
export class EndpointHttpError extends EndpointError {
  override readonly name = 'EndpointHttpError';
  constructor(
    message: string,
    endpoint: string,
    attempts: number,
    readonly status: number,
  ) {
    super(message, endpoint, attempts);
  }
}

/** The server could not be reached (connection refused, DNS, reset), on every attempt. */
export class EndpointUnreachableError extends EndpointError {
  override readonly name = 'EndpointUnreachableError';
}

/** The body was cut off or not JSON, on every attempt. */
export class TruncatedResponseError extends EndpointError {
  override readonly name = 'TruncatedResponseError';
}

/** The body was JSON but not the expected shape (missing log-probs, wrong types, NaN …). */
export class MalformedResponseError extends EndpointError {
  override readonly name = 'MalformedResponseError';
}

/** A sampling response did not hold choices 0 … n−1 exactly once each, on every attempt. */
export class IncompleteResponseError extends EndpointError {
  override readonly name = 'IncompleteResponseError';
}

/** The server ended a generation with `finish_reason: "abort"` (it stopped the request), on every attempt. */
export class GenerationAbortedError extends EndpointError {
  override readonly name = 'GenerationAbortedError';
}

/** The configured model is not among those the server lists at /v1/models. */
export class ModelNotServedError extends EndpointError {
  override readonly name = 'ModelNotServedError';
}

/** The prompt leaves no room for output within the model's max_model_len. */
export class PromptTooLongError extends EndpointError {
  override readonly name = 'PromptTooLongError';
}

/**
 * The server's sampled log-probs are not the model's raw log-probs (vLLM's
 * `--logprobs-mode processed_*` or `raw_logits`, or its old V0 engine): every feature would be
 * computed on the wrong quantity.
 */
export class LogprobModeError extends EndpointError {
  override readonly name = 'LogprobModeError';
}

/** The URL as safe to print: no user:password, no query string. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
