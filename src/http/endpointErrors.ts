/** Something went wrong talking to a model endpoint. Messages never contain credentials. */
export class EndpointError extends Error {
  override readonly name: string = 'EndpointError';
  constructor(
    message: string,
    /** The endpoint (URL without credentials or query). */
    readonly endpoint: string,
    /** Attempts made, retries included. */
    readonly attempts: number,
  ) {
    super(message);
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
