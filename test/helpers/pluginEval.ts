import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runPromptfoo } from './promptfoo.js';

/** The first `n` problems of the shipped suite (CSV lines without the header). */
export const simProblems = (n: number) => readFileSync('examples/sim-problems.csv', 'utf8').trim().split('\n').slice(1, n + 1);

/**
 * Evaluates a CSV suite through the real promptfoo CLI with the plugin (the embedded simulator,
 * `samples` rollouts per test, graded by gradeRollouts with the shipped reference) and writes each
 * of `outputs` (e.g. `out.json`, `out.jsonl`) into `dir`. The config lives in the repository root
 * for the duration, so `package:` references resolve to this checkout's dist/.
 */
export function evalCsvSuite(dir: string, rows: string[], options: { samples?: number; outputs?: string[]; seed?: number } = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'suite.csv');
  writeFileSync(csv, ['question,answer', ...rows].join('\n') + '\n');
  const cfg = `tmp-plugin-eval-${process.pid}-${Math.random().toString(36).slice(2, 8)}.yaml`;
  writeFileSync(
    cfg,
    `prompts: ['{{question}}']
providers:
  - id: package:promptfoo-recoverability:RolloutProvider
    config: { specialist: sim, samples: ${options.samples ?? 6}, seed: ${options.seed ?? 1} }
defaultTest:
  assert:
    - type: javascript
      value: package:promptfoo-recoverability:gradeRollouts
      config: { grader: { type: numeric, var: answer }, reference: ${JSON.stringify(resolve('examples/reference/sim-failures.csv'))} }
tests: file://${csv}
`,
  );
  const outputs = (options.outputs ?? ['out.json']).map((o) => join(dir, o));
  try {
    const r = runPromptfoo(['eval', '-c', cfg, '--no-progress-bar', ...outputs.flatMap((o) => ['-o', o])], { PROMPTFOO_FAILED_TEST_EXIT_CODE: '0' });
    if (r.code !== 0) throw new Error(`promptfoo eval failed (${r.code}): ${r.stderr.slice(-2000)}`);
  } finally {
    rmSync(cfg, { force: true });
  }
  return outputs;
}
