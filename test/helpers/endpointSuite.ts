import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** The package root: configs in a temporary directory reach the built plugin by absolute file:// paths. */
const ROOT = resolve('.');

/** One CSV field, quoted when it holds a comma, quote or line break. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/**
 * Writes a promptfoo suite into `dir` (a temporary directory, never the repo): the built
 * RolloutProvider against `url` (specialist sim-specialist, ancestor sim-ancestor, samples 2,
 * top-K 2, maxTokens 128), gradeRollouts, the hooks, and the tests as a CSV of
 * (question, answer) rows. Returns the config's path.
 */
export function endpointSuite(
  dir: string,
  url: string,
  tests: [question: string, answer: string][],
  options: { endpoint?: Record<string, unknown>; provider?: Record<string, unknown>; providers?: Record<string, unknown>[]; hooks?: boolean; prompts?: string[] } = {},
): string {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'tests.csv');
  writeFileSync(csv, ['question,answer', ...tests.map((row) => row.map(csvField).join(','))].join('\n') + '\n');
  const endpoint = (model: string) => ({ type: 'endpoint', baseUrl: url, model, timeoutMs: 3000, maxRetries: 1, retryBaseMs: 10, ...options.endpoint });
  const config = (extra: Record<string, unknown> = {}) => ({
    specialist: endpoint('sim-specialist'),
    ancestor: endpoint('sim-ancestor'),
    samples: 2,
    topK: 2,
    ancestorTopK: 2,
    // These suites count sampling requests at the endpoint: no extra request for the ancestor's own samples.
    ancestorSamples: 0,
    maxTokens: 128,
    ...options.provider,
    ...extra,
  });
  const providerId = `file://${ROOT}/dist/promptfoo/rolloutProvider.js`;
  const suite = {
    prompts: options.prompts ?? ['{{question}}'],
    providers: (options.providers ?? [{}]).map((extra, i) => ({ id: providerId, label: `rollouts-${i}`, config: config(extra) })),
    defaultTest: { assert: [{ type: 'javascript', value: `file://${ROOT}/dist/promptfoo/gradeRollouts.js:gradeRollouts`, config: { grader: { type: 'numeric', var: 'answer' } } }] },
    tests: `file://${csv}`,
    ...(options.hooks === false ? {} : { extensions: [`file://${ROOT}/hooks.js:afterEach`, `file://${ROOT}/hooks.js:afterAll`] }),
  };
  const path = join(dir, 'promptfooconfig.yaml');
  writeFileSync(path, stringify(suite, { blockQuote: false }));
  return path;
}
