#!/usr/bin/env node
// npm run bench: every figure comes from running the code under test here and now.
// Each part runs in its own child process (clean peak memory); the parent prints a table and
// one JSON line per benchmark.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { featureBenchmarks } from './features.mjs';
import { L, makePool, P, STRIDE } from './pool.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dist = (p) => join(ROOT, 'dist', p);
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const emit = (o) => console.log(JSON.stringify(o));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const parts = {
  async 'features-streaming'(n = 10_000_000) {
    const { RolloutFeatureAccumulator } = await import(dist('core/features/rolloutFeatureAccumulator.js'));
    const pool = makePool();
    let checksum = 0;
    let checksumAt2m = null;
    const t0 = performance.now();
    let acc = new RolloutFeatureAccumulator();
    for (let i = 0; i < n; i++) {
      acc.push(pool[(i * STRIDE) % P]);
      if ((i + 1) % L === 0) {
        const s = acc.finish();
        checksum += s.spread + s.concentration + s.logitDispersion;
        acc = new RolloutFeatureAccumulator();
      }
      if (i + 1 === 2_000_000) checksumAt2m = checksum;
    }
    const dt = (performance.now() - t0) / 1000;
    emit({ bench: 'features-streaming', positions: n, seconds: +dt.toFixed(3), positions_per_s: Math.round(n / dt), peak_rss_mb: peakMb(), checksum, checksum_at_2m: checksumAt2m });
  },

  async capture() {
    const { startSimServer } = await import(dist('http/simServer.js'));
    const { OpenAICompatibleModel } = await import(dist('http/openAiCompatibleModel.js'));
    const { RolloutProvider } = await import(dist('promptfoo/rolloutProvider.js'));
    const { simPrompts } = await import(dist('simulator/simPrompts.js'));
    const sim = await startSimServer();
    const LATENCY = 50;
    const up = sim.url.replace(/\/v1$/, '');
    const proxy = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        await new Promise((r) => setTimeout(r, LATENCY));
        const r = await fetch(up + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? Buffer.concat(chunks) : null });
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(await r.text());
      });
    });
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${proxy.address().port}/v1`;
    const prompts = simPrompts(5, 11).map((p) => p.prompt);
    const endpoint = (model) => ({ type: 'endpoint', baseUrl: url, model, concurrency: 16 });
    const time = async (f) => {
      const ts = [];
      for (const p of prompts) {
        const t0 = performance.now();
        await f(p);
        ts.push(performance.now() - t0);
      }
      return Math.round(median(ts));
    };
    const withAncestor = new RolloutProvider({ config: { specialist: endpoint('sim-specialist'), ancestor: endpoint('sim-ancestor'), samples: 16 } });
    const samplingOnly = new RolloutProvider({ config: { specialist: endpoint('sim-specialist'), samples: 16 } });
    const S = new OpenAICompatibleModel({ baseUrl: url, model: 'sim-specialist' });
    const A = new OpenAICompatibleModel({ baseUrl: url, model: 'sim-ancestor' });
    const ours = await time((p) => withAncestor.callApi(p));
    const oursSampling = await time((p) => samplingOnly.callApi(p));
    const sequential = await time(async (p) => {
      const ids = await S.tokenize(p);
      for (let i = 0; i < 16; i++) {
        const [g] = await S.sample(ids, { temperature: 0.6, seed: i, maxTokens: 512, topK: 20 });
        await A.score(ids, g.tokens, 20);
      }
    });
    const oneCall = await time(async (p) => S.sample(await S.tokenize(p), { temperature: 0.6, seed: 1, maxTokens: 512, topK: 20 }));
    // promptfoo --repeat 16 on the same endpoint (its own provider, sampling only, no ancestor).
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const cfg = join(ROOT, `tmp-bench-repeat-${process.pid}.yaml`);
    writeFileSync(cfg, `prompts: ['{{q}}']\nproviders:\n  - id: openai:completion:sim-specialist\n    config: { apiBaseUrl: '${url}', apiKey: x, temperature: 0.6, max_tokens: 512 }\ntests:\n  - vars: { q: ${JSON.stringify(prompts[0])} }\n`);
    const repeat = {};
    for (const j of [4, 16]) {
      // Asynchronously: the endpoint lives in this process and must keep answering.
      const child = spawn(process.execPath, [join(ROOT, 'node_modules/promptfoo/dist/src/entrypoint.js'), 'eval', '-c', cfg, '--repeat', '16', '-j', String(j), '--no-cache', '--no-progress-bar', '-o', join(dir, `r${j}.json`)], {
        env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1' },
        stdio: 'ignore',
      });
      const code = await new Promise((r) => child.once('exit', r));
      repeat[j] = code === 0 ? JSON.parse(readFileSync(join(dir, `r${j}.json`), 'utf8')).results.stats.evaluationDurationMs ?? null : null;
    }
    unlinkSync(cfg);
    proxy.close();
    await sim.close();
    emit({ bench: 'capture', k: 16, latency_ms: LATENCY, one_call_ms: oneCall, ours_sampling_ms: oursSampling, ours_with_ancestor_ms: ours, sequential_ms: sequential, promptfoo_repeat16_j4_ms: repeat[4], promptfoo_repeat16_j16_ms: repeat[16], ratio_to_one_call: +(oursSampling / oneCall).toFixed(2) });
  },

  async overhead() {
    const plain = join(ROOT, `tmp-bench-plain-${process.pid}.yaml`);
    const full = readFileSync(join(ROOT, 'promptfooconfig.yaml'), 'utf8');
    writeFileSync(plain, full.replace(/defaultTest:[\s\S]*?(?=tests:)/, "defaultTest:\n  assert:\n    - type: contains\n      value: 'Answer:'\n\n").replace(/extensions:[\s\S]*?(?=evaluateOptions:)/, ''));
    const run = (cfg) => {
      const dir = mkdtempSync(join(tmpdir(), 'bench-'));
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/promptfoo/dist/src/entrypoint.js'), 'eval', '-c', cfg, '--no-progress-bar', '-o', join(dir, 'o.json')], {
        cwd: ROOT,
        env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', PROMPTFOO_FAILED_TEST_EXIT_CODE: '0' },
      });
      if (r.status !== 0) throw new Error(`eval failed: ${r.stderr}`);
      return { wall: performance.now() - t0, evalMs: JSON.parse(readFileSync(join(dir, 'o.json'), 'utf8')).results.stats.evaluationDurationMs };
    };
    const runs = { plugin: [], plain: [] };
    for (let i = 0; i < 3; i++) {
      runs.plugin.push(run(join(ROOT, 'promptfooconfig.yaml')));
      runs.plain.push(run(plain));
    }
    unlinkSync(plain);
    const m = (xs, k) => Math.round(median(xs.map((x) => x[k])));
    const plugin = { wall: m(runs.plugin, 'wall'), evalMs: m(runs.plugin, 'evalMs') };
    const base = { wall: m(runs.plain, 'wall'), evalMs: m(runs.plain, 'evalMs') };
    emit({ bench: 'plugin-overhead', suite: 'promptfooconfig.yaml (40 tests x 12 rollouts)', plugin_wall_ms: plugin.wall, plain_wall_ms: base.wall, plugin_eval_ms: plugin.evalMs, plain_eval_ms: base.evalMs, overhead_wall: +(plugin.wall / base.wall - 1).toFixed(3), overhead_eval: +(plugin.evalMs / base.evalMs - 1).toFixed(3) });
  },

  /** Report and gate on real promptfoo rows replicated to 10k (pretty JSON) and 100k (JSONL): scripts/bench/reportGate.mjs. */
  async 'report-gate'() {
    const { reportGateBench } = await import('./reportGate.mjs');
    await reportGateBench(ROOT, emit);
  },
};

async function main() {
  const part = process.argv[2] === '--part' ? process.argv[3] : null;
  if (part) return parts[part](process.argv[4] ? Number(process.argv[4]) : undefined);
  const lines = [];
  const runPart = (name, args = []) => {
    process.stderr.write(`bench: ${name}…\n`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--part', name, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    for (const l of r.stdout.trim().split('\n')) lines.push(JSON.parse(l));
  };
  runPart('features-streaming');
  // TypeScript (object steps, flat arrays) against numpy float64/float32, interleaved rounds (features.mjs).
  lines.push(...featureBenchmarks({ positions: 2_000_000, rounds: 3, log: (m) => process.stderr.write(m + '\n') }));
  runPart('capture');
  runPart('overhead');
  runPart('report-gate');

  const get = (b) => lines.filter((l) => l.bench === b);
  const [ours] = get('features-streaming');
  const rows = [['benchmark', 'figure', 'target']];
  rows.push(['features (streaming, K=100+20)', `${ours.positions_per_s.toLocaleString('en')} positions/s over ${ours.positions.toLocaleString('en')} (object steps); peak ${ours.peak_rss_mb} MB`, '']);
  const feat = Object.fromEntries(get('features').map((f) => [f.kind, f]));
  const [ratios] = get('features-ratios');
  const [sums] = get('features-checksums');
  const rate = (k) => (feat[k] ? `${feat[k].positions_per_s.toLocaleString('en')}/s (${feat[k].positions_per_cpu_s.toLocaleString('en')}/CPU-s)` : 'skipped');
  rows.push(['features, TS vs numpy (2M, median of 3)', `flat arrays ${rate('ts-flat')}; object steps ${rate('ts-steps')}; numpy float64 ${rate('numpy-float64')}, float32 ${rate('numpy-float32')}; flat/numpy64 = ${ratios.flat_over_numpy64}x (CPU ${ratios.flat_over_numpy64_cpu}x); checksums: TS = numpy64 ${sums.ts_agrees_numpy64_1e9 ? 'agree' : 'DIFFER'}, Part-1 pin ${sums.ts_matches_part1_pin_1e12 === true ? 'holds' : sums.ts_matches_part1_pin_1e12}`, '>= 1.0x numpy float64 (target 1.5x)']);
  const [cap] = get('capture');
  rows.push(['capture K=16, 50 ms/request', `ours ${cap.ours_sampling_ms} ms sampling, ${cap.ours_with_ancestor_ms} ms with ancestor; one call ${cap.one_call_ms} ms (${cap.ratio_to_one_call}x); sequential ${cap.sequential_ms} ms; promptfoo --repeat 16: ${cap.promptfoo_repeat16_j4_ms} ms (-j 4), ${cap.promptfoo_repeat16_j16_ms} ms (-j 16)`, '<= 1.5x one call']);
  const [ov] = get('plugin-overhead');
  rows.push(['plugin overhead (root suite)', `eval ${ov.plugin_eval_ms} vs ${ov.plain_eval_ms} ms (${(100 * ov.overhead_eval).toFixed(1)}%); wall ${ov.plugin_wall_ms} vs ${ov.plain_wall_ms} ms (${(100 * ov.overhead_wall).toFixed(1)}%)`, '<= 15%']);
  for (const rg of get('report-gate')) {
    rows.push([
      `report + gate, ${rg.problems.toLocaleString('en')} tests, ${rg.input_format}`,
      `${rg.input_mb} MB per eval (${rg.rollouts_per_test} rollouts per test); report ${rg.report_ms} ms (${rg.report_cpu_ms} ms CPU; ${rg.report_formats}, peak ${rg.report_peak_rss_mb} MB); gate ${rg.gate_ms} ms (${rg.gate_cpu_ms} ms CPU; peak ${rg.gate_peak_rss_mb} MB; topography ${rg.gate_topography}); load average ${rg.load_average_1min} on ${rg.cores} cores`,
      rg.problems >= 100_000 ? 'report < 5 s and < 600 MB; gate < 5 s' : '',
    ]);
  }
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n'));
  console.log('');
  for (const l of lines) console.log(JSON.stringify(l));
}

await main();
