#!/usr/bin/env node
// The embedded arith lineage's speed, measured here and now on dist/ (npm run build first).
// Prints one JSON line per figure. Timings are wall-clock on whatever else the machine runs.
//   node scripts/bench/lineage.mjs               load, decode, scoring, stepping, the root eval's workload
//   node scripts/bench/lineage.mjs --pass-rates  also the pass rates per chain length (slow: ~3,200 rollouts)
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { loadArithLineage, arithProblems, gradeArith } = await import(join(ROOT, 'dist/lineage/index.js'));
const emit = (o) => console.log(JSON.stringify(o));
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** Wall and CPU seconds (user + system) of this process since `start()`: CPU time says more on a shared machine. */
const clock = () => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(cpu);
    return { seconds: +((performance.now() - wall) / 1000).toFixed(3), cpu_seconds: +((c.user + c.system) / 1e6).toFixed(3) };
  };
};
const T = 0.6;

let t0 = performance.now();
const { specialist, ancestor, manifest } = loadArithLineage();
const coldMs = performance.now() - t0;
const cached = [0, 1, 2, 3, 4].map(() => {
  t0 = performance.now();
  loadArithLineage();
  return performance.now() - t0;
});
emit({ bench: 'lineage-load', cold_ms: +coldMs.toFixed(1), cached_ms: +Math.min(...cached).toFixed(3), what: 'read + SHA-256 check of lineage.json and both safetensors, 2 wasm instances' });

const encode = (p) => specialist.encode(p.prompt, true);
const room = (prompt) => specialist.maxModelLen - prompt.length;
// 2 problems of each chain length: the root suite's mix
const problems = arithProblems({ seed: 11, operations: [2, 3, 4, 5], count: 2 });

// the forward pass itself, no sharing: n distinct sequences stepped together for 60 steps
// (row i always takes its distribution's (i mod 28)-th token), and 64-row prefills
{
  for (const n of [1, 4, 12]) {
    const session = specialist.startDecode(encode(problems[0]), n);
    const rows0 = specialist.work.rows;
    const stop = clock();
    for (let step = 0; step < 60; step++) session.push(session.next().map((d, i) => d.ids[(i + step) % 28]));
    session.next();
    const t = stop();
    session.close();
    const rows = specialist.work.rows - rows0;
    emit({ bench: 'lineage-forward', mode: `decode, batch ${n}`, rows, ...t, rows_per_s: Math.round(rows / t.seconds), rows_per_cpu_s: Math.round(rows / t.cpu_seconds) });
  }
  const ids = Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 3 + (i % 24)));
  const stop = clock();
  for (let rep = 0; rep < 20; rep++) specialist.logitsAfter(ids);
  const t = stop();
  emit({ bench: 'lineage-forward', mode: 'prefill, 64 rows', rows: 20 * 64, ...t, rows_per_s: Math.round((20 * 64) / t.seconds), rows_per_cpu_s: Math.round((20 * 64) / t.cpu_seconds) });
}

// batched decode: 12 rollouts per problem in one session, as the provider samples them (rollouts
// that drew the same tokens share a row: tokens counts generated tokens, rows the positions run)
{
  const rollouts = [];
  let rows0 = specialist.work.rows;
  let stop = clock();
  for (const p of problems) {
    const prompt = encode(p);
    for (const g of await specialist.sample(prompt, { n: 12, seed: 1, temperature: T, maxTokens: room(prompt), topK: 20 })) rollouts.push({ prompt, tokens: g.tokens });
  }
  let t = stop();
  const tokens = rollouts.reduce((s, r) => s + r.tokens.length, 0);
  emit({ bench: 'lineage-decode-batched', model: specialist.id, problems: problems.length, n: 12, tokens, rows: specialist.work.rows - rows0, ...t, tokens_per_s: Math.round(tokens / t.seconds), tokens_per_cpu_s: Math.round(tokens / t.cpu_seconds) });

    // prefill scoring: every rollout under the ancestor, one prefill each (positions shared with
  // an earlier rollout of the prompt are reused: positions counts what is scored, rows what ran)
  rows0 = ancestor.work.rows;
  stop = clock();
  for (const r of rollouts) await ancestor.score(r.prompt, r.tokens, 20);
  t = stop();
  const positions = rollouts.reduce((s, r) => s + r.prompt.length + r.tokens.length - 1, 0);
  emit({ bench: 'lineage-prefill-score', model: ancestor.id, rollouts: rollouts.length, positions, rows: ancestor.work.rows - rows0, ...t, positions_per_s: Math.round(positions / t.seconds), positions_per_cpu_s: Math.round(positions / t.cpu_seconds) });
}

