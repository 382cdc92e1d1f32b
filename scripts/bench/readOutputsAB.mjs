#!/usr/bin/env node
// Reading promptfoo outputs as the gate (or the report) reads them — loadEvalOutputs, with its
// reader threads — by two builds in one process, in turn (A B, B A, …), so the machine's drift
// falls on both alike. Prints each round's milliseconds and A/B as the median of the pairs.
//   node --expose-gc scripts/bench/readOutputsAB.mjs <distA> <distB> [rounds=8] [gate|report] out1.jsonl [out2.jsonl …]
// distA, distB: builds (`npx tsc -p tsconfig.build.json` in a worktree of another commit).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA, distB, rounds = '8', purpose = 'gate', ...paths] = process.argv.slice(2);
if (!distA || !distB || paths.length === 0) {
  console.error('usage: node scripts/bench/readOutputsAB.mjs <distA> <distB> [rounds=8] [gate|report] out1.jsonl [out2.jsonl …]');
  process.exit(2);
}
const loader = async (dist) => (await import(pathToFileURL(resolve(dist, 'io/loadEvalOutput.js')).href)).loadEvalOutputs;
const builds = { A: await loader(distA), B: await loader(distB) };
const ms = { A: [], B: [] };
for (let k = 0; k < Number(rounds); k++) {
  for (const name of k % 2 ? ['B', 'A'] : ['A', 'B']) {
    const t0 = performance.now();
    await builds[name](paths, { purpose });
    ms[name].push(performance.now() - t0);
    globalThis.gc?.(); // with node --expose-gc: neither build starts with the other's garbage
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pairs = ms.A.map((a, k) => a / ms.B[k]);
console.log(`A ${ms.A.map(Math.round).join(' ')} ms\nB ${ms.B.map(Math.round).join(' ')} ms`);
console.log(`A/B ${median(pairs).toFixed(3)} as the median of the pairs (${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}), ${(median(ms.A) / median(ms.B)).toFixed(3)} as the ratio of the medians (${purpose}, ${paths.length} outputs)`);
