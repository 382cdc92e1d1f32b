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
    // Capture alone: no ancestor samples (they are one more request, timed by the root suite's bench).
    const withAncestor = new RolloutProvider({ config: { specialist: endpoint('sim-specialist'), ancestor: endpoint('sim-ancestor'), samples: 16, ancestorSamples: 0 } });
    const samplingOnly = new RolloutProvider({ config: { specialist: endpoint('sim-specialist'), samples: 16, ancestorSamples: 0 } });
    const S = new OpenAICompatibleModel({ baseUrl: url, model: 'sim-specialist' });
    const A = new OpenAICompatibleModel({ baseUrl: url, model: 'sim-ancestor' });
    const ours = await time((p) => withAncestor.callApi(p));
    const oursSampling = await time((p) => samplingOnly.callApi(p));
    const sequential = await time(async (p) => {
      const ids = await S.tokenize(p);
      for (let i = 0; i < 16; i++) {
        const [g] = await S.sample(ids, { temperature: 0.6, seed: i, maxTokens: 256, topK: 20 });
        await A.score(ids, g.tokens, 20);
      }
    });
    const oneCall = await time(async (p) => S.sample(await S.tokenize(p), { temperature: 0.6, seed: 1, maxTokens: 256, topK: 20 }));
    // promptfoo --repeat 16 on the same endpoint (its own provider, sampling only, no ancestor).
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const cfg = join(dir, 'repeat.yaml'); // no relative paths inside: it can live outside the repository
    writeFileSync(cfg, `prompts: ['{{q}}']\nproviders:\n  - id: openai:completion:sim-specialist\n    config: { apiBaseUrl: '${url}', apiKey: x, temperature: 0.6, max_tokens: 256 }\ntests:\n  - vars: { q: ${JSON.stringify(prompts[0])} }\n`);
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

  /**
   * What the plugin costs promptfoo, on the simulator's suite (examples/sim: a model fast enough
   * that the plugin's share is visible): the RolloutProvider with a plain `contains` assertion and
   * no hooks; with a no-op file assertion and no-op hooks (promptfoo's own cost of calling them);
   * and with gradeRollouts and the hooks. Five interleaved rounds: medians, and each overhead's
   * range over the rounds (a round's variant against that round's plain run).
   */
  async overhead() {
    const ROUNDS = 5;
    const dir = join(ROOT, 'examples/sim');
    const full = readFileSync(join(dir, 'promptfooconfig.yaml'), 'utf8');
    const noopModule = join(tmpdir(), `bench-noop-${process.pid}.mjs`);
    writeFileSync(noopModule, "export const assert = () => ({ pass: true, score: 1, reason: 'no-op' });\nexport async function afterEach(c) { return c; }\nexport async function afterAll() {}\n");
    const variant = (name, assert, extensions) => {
      const path = join(dir, `tmp-bench-${name}-${process.pid}.yaml`);
      writeFileSync(path, full.replace(/defaultTest:[\s\S]*?(?=tests:)/, `defaultTest:\n  assert:\n${assert}\n\n`).replace(/extensions:[\s\S]*?(?=evaluateOptions:)/, extensions));
      return path;
    };
    const configs = {
      plain: variant('plain', "    - type: contains\n      value: 'Answer:'", ''),
      noop: variant('noop', `    - type: javascript\n      value: file://${noopModule}:assert`, `extensions:\n  - file://${noopModule}:afterEach\n  - file://${noopModule}:afterAll\n\n`),
      full: join(dir, 'promptfooconfig.yaml'),
    };
    const run = (cfg) => {
      const out = mkdtempSync(join(tmpdir(), 'bench-'));
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/promptfoo/dist/src/entrypoint.js'), 'eval', '-c', cfg, '--no-progress-bar', '-o', join(out, 'o.json')], {
        cwd: ROOT,
        env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', PROMPTFOO_FAILED_TEST_EXIT_CODE: '0' },
      });
      if (r.status !== 0) throw new Error(`eval failed: ${r.stderr}`);
      return { wall: performance.now() - t0, evalMs: JSON.parse(readFileSync(join(out, 'o.json'), 'utf8')).results.stats.evaluationDurationMs };
    };
    const runs = { plain: [], noop: [], full: [] };
    try {
      for (let i = 0; i < ROUNDS; i++) for (const k of Object.keys(runs)) runs[k].push(run(configs[k]));
    } finally {
      unlinkSync(configs.plain);
      unlinkSync(configs.noop);
      unlinkSync(noopModule);
    }
    const m = (k, f) => Math.round(median(runs[k].map((x) => x[f])));
    const over = (k, f) => +(m(k, f) / m('plain', f) - 1).toFixed(3);
    const range = (k, f) => {
      const each = runs[k].map((x, i) => x[f] / runs.plain[i][f] - 1);
      return [+Math.min(...each).toFixed(3), +Math.max(...each).toFixed(3)];
    };
    emit({
      bench: 'plugin-overhead',
      suite: 'examples/sim/promptfooconfig.yaml (40 tests x 12 rollouts, the simulator)',
      plain_eval_ms: m('plain', 'evalMs'), noop_eval_ms: m('noop', 'evalMs'), full_eval_ms: m('full', 'evalMs'),
      plain_wall_ms: m('plain', 'wall'), noop_wall_ms: m('noop', 'wall'), full_wall_ms: m('full', 'wall'),
      noop_overhead_eval: over('noop', 'evalMs'), full_overhead_eval: over('full', 'evalMs'),
      noop_overhead_wall: over('noop', 'wall'), full_overhead_wall: over('full', 'wall'),
      rounds: ROUNDS, noop_overhead_eval_range: range('noop', 'evalMs'), full_overhead_eval_range: range('full', 'evalMs'),
    });
  },

  /** The embedded lineage: load, forward, decode, scoring, stepping, the root eval's model work (scripts/bench/lineage.mjs). */
  async lineage() {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/bench/lineage.mjs')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`lineage bench failed: ${r.stderr}`);
    process.stdout.write(r.stdout);
  },

  /** npm start, timed as a user runs it (the root suite on the lineage; offline). */
  async 'npm-start'() {
    const walls = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-pf-')) } });
      if (r.status !== 0) throw new Error(`npm start failed: ${r.stderr}`);
      walls.push(performance.now() - t0);
    }
    emit({ bench: 'npm-start', suite: 'promptfooconfig.yaml (40 lineage problems x 12 rollouts, ancestor scoring and 4 ancestor samples)', runs: walls.map(Math.round), median_ms: Math.round(median(walls)) });
  },

  /** The vLLM-dialect server: linear scoring, /health during a long request, limits (scripts/bench/serve.mjs). */
  async serve() {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/bench/serve.mjs')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`serve bench failed: ${r.stderr}`);
    process.stdout.write(r.stdout);
  },

  /** Report and gate on real promptfoo rows replicated to 10k (pretty JSON) and 100k (JSONL): scripts/bench/reportGate.mjs. */
  async 'report-gate'() {
    const { reportGateBench } = await import('./reportGate.mjs');
    await reportGateBench(ROOT, emit);
  },
};

