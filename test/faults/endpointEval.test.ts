import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointSuite } from '../helpers/endpointSuite.js';
import { startFaultProxy, type VllmBehaviour } from '../helpers/faultProxy.js';
import { runPromptfooAsync } from '../helpers/promptfoo.js';

/** The real promptfoo CLI against serve-sim behind the fault proxy; every file in a temporary directory. */
const dir = mkdtempSync(join(tmpdir(), 'recov-wire-'));
const vllm: VllmBehaviour = { root: { 'sim-specialist': '/checkpoints/specialist-step-100', 'sim-ancestor': '/checkpoints/base' } };
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
beforeAll(async () => {
  proxy = await startFaultProxy({ vllm });
});
afterAll(() => proxy.close());

/** Every regular file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => {
    const p = join(root, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

describe('no secret in any artifact', () => {
  it('endpoints that echo request headers on 401 and 500, specialist and ancestor: the key is in no output, cache, sidecar, report, database or log', { timeout: 120_000 }, async () => {
    const key = 'wire-e2e-Key-93f1c0d7ab';
    const run = join(dir, 'secrets');
    const configDir = join(run, 'promptfoo-config');
    const cfg = endpointSuite(
      run,
      proxy.url,
      [
        ['Compute 2 + 3.', '5'],
        ['FAULT:echo401 Compute 2 + 4.', '6'], // specialist: 401, JSON body with the headers
        ['FAULT:echo500 Compute 2 + 5.', '7'], // specialist: 500, text body with the headers
        ['FAULT:echo500a Compute 2 + 6.', '8'], // ancestor scoring: 500, headers as a Python dict
      ],
      { endpoint: { apiKeyEnv: 'RECOV_WIRE_KEY' }, provider: { cache: join(run, 'rollouts.jsonl'), sidecar: join(run, 'traces.jsonl') } },
    );
    const out = join(run, 'out');
    const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '2', '-o', join(out, 'results.json'), '-o', join(out, 'results.csv')], {
      RECOV_WIRE_KEY: key,
      PROMPTFOO_CONFIG_DIR: configDir,
    });
    const report = spawnSync(process.execPath, ['bin/recoverability.js', 'report', join(out, 'results.json'), '--out', join(out, 'report'), '--format', 'json,md,html'], { encoding: 'utf8' });
    expect(report.status, report.stderr).toBe(0);

    // The key did reach the servers, and they echoed it back.
    expect(proxy.requests.some((q) => q.headers.authorization === `Bearer ${key}` && q.body.model === 'sim-ancestor')).toBe(true);
    const rows = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).results.results as any[];
    const row = (f: string) => rows.find((x) => String(x.vars.question).includes(f));
    expect(row('echo401').error).toMatch(/EndpointHttpError: .*HTTP 401: invalid credentials; request headers: .*"authorization":"Bearer \[REDACTED\]"/);
    expect(row('echo500').error).toMatch(/HTTP 500: upstream error\n.*authorization: Bearer \[REDACTED\]/s);
    const degraded = row('echo500a').response.metadata.recoverability;
    expect(degraded.unavailable.join('\n')).toMatch(/ancestor scoring failed \(EndpointHttpError: .*HTTP 500: engine failed for request with headers \{.*'authorization': 'Bearer \[REDACTED\]'/);

    const artifacts = [...filesUnder(out), join(run, 'rollouts.jsonl'), join(run, 'traces.jsonl'), ...filesUnder(configDir)];
    expect(artifacts.map((f) => f.slice(run.length))).toEqual(
      expect.arrayContaining(['/out/results.json', '/out/results.csv', '/out/recoverability.json', '/out/recoverability.md', '/out/report/recoverability.html', '/rollouts.jsonl', '/traces.jsonl']),
    );
    expect(artifacts.some((f) => /\.db$/.test(f) && statSync(f).size > 0)).toBe(true); // promptfoo's database
    for (const file of artifacts) expect(readFileSync(file).includes(key), file).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(key);
  });
});

describe('prompts reach the endpoint exactly', () => {
  it('promptfoo drops a var\'s trailing newline; promptVar sends the var as written, promptSuffix appends', { timeout: 120_000 }, async () => {
    const run = join(dir, 'prompts');
    const cfg = endpointSuite(run, proxy.url, [['Q: 66 + 42 * 6 =\n', '318']], {
      hooks: false,
      providers: [{}, { promptVar: 'question' }, { promptSuffix: '\n' }],
    });
    const from = proxy.requests.length;
    const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '1', '-o', join(run, 'out.json')]);
    expect([0, 100], r.stderr).toContain(r.code);
    const tokenized = proxy.requests.slice(from).filter((q) => q.url === '/tokenize').map((q) => q.body.prompt);
    expect(tokenized.sort()).toEqual(['Q: 66 + 42 * 6 =', 'Q: 66 + 42 * 6 =\n', 'Q: 66 + 42 * 6 =\n'].sort());
  });
});

describe('the cache key follows the model behind the URL', () => {
  it('same URL and name, new weights (/v1/models root): every row is sampled again; same weights: none', { timeout: 120_000 }, async () => {
    const run = join(dir, 'cache');
    const tests: [string, string][] = [['Compute 2 + 3.', '5'], ['Compute 4 * 5.', '20'], ['Compute 9 - 4.', '5']];
    const cfg = endpointSuite(run, proxy.url, tests, { hooks: false, provider: { cache: join(run, 'rollouts.jsonl') } });
    const sampledBy = async () => {
      const before = proxy.counts.sample;
      const r = await runPromptfooAsync(['eval', '-c', cfg, '--no-progress-bar', '-j', '2', '-o', join(run, 'out.json')]);
      expect([0, 100], r.stderr).toContain(r.code);
      return proxy.counts.sample - before;
    };
    expect(await sampledBy()).toBe(3);
    expect(await sampledBy()).toBe(0);
    vllm.root!['sim-specialist'] = '/checkpoints/specialist-step-200';
    expect(await sampledBy()).toBe(3);
  });
});
