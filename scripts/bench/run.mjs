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

  /** The same math written the simple way: per-token objects, Maps, the whole trace held. */
  async 'features-objects'(n = 2_000_000) {
    const pool = makePool().map((p) => ({
      token: p.token,
      s: Array.from(p.specialist.ids, (id, i) => ({ id, logprob: p.specialist.logprobs[i] })),
      a: Array.from(p.ancestor.ids, (id, i) => ({ id, logprob: p.ancestor.logprobs[i] })),
    }));
    const T = 0.6, FLOOR = -1000, EPS = 1e-8, KCOV = 20, W = 8;
    const tempered = (list) => {
      const z = list.map((e) => Math.max(e.logprob, FLOOR) / T);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      return new Map(list.map((e, i) => [e.id, { lp: Math.max(e.logprob, FLOOR), logp: z[i] - lse, p: Math.exp(z[i] - lse) }]));
    };
    let checksum = 0;
    const t0 = performance.now();
    let trace = [];
    for (let i = 0; i < n; i++) {
      const pos = pool[(i * STRIDE) % P];
      const S = tempered(pos.s);
      const A = tempered(pos.a);
      const floorS = FLOOR / T - Math.log([...S.values()].reduce((s, v) => s + Math.exp(v.lp / T), 0));
      const floorA = FLOOR / T - Math.log([...A.values()].reduce((s, v) => s + Math.exp(v.lp / T), 0));
      const delta = (S.get(pos.token)?.logp ?? floorS) - (A.get(pos.token)?.logp ?? floorA);
      const cov = [...pos.a].sort((x, y) => y.logprob - x.logprob).slice(0, KCOV);
      const massA = cov.reduce((s, e) => s + A.get(e.id).p, 0);
      const massS = cov.reduce((s, e) => s + (S.get(e.id)?.p ?? 0), 0);
      const gcov = Math.log((massA + EPS) / (massS + EPS));
      const mean = [...S.values()].reduce((s, v) => s + v.p * v.lp, 0);
      const variance = [...S.values()].reduce((s, v) => s + v.p * (v.lp - mean) ** 2, 0);
      trace.push({ j: Math.max(0, delta) + Math.max(0, gcov), variance });
      if (trace.length === L) {
        const js = trace.map((t) => t.j);
        const maxJ = Math.max(...js);
        const meanJ = js.reduce((a, b) => a + b, 0) / L;
        const jStar = js.indexOf(maxJ);
        const win = trace.slice(Math.max(0, jStar - W), jStar + W + 1);
        checksum += js.filter((j) => j > 0).length / L + Math.log10(Math.max(maxJ, 1e-8) / Math.max(meanJ, EPS)) + Math.log10(Math.max(win.reduce((s, t) => s + t.variance, 0) / win.length, 1e-8));
        trace = [];
      }
    }
    const dt = (performance.now() - t0) / 1000;
    emit({ bench: 'features-objects', positions: n, seconds: +dt.toFixed(3), positions_per_s: Math.round(n / dt), peak_rss_mb: peakMb(), checksum });
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
  runPart('features-objects');
  process.stderr.write('bench: features-numpy…\n');
  const py = spawnSync('python3', [join(ROOT, 'scripts/bench/features_numpy.py'), '2000000'], { encoding: 'utf8' });
  if (py.status === 0) lines.push(JSON.parse(py.stdout.trim()));
  else lines.push({ bench: 'features-numpy', skipped: `python3 with numpy not available here (${(py.stderr || '').trim().split('\n').at(-1)})` });
  runPart('capture');
  runPart('overhead');
  runPart('report-gate');

  const get = (b) => lines.filter((l) => l.bench === b);
  const [ours] = get('features-streaming');
  const [simple] = get('features-objects');
  const [np] = get('features-numpy');
  const rows = [['benchmark', 'figure', 'target']];
  rows.push(['features (streaming, K=100+20)', `${ours.positions_per_s.toLocaleString('en')} positions/s over ${ours.positions.toLocaleString('en')}; peak ${ours.peak_rss_mb} MB`, '']);
  rows.push(['features (per-token objects)', `${simple.positions_per_s.toLocaleString('en')} positions/s over ${simple.positions.toLocaleString('en')}; peak ${simple.peak_rss_mb} MB; streaming is ${(ours.positions_per_s / simple.positions_per_s).toFixed(1)}x`, '']);
  if (np.positions_per_s) {
    const agree = (x, y) => Math.abs(x - y) <= 1e-9 * Math.abs(y);
    const same = agree(ours.checksum_at_2m, np.checksum) && agree(simple.checksum, np.checksum);
    rows.push(['features (numpy, vectorized)', `${np.positions_per_s.toLocaleString('en')} positions/s over ${np.positions.toLocaleString('en')}; peak ${np.peak_rss_mb} MB; streaming/numpy = ${(ours.positions_per_s / np.positions_per_s).toFixed(2)}; checksums over the first 2M positions ${same ? 'agree (same math)' : `DIFFER: ${ours.checksum_at_2m} / ${simple.checksum} / ${np.checksum}`}`, 'within numpy']);
  } else rows.push(['features (numpy, vectorized)', np.skipped, 'within numpy']);
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