/** The features row's words on numpy's AVX-512 code: on or off, and the informational run with it switched off. */
function noAvx512(ratios, rateOff) {
  if (ratios.numpy_avx512 === null) return "numpy's AVX-512 code: unknown (numpy skipped)";
  const state = `numpy's AVX-512 code ${ratios.numpy_avx512 ? 'on' : 'off (this CPU or numpy has none)'}`;
  if (ratios.flat_over_numpy64_noavx512_paired === null) return `${state}; the run with it switched off skipped`;
  const took = ratios.numpy_avx512_when_off ? ' (the switch did not take: still on)' : '';
  return `${state}; with it switched off${took} (informational) numpy float64 ${rateOff}, flat/that ${ratios.flat_over_numpy64_noavx512_paired}x (rounds ${ratios.flat_over_numpy64_noavx512_rounds.join(', ')})`;
}

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
  lines.push(...featureBenchmarks({ positions: 500_000, rounds: 9, log: (m) => process.stderr.write(m + '\n') }));
  runPart('capture');
  runPart('overhead');
  runPart('lineage');
  runPart('npm-start');
  runPart('serve');
  runPart('report-gate');

  const get = (b) => lines.filter((l) => l.bench === b);
  const [ours] = get('features-streaming');
  const rows = [['benchmark', 'figure', 'target']];
  rows.push(['features (streaming, K=100+20)', `${ours.positions_per_s.toLocaleString('en')} positions/s over ${ours.positions.toLocaleString('en')} (object steps); peak ${ours.peak_rss_mb} MB`, '']);
  const feat = Object.fromEntries(get('features').map((f) => [f.kind, f]));
  const [ratios] = get('features-ratios');
  const [sums] = get('features-checksums');
  const rate = (k) => (feat[k] ? `${feat[k].positions_per_s.toLocaleString('en')}/s (${feat[k].positions_per_cpu_s.toLocaleString('en')}/CPU-s)` : 'skipped');
  rows.push(['features, TS vs numpy (500k a run, 9 rounds)', `medians: flat arrays ${rate('ts-flat')}; object steps ${rate('ts-steps')}; numpy float64 ${rate('numpy-float64')}, float32 ${rate('numpy-float32')}; flat/numpy64: median of the rounds' own ratios ${ratios.flat_over_numpy64_paired}x (rounds ${ratios.flat_over_numpy64_rounds.join(', ')}), ratio of the medians ${ratios.flat_over_numpy64}x (CPU ${ratios.flat_over_numpy64_cpu}x); flat/numpy32 ${ratios.flat_over_numpy32_paired}x (rounds ${ratios.flat_over_numpy32_rounds.join(', ')}); ${noAvx512(ratios, rate('numpy-float64-noavx512'))}; checksums: TS = numpy64 ${sums.ts_agrees_numpy64_1e9 ? 'agree' : 'DIFFER'}, Part-1 pin (${sums.pin_positions} positions) ${sums.ts_matches_part1_pin_1e12 ? 'holds' : 'BROKEN'}`, '>= 1.0x numpy float64 (target 1.5x)']);
  const [cap] = get('capture');
  rows.push(['capture K=16, 50 ms/request', `ours ${cap.ours_sampling_ms} ms sampling, ${cap.ours_with_ancestor_ms} ms with ancestor; one call ${cap.one_call_ms} ms (${cap.ratio_to_one_call}x); sequential ${cap.sequential_ms} ms; promptfoo --repeat 16: ${cap.promptfoo_repeat16_j4_ms} ms (-j 4), ${cap.promptfoo_repeat16_j16_ms} ms (-j 16)`, '<= 1.5x one call']);
  const [ov] = get('plugin-overhead');
  const p100 = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  rows.push(['plugin overhead (the simulator\'s suite)', `eval time: plain ${ov.plain_eval_ms} ms, no-op assertion + hooks ${ov.noop_eval_ms} ms (${p100(ov.noop_overhead_eval)}, rounds ${ov.noop_overhead_eval_range.map(p100).join('…')}), full plugin ${ov.full_eval_ms} ms (${p100(ov.full_overhead_eval)}, rounds ${ov.full_overhead_eval_range.map(p100).join('…')}; median of ${ov.rounds}); wall: ${ov.plain_wall_ms} / ${ov.noop_wall_ms} / ${ov.full_wall_ms} ms`, '']);
  const lin = (b) => get(b);
  const [root] = lin('lineage-root-eval-models');
  const [dec] = lin('lineage-decode-batched');
  const [score] = lin('lineage-prefill-score');
  const [load] = lin('lineage-load');
  if (root) rows.push(['lineage: the root eval\'s model work', `${root.seconds} s wall, ${root.cpu_seconds} s CPU (${root.problems} problems); batched decode ${dec.tokens_per_s.toLocaleString('en')} tokens/s; prefill scoring ${score.positions_per_s.toLocaleString('en')} positions/s; load ${load.cold_ms} ms cold`, '']);
  const [start] = get('npm-start');
  rows.push(['npm start (the root suite, end to end)', `median ${(start.median_ms / 1000).toFixed(1)} s of ${start.runs.length} runs (${start.runs.map((x) => (x / 1000).toFixed(1)).join(', ')} s)`, '< 60 s']);
  const health = get('health-during-long-request')[0];
  const linear = get('score-linear');
  if (health) rows.push(['serve: scoring and /health', `scoring ${linear.map((x) => `${x.tokens.toLocaleString('en')} tokens ${x.ms} ms`).join(', ')}; /health during a ${health.long_request_ms} ms request: median ${health.health_median_ms} ms, max ${health.health_max_ms} ms`, '']);
  for (const rg of get('report-gate')) {
    rows.push([
      `report + gate, ${rg.problems.toLocaleString('en')} tests, ${rg.input_format}`,
      `${rg.input_mb} MB per eval (${rg.rollouts_per_test} rollouts per test); medians of ${rg.rounds} runs: report ${rg.report_ms} ms [${rg.report_ms_runs.join(', ')}] (${rg.report_cpu_ms} ms CPU; ${rg.report_formats}, peak ${rg.report_peak_rss_mb} MB); gate ${rg.gate_ms} ms [${rg.gate_ms_runs.join(', ')}] (${rg.gate_cpu_ms} ms CPU; peak ${rg.gate_peak_rss_mb} MB; topography ${rg.gate_topography}); reading its two outputs alone ${rg.gate_read_ms} ms [${rg.gate_read_ms_runs.join(', ')}]; load average ${rg.load_average_1min} on ${rg.cores} cores`,
      rg.problems >= 100_000 ? 'report < 5 s and < 600 MB; gate < 5 s' : '',
    ]);
  }
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n'));
  console.log('');
  for (const l of lines) console.log(JSON.stringify(l));
}

await main();
