import { readFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointSuite } from '../helpers/endpointSuite.js';
import { runPromptfooAsync } from '../helpers/promptfoo.js';

/** Listens on the first free port whose number contains "429" (the text promptfoo's rate-limit heuristic looks for). */
async function listenOn429Port(server: Server): Promise<number> {
  for (const base of [34290, 24290, 14290, 44290, 54290]) {
    for (let port = base; port < base + 10; port++) {
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) return port;
    }
  }
  throw new Error('no free port with 429 in it');
}

describe('a row error whose text happens to contain "429" is not a rate limit', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(() => {}); // accepts and never answers: every request times out
    url = `http://127.0.0.1:${await listenOn429Port(server)}/v1`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a timeout against an endpoint on port …429… stays an EndpointTimeoutError (promptfoo would call it RateLimitExhaustedError)', async () => {
    expect(url).toMatch(/429/);
    const dir = mkdtempSync(join(tmpdir(), 'recov-429-'));
    const cfg = endpointSuite(dir, url, [['Compute 2 + 3.', '5']], { endpoint: { timeoutMs: 500, maxRetries: 0 } });
    const out = join(dir, 'out.json');
    const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-o', out]);
    expect(r.code, r.stderr).toBe(100);
    const [row] = JSON.parse(readFileSync(out, 'utf8')).results.results as any[];
    expect(row.error).toMatch(/^RolloutProvider: EndpointTimeoutError: .*429.* did not answer within 500 ms/);
    expect(row.error).not.toMatch(/RateLimitExhaustedError/);
  });
});
