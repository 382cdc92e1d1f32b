#!/usr/bin/env node
// Benchmarks of `recoverability serve` (run `npm run build` first): one JSON line per figure.
//   node scripts/bench/serve.mjs
// - scoring: prompt_logprobs of an n-token sequence under the simulator, the linear pass the
//   server uses against the per-prefix way it replaced (time and peak RSS);
// - health: /health latency while a long request (n = 256, 300 tokens, 20 log-probs) decodes;
// - limits: how fast a 10 MB body (413), a 500,000-character prompt (400) and a full-length
//   scoring request (400 tokens, prompt_logprobs 20) are answered.
// Timings depend on the machine and its load.
import { performance } from 'node:perf_hooks';

const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
const { LineageSimulator } = await import(dist('simulator/lineageSimulator.js'));
const { simServedModels } = await import(dist('simulator/simServedModel.js'));
const { simPrompts } = await import(dist('simulator/simPrompts.js'));
const { startSimServer } = await import(dist('http/simServer.js'));

const emit = (o) => console.log(JSON.stringify(o));
const peakMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sim = new LineageSimulator({ seed: 0 });
const [, ancestor] = simServedModels(sim);
const prompt = simPrompts(1, 0)[0].prompt;
const ids = ancestor.encode(prompt, true);
const [g] = await sim.specialist.sample(ids, { temperature: 1, seed: 1, maxTokens: 200, topK: 1 });
// The prompt, one rollout, then the rollout's body again and again (its opening "Step 1:" once:
// a generation as long as you like). The simulator keys a world on the text before the last
// "Step 1:", so each further opening costs a pass over the prefix: `openings` shows that worst
// case at the served max_model_len (400 tokens, an opening every 3 tokens).
const body = g.tokens.slice(3);
const sequence = (n) => {
  const s = [...ids, ...g.tokens];
  while (s.length < n) s.push(...body);
  return s.slice(0, n);
};
const openings = (n) => {
  const s = [...ids];
  while (s.length < n) s.push(...g.tokens.slice(0, 3));
  return s.slice(0, n);
};

for (const n of [400, 8_000, 32_000, 100_000]) {
  const s = sequence(n);
  const t0 = performance.now();
  ancestor.scorePrompt(s);
  emit({ bench: 'score-linear', tokens: n, ms: Math.round(performance.now() - t0), rss_mb: peakMb() });
}
{
  const s = openings(400);
  const t0 = performance.now();
  ancestor.scorePrompt(s);
  emit({ bench: 'score-linear, an opening every 3 tokens', tokens: 400, ms: Math.round(performance.now() - t0), rss_mb: peakMb() });
}
for (const n of [400, 2_000, 8_000]) {
  const s = sequence(n);
  const t0 = performance.now();
  for (let p = 1; p < s.length; p++) sim.nextDistribution('ancestor', s.slice(0, p));
  emit({ bench: 'score-per-prefix (replaced)', tokens: n, ms: Math.round(performance.now() - t0), rss_mb: peakMb() });
}

const server = await startSimServer({ simulator: sim });
const root = server.url.replace(/\/v1$/, '');
const post = (path, body) => fetch(root + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

{
  const t0 = performance.now();
  let done = false;
  const long = post('/v1/completions', { model: 'sim-specialist', prompt, n: 256, ignore_eos: true, max_tokens: 300, logprobs: 20, seed: 1 }).then(async (r) => {
    await r.text();
    done = true;
    return performance.now() - t0;
  });
  const latencies = [];
  while (!done) {
    await new Promise((r) => setTimeout(r, 50));
    if (done) break;
    const h0 = performance.now();
    await fetch(`${root}/health`);
    latencies.push(performance.now() - h0);
  }
  emit({ bench: 'health-during-long-request', long_request_ms: Math.round(await long), health_checks: latencies.length, health_median_ms: +median(latencies).toFixed(1), health_max_ms: +Math.max(...latencies).toFixed(1) });
}

const timed = async (what, f) => {
  const t0 = performance.now();
  const r = await f();
  await r.text();
  emit({ bench: 'limits', what, status: r.status, ms: Math.round(performance.now() - t0) });
};
await timed('10 MB body', () => post('/v1/completions', { model: 'sim-specialist', prompt: 'x'.repeat(10 * 2 ** 20) }));
await timed('500,000-character prompt', () => post('/v1/completions', { model: 'sim-specialist', prompt: 'y'.repeat(500_000) }));
await timed('500,000-character /tokenize', () => post('/tokenize', { model: 'sim-specialist', prompt: 'y'.repeat(500_000) }));
await timed('400-token prompt_logprobs 20', () => post('/v1/completions', { model: 'sim-ancestor', prompt: sequence(399), max_tokens: 1, temperature: 0, prompt_logprobs: 20 }));
await server.close();
