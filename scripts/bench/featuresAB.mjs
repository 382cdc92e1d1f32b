#!/usr/bin/env node
// Two builds of the feature kernel side by side in one process: blocks of rollouts alternate
// between them (A B, then B A, …), so the machine's drift, a third of its speed within minutes
// here, hits both alike; prints each build's positions/s and A's speed-up over B (all blocks,
// and the median and 10–90% range of the blocks' own ratios), and whether both gave the same
// summaries. For before/after figures of a kernel change:
//   git worktree add /tmp/before <commit> && (cd /tmp/before && ln -s $PWD/node_modules && npx tsc -p tsconfig.build.json)
//   node scripts/bench/featuresAB.mjs dist /tmp/before/dist [blocks=40] [rollouts per block=20] [pool=issue]
// pool `confident`: a confident model's stream instead of the pool (pool.mjs: 80% of
// positions with a top probability over 0.99, unreturned mass under 0.5%).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DISTINCT, flatRollouts, L, makePool } from './pool.mjs';

const [distA, distB, blocksArg = '40', perArg = '20', poolArg = 'issue'] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node scripts/bench/featuresAB.mjs <dist A> <dist B> [blocks=40] [rollouts per block=20] [pool=issue|confident]');
  process.exit(2);
}
const load = async (dist) => (await import(pathToFileURL(resolve(dist, 'core/features/rolloutFeatureAccumulator.js')).href)).RolloutFeatureAccumulator;
const [A, B] = [await load(distA), await load(distB)];
const blocks = Number(blocksArg);
const per = Number(perArg);
if (poolArg !== 'issue' && poolArg !== 'confident') throw new Error(`pool must be issue or confident, got ${poolArg}`);
const traces = flatRollouts(makePool(poolArg === 'confident' ? { confident: 0.8, tail: 0.005 } : {}));
const accs = [new A(), new B()];
const sums = [0, 0];
const times = [0, 0];
const ratios = [];
let next = 0;
/** One block of rollouts through build k; the sum of every summary field, to compare the builds. */
const run = (k) => {
  let s = 0;
  for (let j = 0; j < per; j++) {
    const out = accs[k].reset().pushFlat(traces[(next + j) % DISTINCT]).finish();
    for (const v of Object.values(out)) if (typeof v === 'number') s += v;
  }
  return s;
};
for (let w = 0; w < 3; w++) run(0), run(1); // both JITs warm before timing
for (let b = 0; b < blocks; b++) {
  const took = [0, 0];
  for (const k of b % 2 === 0 ? [0, 1] : [1, 0]) {
    const t = performance.now();
    sums[k] += run(k);
    took[k] = performance.now() - t;
  }
  times[0] += took[0];
  times[1] += took[1];
  ratios.push(took[1] / took[0]);
  next += per;
}
ratios.sort((x, y) => x - y);
const rate = (ms) => Math.round((blocks * per * L) / (ms / 1000));
const q = (p) => +ratios[Math.min(ratios.length - 1, Math.floor(p * ratios.length))].toFixed(3);
console.log(JSON.stringify({ bench: 'features-ab', pool: poolArg, a: distA, b: distB, rollouts: blocks * per, a_positions_per_s: rate(times[0]), b_positions_per_s: rate(times[1]), a_speedup: +(times[1] / times[0]).toFixed(3), a_speedup_median_block: q(0.5), a_speedup_p10_p90: [q(0.1), q(0.9)], same_summaries: sums[0] === sums[1] }));
