#!/usr/bin/env node
// What repair costs and buys on the root suite's 40 lineage problems (examples/lineage-problems.csv)
// × 12 rollouts, in-process (no promptfoo), once without repair and once per route at the same
// budget, the measured policy (examples/lineage/policy.json) included.
// Run after `npm run build`: node scripts/measure-repair.mjs [--budget 4] [--json]
// Counts (attempts, requests, tokens, rescues) are exact and reproducible; wall times depend on the machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { RolloutProvider } from '../dist/promptfoo/rolloutProvider.js';

/** The root suite's capture settings (promptfooconfig.yaml). */
const CAPTURE = { specialist: 'lineage', samples: 12, temperature: 0.6, topK: 20, ancestorTopK: 20, ancestorSamples: 4, maxTokens: 100, seed: 1 };
const here = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { budget: { type: 'string', default: '4' }, json: { type: 'boolean', default: false } } });
const budget = Number(values.budget);
const tests = readFileSync(join(here, 'examples/lineage-problems.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const [, expression, answer] = l.split(',');
  return { prompt: `Q: ${expression}=\n`, answer };
});
const grader = { type: 'numeric', var: 'answer' };
const variants = [
  ['none', null],
  ['retry', { route: 'retry' }],
  ['local_temp', { route: 'local_temp' }],
  ['sparse_steer', { route: 'sparse_steer' }],
  ['dense_steer', { route: 'dense_steer' }],
  ['policy.json', { policy: 'examples/lineage/policy.json' }],
];

const rows = [];
for (const [name, repair] of variants) {
  const provider = new RolloutProvider({ config: { ...CAPTURE, basePath: here, ...(repair ? { repair: { ...repair, budget, grader } } : {}) } });
  const t0 = performance.now();
  const s = { variant: name, rows: tests.length, failing: 0, rescued: 0, attempts: 0, requests: 0, prompt_tokens: 0, tokens: 0, capture_requests: 0, capture_tokens: 0, routes: {} };
  for (const t of tests) {
    const res = await provider.callApi(t.prompt, { vars: { answer: t.answer } });
    if (res.error) throw new Error(res.error);
    const r = res.metadata.recoverability.repair;
    s.capture_requests += res.tokenUsage.numRequests - (r?.requests ?? 0);
    s.capture_tokens += res.tokenUsage.total - (r ? r.tokens + r.prompt_tokens : 0);
    if (!r || r.route === null) continue;
    s.failing++;
    s.routes[r.route] = (s.routes[r.route] ?? 0) + 1;
    if (r.rescued) s.rescued++;
    s.attempts += r.attempts;
    s.requests += r.requests;
    s.prompt_tokens += r.prompt_tokens;
    s.tokens += r.tokens;
  }
  s.ms = Math.round(performance.now() - t0);
  rows.push(s);
}

if (values.json) {
  for (const r of rows) console.log(JSON.stringify({ budget, ...r }));
} else {
  const base = rows[0].ms;
  console.log(`40 lineage problems × 12 rollouts (K=12, T=0.6), budget ${budget} attempts per failing row`);
  console.log('variant       failing  rescued        attempts  requests  read tokens  generated  wall ms (× no repair)');
  for (const r of rows) {
    if (r.variant === 'none') {
      console.log(`${'none'.padEnd(13)} ${'—'.padStart(7)}  ${'—'.padEnd(13)}  ${'—'.padStart(8)}  ${String(r.capture_requests).padStart(8)}  ${String(r.capture_tokens).padStart(11)}  ${'—'.padStart(9)}  ${r.ms} (capture only)`);
      continue;
    }
    const rate = `${r.rescued}/${r.failing} (${((100 * r.rescued) / r.failing).toFixed(1)}%)`;
    console.log(`${r.variant.padEnd(13)} ${String(r.failing).padStart(7)}  ${rate.padEnd(13)}  ${String(r.attempts).padStart(8)}  ${String(r.requests).padStart(8)}  ${String(r.prompt_tokens).padStart(11)}  ${String(r.tokens).padStart(9)}  ${r.ms} (${(r.ms / base).toFixed(2)}×)${r.variant === 'policy.json' ? `  routes ${JSON.stringify(r.routes)}` : ''}`);
  }
}
