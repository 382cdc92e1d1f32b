#!/usr/bin/env node
// Regenerates the problem sets and the reference populations shipped in examples/.
// Everything is seeded: rerunning writes byte-identical files (a test checks this).
import { mkdirSync, writeFileSync } from 'node:fs';
import { captureRollouts } from '../dist/capture/captureRollouts.js';
import { problemFeatures } from '../dist/core/features/problemFeatures.js';
import { seedOf } from '../dist/core/random/seededRandom.js';
import { writeFeatureTable } from '../dist/io/writeFeatureTable.js';
import { arithProblems, gradeArith, loadArithLineage } from '../dist/lineage/index.js';
import { probeSimulated } from '../dist/probe/probeSimulated.js';
import { simPrompts } from '../dist/simulator/simPrompts.js';

const csvField = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const simProblems = (n, seed) => ['question,answer', ...simPrompts(n, seed).map((p) => `${csvField(p.prompt)},${p.expected}`)].join('\n') + '\n';

/** Lineage problems as a promptfoo CSV: the expression (the prompt template adds "Q: " and "=\n"), answer, steps. */
function lineageProblems(seed, perLength) {
  const rows = arithProblems({ seed, operations: [2, 3, 4, 5], count: perLength });
  const expression = (p) => p.prompt.replace(/^Q: /, '').replace(/=\n$/, '');
  return ['__description,expression,answer,steps', ...rows.map((p) => `${p.ops.length} steps: ${expression(p)},${expression(p)},${p.answer},${p.ops.length}`)].join('\n') + '\n';
}

/**
 * The failures of other lineage problems (`perLength` each of 2–5 steps), captured exactly as the root suite's
 * provider captures them (12 rollouts at T = 0.6, top-20, each scored by the ancestor): their
 * features give the z-scale the paper's rule routes single rows on.
 */
async function lineageReference(perLength, seed) {
  const { specialist, ancestor } = loadArithLineage();
  const problems = arithProblems({ seed, operations: [2, 3, 4, 5], count: perLength });
  const records = [];
  for (const [i, p] of problems.entries()) {
    const ids = specialist.encode(p.prompt, true);
    const rollouts = await captureRollouts(specialist, ancestor, ids, {
      samples: 12,
      temperature: 0.6,
      topK: 20,
      ancestorTopK: 20,
      maxTokens: specialist.maxModelLen - ids.length - 1,
      seed: seedOf('reference', seed, i),
    });
    const failed = rollouts.filter((r) => !gradeArith(r.text, p.answer));
    if (failed.length === 0) continue;
    records.push({
      problem_id: `lineage-${seed}-${i}`,
      cell: 'arith-specialist|arith',
      n_rollouts: rollouts.length,
      n_passed: rollouts.length - failed.length,
      n_failed_rollouts: failed.length,
      features: problemFeatures(failed.map((r) => r.summary)),
    });
  }
  return JSON.stringify(records, null, 1) + '\n';
}

export async function makeExamples(root = new URL('..', import.meta.url).pathname) {
  mkdirSync(`${root}/examples/reference`, { recursive: true });
  // The root suite: 40 lineage problems, 10 each of 2, 3, 4 and 5 steps (seed 1).
  writeFileSync(`${root}/examples/lineage-problems.csv`, lineageProblems(1, 10));
  // The failures of 100 other lineage problems (25 per length, seed 7): the z-scale for per-row routing by the paper's rule.
  writeFileSync(`${root}/examples/reference/lineage-failures.json`, await lineageReference(25, 7));
  // The simulator's suites (planted mechanisms, a test fixture): 40 problems (seed 1), 12 (seed 2).
  writeFileSync(`${root}/examples/sim-problems.csv`, simProblems(40, 1));
  writeFileSync(`${root}/examples/sim-problems-small.csv`, simProblems(12, 2));
  // A calibration population of failures from other simulated problems (seed 7): the z-scale for per-row routing.
  const { records } = await probeSimulated({ problems: 200, seed: 7, samples: 12, attempts: 3 });
  writeFileSync(`${root}/examples/reference/sim-failures.csv`, writeFeatureTable(records));
}

if (import.meta.url === `file://${process.argv[1]}`) await makeExamples();
