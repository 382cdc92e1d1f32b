#!/usr/bin/env node
// Reading a promptfoo output with two builds in one process, alternating (A B, then B A, …), so
// that the machine's drifting speed falls on both alike: each round's A/B time ratio and their
// median. One thread reads the whole file (readRange), as the gate (or the report) reads it.
//   node scripts/bench/readAB.mjs <distA> <distB> <out.jsonl> [rounds=6] [gate|report]
// distA: a build of an earlier commit (git worktree add /tmp/old <commit>; cd /tmp/old; npm ci;
// npm run build), distB: ./dist. A 100k-row output: writeJsonl in scripts/bench/reportGate.mjs.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA, distB, path, rounds = '6', purpose = 'gate'] = process.argv.slice(2);
const reader = async (dist) => {
  const { readRange } = await import(pathToFileURL(resolve(dist, 'io/loadEvalOutput.js')).href);
  return () => readRange(path, purpose);
};
const builds = { A: { read: await reader(distA), ms: [] }, B: { read: await reader(distB), ms: [] } };
const ratios = [];
for (let r = 0; r < Number(rounds); r++) {
  for (const name of r % 2 ? ['B', 'A'] : ['A', 'B']) {
    const t0 = performance.now();
    await builds[name].read();
    builds[name].ms.push(Math.round(performance.now() - t0));
  }
  ratios.push(builds.A.ms.at(-1) / builds.B.ms.at(-1));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`A ms ${builds.A.ms.join(' ')}\nB ms ${builds.B.ms.join(' ')}`);
console.log(`A/B per round ${ratios.map((x) => x.toFixed(3)).join(' ')}; median ${median(ratios).toFixed(3)} (${purpose})`);
