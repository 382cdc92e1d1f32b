import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startVllmServer } from '../../src/http/vllmServer.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simServedModels } from '../../src/simulator/simServedModel.js';
import { startServeProcess } from '../helpers/simServerProcess.js';

const run = (args: string[]) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ['bin/recoverability.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
const post = async (url: string, path: string, body: unknown) => {
  const res = await fetch(url.replace(/\/v1$/, '') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('recoverability serve (the CLI process)', () => {
  it('serve --sim: flags reach the server (max-logprobs, max-model-len, generation config, request log); SIGINT stops it cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recov-serve-'));
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0, eos_token_id: 151645 }));
    const log = join(dir, 'requests.jsonl');
    const p = await startServeProcess('serve', ['--sim', '--seed', '2', '--max-logprobs', '5', '--max-model-len', '200', '--generation-config', dir, '--record-requests', log]);
    expect(p.output()).toMatch(/models: sim-specialist, sim-ancestor; max_model_len 200; max_logprobs 5; seed 2; generation defaults \{"temperature":0.6,"top_k":20,"top_p":0.95,"min_p":0\}/);
    const models = (await (await fetch(`${p.url}/models`)).json()) as { data: { max_model_len: number }[] };
    expect(models.data.map((m) => m.max_model_len)).toEqual([200, 200]);
    const over = await post(p.url, '/v1/completions', { model: 'sim-specialist', prompt: 'Compute 2 + 3.', logprobs: 6 });
    expect(over.body.error.message).toContain('which is greater than max allowed: 5');
    expect((await post(p.url, '/v1/completions', { model: 'sim-specialist', prompt: 'Compute 2 + 3.', max_tokens: 250 })).status).toBe(400);
    expect((await post(p.url, '/v1/completions', { model: 'sim-specialist', prompt: 'Compute 2 + 3.', logprobs: 5, seed: 1 })).status).toBe(200);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.method, l.path, l.body?.logprobs ?? null])).toEqual([
      ['GET', '/v1/models', null],
      ['POST', '/v1/completions', 6],
      ['POST', '/v1/completions', null],
      ['POST', '/v1/completions', 5],
    ]);
    expect(await p.stop('SIGINT')).toBe(0);
    expect(p.output()).toMatch(/SIGINT, shutting down/);
  });

  it('refuses what it cannot serve safely, naming the flag (exit 2)', async () => {
    const empty = await run(['serve', '--sim', '--host', '']);
    expect([empty.code, empty.err]).toEqual([2, expect.stringMatching(/--host is empty, which would listen on every interface/)]);
    const tooLong = await run(['serve', '--sim', '--port', '0', '--max-model-len', '1000']);
    expect([tooLong.code, tooLong.err]).toEqual([2, expect.stringMatching(/--max-model-len 1000 is greater than sim-specialist's maximum context length 400/)]);
    const noSim = await run(['serve', '--seed', '3']);
    expect([noSim.code, noSim.err]).toEqual([2, expect.stringMatching(/--seed and --mix configure the simulator: add --sim/)]);
    const badConfig = await run(['serve', '--sim', '--generation-config', '/nonexistent/dir']);
    expect([badConfig.code, badConfig.err]).toEqual([2, expect.stringMatching(/--generation-config: \/nonexistent\/dir does not exist/)]);
  });

  it('an empty host is refused in-process too (Node would bind every interface)', async () => {
    await expect(startVllmServer({ models: simServedModels(new LineageSimulator()), host: '' })).rejects.toThrow(/host is empty/);
  });
});
