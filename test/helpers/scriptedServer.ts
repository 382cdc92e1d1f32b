import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/**
 * A real HTTP server on 127.0.0.1 whose answers follow a script: request i gets handler i
 * (the last one repeats). Records each request's headers and body, and the peak number in flight.
 */
export async function scriptedServer(script: Handler[]) {
  const requests: { headers: IncomingMessage['headers']; body: string; url: string; method: string }[] = [];
  let inFlight = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const handler = script[Math.min(requests.length, script.length - 1)]!;
      requests.push({ headers: req.headers, body, url: req.url ?? '', method: req.method ?? '' });
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.on('close', () => inFlight--);
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    peak: () => peak,
    /** The bodies of the requests so far, parsed. */
    bodies: () => requests.map((r) => (r.body ? JSON.parse(r.body) : null)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

/** A handler that never answers (until the server closes): a deterministic timeout. */
export const silent: Handler = () => {};

/**
 * Parks every request until the test releases it, then answers it with `inner`: concurrency and
 * ordering become events to wait for instead of delays to hope about.
 */
export function parking(inner: Handler) {
  const parked: (() => void)[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler: Handler = (req, body, res) => {
    parked.push(() => inner(req, body, res));
    for (const w of waiters.filter((w) => parked.length >= w.n)) w.resolve();
  };
  return {
    handler,
    /** Requests parked now. */
    parked: () => parked.length,
    /** Resolves when `n` requests are parked at once. */
    waitForParked: (n: number) => new Promise<void>((resolve) => (parked.length >= n ? resolve() : waiters.push({ n, resolve }))),
    /** Answers the oldest parked request. */
    releaseOne: () => parked.shift()?.(),
  };
}
