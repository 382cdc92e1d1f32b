#!/usr/bin/env node
// Reading a promptfoo JSONL output with two builds in one process, alternating finely: the file
// is cut into line-aligned ranges of about `mb` MiB and each range is read by A then B (B then A
// on the next), pass after pass, so the machine's drift (a third of its speed within minutes
// here) falls on both alike even within a pass. One thread reads each range (readRange), as the
// gate (or the report) reads it. Prints each build's total and A/B over all passes and per pass
// (the first four ranges of the first pass warm both builds up and are not counted).
//   node scripts/bench/readRangesAB.mjs <distA> <distB> <out.jsonl> [passes=3] [gate|report] [mb=8]
// distA: a build of an earlier commit (git worktree add /tmp/old <commit>; cd /tmp/old; ln -s
// $PWD/node_modules; npm run build), distB: ./dist. A 100k-row output: writeJsonl in reportGate.mjs.
import { fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA, distB, path, passes = '3', purpose = 'gate', mb = '8'] = process.argv.slice(2);
if (!distA || !distB || !path) {
  console.error('usage: node scripts/bench/readRangesAB.mjs <distA> <distB> <out.jsonl> [passes=3] [gate|report] [mb=8]');
  process.exit(2);
}
const reader = async (dist) => (await import(pathToFileURL(resolve(dist, 'io/loadEvalOutput.js')).href)).readRange;
const builds = { A: await reader(distA), B: await reader(distB) };
const fd = openSync(path, 'r');
const size = fstatSync(fd).size;
const probe = Buffer.alloc(1 << 20);
const starts = [0];
for (let at = Number(mb) << 20; at < size; at += Number(mb) << 20) {
  const n = readSync(fd, probe, 0, probe.length, at);
  const nl = probe.subarray(0, n).indexOf(10);
  if (nl >= 0 && at + nl + 1 < size) starts.push(at + nl + 1);
}
const ranges = starts.map((start, k) => ({ start, end: starts[k + 1] ?? size }));
const total = { A: 0, B: 0 };
const ratios = [];
for (let p = 0; p < Number(passes); p++) {
  const pass = { A: 0, B: 0 };
  for (let k = 0; k < ranges.length; k++) {
    for (const name of (k + p) % 2 ? ['B', 'A'] : ['A', 'B']) {
      const t0 = performance.now();
      await builds[name](path, purpose, ranges[k]);
      const ms = performance.now() - t0;
      if (p > 0 || k >= 4) (total[name] += ms), (pass[name] += ms);
    }
  }
  ratios.push(pass.A / pass.B);
}
console.log(`A ${Math.round(total.A)} ms, B ${Math.round(total.B)} ms, A/B ${(total.A / total.B).toFixed(3)}; per pass ${ratios.map((r) => r.toFixed(3)).join(' ')} (${purpose}, ${ranges.length} ranges)`);