// one sequence at a time (batch 1)
{
  let tokens = 0;
  const stop = clock();
  for (const p of problems) {
    const prompt = encode(p);
    for (let i = 0; i < 3; i++) tokens += (await specialist.sample(prompt, { n: 1, seed: i, temperature: T, maxTokens: room(prompt), topK: 20 }))[0].tokens.length;
  }
  const t = stop();
  emit({ bench: 'lineage-decode-single', model: specialist.id, sequences: problems.length * 3, tokens, ...t, tokens_per_s: Math.round(tokens / t.seconds), tokens_per_cpu_s: Math.round(tokens / t.cpu_seconds) });
}

// step-wise decoding as dense steering does it: both models' nextTopK after a prefix growing by
// one, greedy on the α = 0.7 logit mix; the 8 chains one after another, then all at once (as the
// probe steers up to 8 rollouts concurrently: their calls run as one batch)
{
  const steer = async (prompt) => {
    const seq = [...prompt];
    let steps = 0;
    while (seq.length < specialist.maxModelLen) {
      const [s, a] = await Promise.all([specialist.nextTopK(seq, 20), ancestor.nextTopK(seq, 20)]);
      const mix = new Map();
      s.ids.forEach((id, i) => mix.set(id, 0.7 * s.logprobs[i]));
      a.ids.forEach((id, i) => mix.has(id) && mix.set(id, mix.get(id) + 0.3 * a.logprobs[i]));
      const token = [...mix].sort((x, y) => y[1] - x[1])[0][0];
      steps++;
      if (token === specialist.eosId) break;
      seq.push(token);
    }
    return steps;
  };
  for (const mode of ['sequential', 'concurrent']) {
    specialist.clearPrefixCache();
    ancestor.clearPrefixCache();
    const stop = clock();
    const steps = mode === 'sequential' ? await problems.reduce(async (n, p) => (await n) + (await steer(encode(p))), Promise.resolve(0)) : (await Promise.all(problems.map((p) => steer(encode(p))))).reduce((a, b) => a + b, 0);
    const t = stop();
    emit({ bench: 'lineage-nexttopk-steps', chains: problems.length, mode, steps, model_steps: 2 * steps, ...t, model_steps_per_s: Math.round((2 * steps) / t.seconds), model_steps_per_cpu_s: Math.round((2 * steps) / t.cpu_seconds) });
  }
}

// the root eval's model work: 40 problems × (12 specialist rollouts, each scored under the
// ancestor, plus 4 ancestor rollouts), in one thread
{
  const suite = arithProblems({ seed: 0, operations: [2, 3, 4, 5], count: 10 });
  let tokens = 0;
  let passed = 0;
  const perProblem = [];
  const stop = clock();
  for (const p of suite) {
    const t1 = performance.now();
    const prompt = encode(p);
    const gens = await specialist.sample(prompt, { n: 12, seed: 0, temperature: T, maxTokens: room(prompt), topK: 20 });
    for (const g of gens) {
      await ancestor.score(prompt, g.tokens, 20);
      tokens += g.tokens.length;
      passed += gradeArith(g.text, p.answer) ? 1 : 0;
    }
    for (const g of await ancestor.sample(prompt, { n: 4, seed: 0, temperature: T, maxTokens: room(prompt), topK: 20 })) tokens += g.tokens.length;
    perProblem.push(performance.now() - t1);
  }
  const t = stop();
  perProblem.sort((a, b) => a - b);
  emit({
    bench: 'lineage-root-eval-models', problems: suite.length, specialist_rollouts: 12, ancestor_rollouts: 4, generated_tokens: tokens, ...t,
    per_problem_ms_median: Math.round(perProblem[perProblem.length >> 1]), specialist_pass_rate: +(passed / (12 * suite.length)).toFixed(3), peak_rss_mb: peakMb(),
  });
}

if (process.argv.includes('--pass-rates')) {
  // 100 problems × 4 rollouts per chain length and model, T = 0.6, against the model card (200 × 12)
  for (const [name, model] of [['specialist', specialist], ['ancestor', ancestor]]) {
    for (const k of [2, 3, 4, 5]) {
      let sum = 0;
      const list = arithProblems({ seed: 101, operations: [k], count: 100 });
      for (const p of list) {
        const prompt = encode(p);
        const gens = await model.sample(prompt, { n: 4, seed: 0, temperature: T, maxTokens: room(prompt), topK: 0 });
        sum += gens.filter((g) => gradeArith(g.text, p.answer)).length / 4;
      }
      emit({ bench: 'lineage-pass-rate', model: model.id, operations: k, problems: list.length, rollouts_each: 4, pass_rate: +(sum / list.length).toFixed(3), card: +manifest.eval[`${name}_ops${k}`].mean_pass.toFixed(3) });
    }
  }
}
