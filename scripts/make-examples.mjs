#!/usr/bin/env node
// Regenerates the simulated problem sets and the reference population shipped in examples/.
// Everything is seeded: rerunning writes byte-identical files (a test checks this).
import { mkdirSync, writeFileSync } from 'node:fs';
import { simPrompts } from '../dist/simulator/simPrompts.js';
import { probeSimulated } from '../dist/probe/probeSimulated.js';
import { writeFeatureTable } from '../dist/io/writeFeatureTable.js';

const csvField = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const problems = (n, seed) => ['question,answer', ...simPrompts(n, seed).map((p) => `${csvField(p.prompt)},${p.expected}`)].join('\n') + '\n';

export async function makeExamples(root = new URL('..', import.meta.url).pathname) {
  mkdirSync(`${root}/examples/reference`, { recursive: true });
  // The root suite: 40 problems (seed 1). The examples' smaller suite: 12 problems (seed 2).
  writeFileSync(`${root}/examples/sim-problems.csv`, problems(40, 1));
  writeFileSync(`${root}/examples/sim-problems-small.csv`, problems(12, 2));
  // A calibration population of failures from other simulated problems (seed 7): the z-scale for per-row routing.
  const { records } = await probeSimulated({ problems: 200, seed: 7, samples: 12, attempts: 3 });
  writeFileSync(`${root}/examples/reference/sim-failures.csv`, writeFeatureTable(records));
}

if (import.meta.url === `file://${process.argv[1]}`) await makeExamples();
