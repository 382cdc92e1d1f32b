#!/usr/bin/env node
// Regenerates examples/repair/: the eval's 40 lineage problems (tests.csv), and the policy the
// eval repairs with — measured on OTHER lineage problems (200 problems of seed 2, never the eval's), then
// calibrated:
//   1. capture each problem's rollouts with the same RolloutProvider settings the eval uses;
//   2. probe the failing ones with every operator (best-of-3 label split + a disjoint best-of-3
//      eval split, up to 4 failed rollouts each), writing probe.csv;
//   3. `recoverability calibrate probe.csv --out policy.json`.
// Run after `npm run build`: node examples/repair/make-repair-example.mjs   (about 10 minutes on 2 busy cores)
// Everything is seeded: rerunning writes the same files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrateCommand } from '../../dist/cli/calibrateCommand.js';
import { rowSignals } from '../../dist/core/signals/rowSignals.js';
import { INTERVENTION_DEFAULTS } from '../../dist/interventions/applyIntervention.js';
import { formatProbeCsv } from '../../dist/io/probeTable.js';
import { arithProblems, loadArithLineage } from '../../dist/lineage/index.js';
import { runProbe } from '../../dist/probe/rescueProbe.js';
import { toProbeRecord } from '../../dist/probe/toProbeRecord.js';
import { RolloutProvider } from '../../dist/promptfoo/rolloutProvider.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The eval's RolloutProvider settings (promptfooconfig.yaml, without `repair`). */
export const CAPTURE = { specialist: 'lineage', samples: 12, temperature: 0.6, topK: 20, ancestorTopK: 20, ancestorSamples: 4, maxTokens: 100, seed: 1 };
const OPERATIONS = [2, 3, 4, 5];

/** The eval's tests: 10 problems of each length 2–5 (seed 1). The prompt's newline is put back by promptSuffix. */
export function testsCsv() {
  const rows = arithProblems({ seed: 1, operations: OPERATIONS, count: 10 }).map((p) => `${p.prompt.trimEnd()},${p.answer}`);
  return ['question,answer', ...rows].join('\n') + '\n';
}

/** Probe records of the failing rows among `count` problems per length (seed 2). */
export async function probeRecords(count, onProgress) {
  const problems = arithProblems({ seed: 2, operations: OPERATIONS, count });
  const cache = join(mkdtempSync(join(tmpdir(), 'recov-repair-example-')), 'rollouts.jsonl');
  const provider = new RolloutProvider({ config: { ...CAPTURE, cache } });
  const rows = [];
  for (const p of problems) {
    const res = await provider.callApi(p.prompt, { vars: { answer: String(p.answer) } });
    if (res.error) throw new Error(res.error);
    rows.push({ problem: p, meta: res.metadata.recoverability });
  }
  const tokens = new Map(readFileSync(cache, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.key, l.response.tokens]));
  const isRight = (p) => (text) => new RegExp(`Answer: ${p.answer}\\s*$`).test(text);
  const targets = [];
  const signals = new Map();
  for (const { problem, meta } of rows) {
    const right = isRight(problem);
    const passed = meta.rollouts.map((r) => right(r.text));
    const ancestorPassed = meta.ancestor_rollouts.map((r) => right(r.text));
    const id = `L${problem.ops.length}:${problem.prompt.trim()}`;
    signals.set(id, rowSignals(meta.rollouts.map((r, i) => ({ passed: passed[i], answer: r.answer, summary: r.summary })), { withAncestor: true, ancestorPassed }));
    const t = tokens.get(meta.row_key);
    const failed = meta.rollouts.flatMap((r, i) => (passed[i] ? [] : [{ index: r.index, tokens: t.rollouts[i], summary: r.summary }]));
    if (failed.length === 0) continue;
    targets.push({ problemId: id, cell: 'arith-lineage', model: 'arith-specialist', task: `arith-${problem.ops.length}op`, prompt: t.prompt, isCorrect: right, nRollouts: meta.rollouts.length, nPassed: meta.rollouts.length - failed.length, failed });
  }
  const { specialist, ancestor } = loadArithLineage();
  const result = await runProbe(
    targets,
    { ...INTERVENTION_DEFAULTS, specialist, ancestor, temperature: CAPTURE.temperature, topK: CAPTURE.topK, maxTokens: CAPTURE.maxTokens },
    { phases: [{ phase: 'label', attempts: 3 }, { phase: 'eval', attempts: 3 }], maxFailedPerProblem: 4, seed: 2, concurrency: 2, onProgress },
  );
  if (result.errors.length > 0) throw new Error(`probe errors: ${JSON.stringify(result.errors.slice(0, 3))}`);
  const settings = `arith-lineage K=12 T=0.6 top20 label3+eval3 maxFailed4 seed2`;
  return result.problems.map((p) => toProbeRecord(p, signals.get(p.record.problem_id), { ancestorSamples: CAPTURE.ancestorSamples, labelAttempts: 3, evalAttempts: 3, settings }));
}

export async function makeRepairExample(dir = here, { count = 50, quiet = false } = {}) {
  writeFileSync(join(dir, 'tests.csv'), testsCsv());
  const records = await probeRecords(count, quiet ? undefined : (done, total) => done % 100 === 0 && process.stderr.write(`probe ${done}/${total}\n`));
  writeFileSync(join(dir, 'probe.csv'), formatProbeCsv(records));
  const lines = [];
  // Relative paths, so policy.json records the same probe path wherever it is regenerated.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await calibrateCommand(['probe.csv', '--out', 'policy.json'], (s) => lines.push(s), (s) => lines.push(s));
    if (code !== 0) throw new Error(`calibrate exited ${code}: ${lines.join('\n')}`);
  } finally {
    process.chdir(cwd);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await makeRepairExample());
