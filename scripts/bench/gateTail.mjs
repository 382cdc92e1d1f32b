#!/usr/bin/env node
// The gate's work after reading, timed alone: its two outputs are read once, then the baseline's
// report, the candidate's report and their comparison (compareEvals) are built `rounds` times in
// one process, as `recoverability gate` builds them, and each round's milliseconds are printed,
// with a hash of the comparison (the same for every build that compares alike).
//   node scripts/bench/gateTail.mjs <baseline.jsonl> <candidate.jsonl> [rounds=6] [dist=./dist]
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [baselinePath, candidatePath, rounds = '6', dist = new URL('../../dist', import.meta.url).pathname] = process.argv.slice(2);
if (!baselinePath || !candidatePath) {
  console.error('usage: node scripts/bench/gateTail.mjs <baseline.jsonl> <candidate.jsonl> [rounds=6] [dist=./dist]');
  process.exit(2);
}
const from = async (module) => import(pathToFileURL(resolve(dist, module)).href);
const { loadEvalOutputs } = await from('io/loadEvalOutput.js');
const { buildEvalReportWith } = await from('core/analysis/buildEvalReportWith.js');
const { compareEvals } = await from('core/gate/compareEvals.js');
const { GatePolicySchema } = await from('core/gate/gatePolicy.js');
const { gateEstimator } = await from('core/gate/gateEstimator.js');
const { loadReferenceScale } = await from('io/loadReferenceScale.js');
// What matching needs of the baseline alone, found with its report as the gate finds it (older builds lack it: undefined).
const { inOrderOnce } = await from('core/gate/matchTests.js');

const [base, cand] = await loadEvalOutputs([baselinePath, candidatePath], { purpose: 'gate' });
const policy = GatePolicySchema.parse({});
const estimator = gateEstimator(base.inputs, cand.inputs);
const verdictEstimates = estimator.source === 'policy';
const reference = base.reference ? { path: base.reference, scale: await loadReferenceScale(base.reference) } : null;
let result;
for (let k = 0; k < Number(rounds); k++) {
  const t0 = performance.now();
  const baseline = buildEvalReportWith(null, base.inputs, { evalId: base.evalId, reference, errors: base.errors, clusters: false, verdictEstimates });
  const inOrder = inOrderOnce?.(baseline);
  const t1 = performance.now();
  const candidate = buildEvalReportWith(null, cand.inputs, {
    evalId: cand.evalId,
    reference: baseline.scale ? { path: reference?.path ?? baselinePath, scale: baseline.scale } : null,
    errors: cand.errors,
    clusters: false,
    verdictEstimates,
  });
  const t2 = performance.now();
  result = compareEvals(baseline, candidate, policy, estimator, inOrder);
  const t3 = performance.now();
  console.log(`round ${k + 1}: baseline report ${Math.round(t1 - t0)} ms, candidate report ${Math.round(t2 - t1)} ms, compareEvals ${Math.round(t3 - t2)} ms`);
}
console.log(`comparison sha256 ${createHash('sha256').update(JSON.stringify(result)).digest('hex').slice(0, 16)}`);
