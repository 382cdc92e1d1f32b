#!/usr/bin/env node
// Fidelity of the per-token signals under truncated top-K (build first: npx tsc -p tsconfig.build.json).
// Features from full-vocabulary synthetic distributions (the truth) against features from what a
// vLLM server returns (top-K log-probs + the taken token, with ranks), for several settings.
// Prints one JSON line per setting. Usage: node scripts/bench/fidelity.mjs [rollouts=40] [seed=1] [T=0.6]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { compareTruncation, syntheticRollouts, vllmView } = await import(join(ROOT, 'dist/core/index.js'));
const [rollouts = 40, seed = 1, T = 0.6] = process.argv.slice(2).map(Number);
const shape = { vocabulary: 1000, rollouts, positions: 80, temperature: T, seed };
const data = [...syntheticRollouts(shape)];
const settings = [
  { normalization: 'fullVocabulary', topK: 20, ancestorTopK: 20, kCov: 20 },
  { normalization: 'fullVocabulary', topK: 20, ancestorTopK: 20, kCov: 10 },
  { normalization: 'fullVocabulary', topK: 20, ancestorTopK: 20, kCov: 5 },
  { normalization: 'fullVocabulary', topK: 100, ancestorTopK: 100, kCov: 20 },
  { normalization: 'fullVocabulary', topK: 20, ancestorTopK: 20, kCov: 20, tailFraction: 0.25 },
  { normalization: 'fullVocabulary', topK: 20, ancestorTopK: 20, kCov: 20, tailFraction: 1 },
  { normalization: 'renormalizeTopK', topK: 20, ancestorTopK: 20, kCov: 20 },
  { normalization: 'renormalizeTopK', topK: 20, ancestorTopK: 20, kCov: 10 },
  { normalization: 'renormalizeTopK', topK: 100, ancestorTopK: 100, kCov: 20 },
];
const r4 = (x) => +x.toFixed(4);
for (const s of settings) {
  const { topK, ancestorTopK, ...opts } = s;
  const f = compareTruncation(data, vllmView(topK, ancestorTopK), { ...opts, temperature: T });
  const p = f.positions;
  console.log(JSON.stringify({
    bench: 'fidelity', ...shape, ...s,
    positions: p.n,
    positive_j: [r4(p.positiveJTruth), r4(p.positiveJSeen)],
    positive_gcov: [r4(p.positiveGcovTruth), r4(p.positiveGcovSeen)],
    j_agreement: r4(p.positiveJAgreement),
    mean_spread: [r4(f.meanSpreadTruth), r4(f.meanSpreadSeen)],
    max_abs_spread_delta: r4(f.maxAbsSpreadDelta),
    negative_gcov_truth: p.negativeGcovTruth,
    negative_gcov_kept: r4(p.negativeGcovKept),
    truth_outside_bounds: p.outsideBounds,
    max_abs_gcov_error: r4(p.maxAbsGcovError),
    max_abs_delta_path_error: r4(p.maxAbsDeltaPathError),
  }));
}
