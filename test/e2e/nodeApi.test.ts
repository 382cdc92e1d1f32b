import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('promptfoo Node API evaluate()', () => {
  it('runs the provider and the assertion, and the hooks write the report', async () => {
    process.env.PROMPTFOO_CONFIG_DIR = mkdtempSync(join(tmpdir(), 'recov-pf-'));
    process.env.PROMPTFOO_DISABLE_TELEMETRY = '1';
    process.env.PROMPTFOO_DISABLE_UPDATE = '1';
    const { evaluate } = await import('promptfoo');
    const dir = mkdtempSync(join(tmpdir(), 'recov-api-'));
    const outputPath = join(dir, 'out.json');
    const summary = await evaluate(
      {
        prompts: ['{{question}}'],
        providers: [{ id: `file://${resolve('dist/promptfoo/rolloutProvider.js')}`, config: { specialist: 'sim', samples: 6, seed: 3 } }],
        defaultTest: { assert: [{ type: 'javascript', value: `file://${resolve('dist/promptfoo/gradeRollouts.js')}:gradeRollouts`, config: { grader: { type: 'numeric' } } }] },
        tests: [
          { vars: { question: 'Compute (12 + 30) - 5.', answer: '37' } },
          { vars: { question: 'Compute (7 * 6) + 1.', answer: '43' } },
        ],
        extensions: [`file://${resolve('hooks.js')}:afterEach`, `file://${resolve('hooks.js')}:afterAll`],
        outputPath,
        writeLatestResults: true,
      } as any,
      { maxConcurrency: 2 },
    );
    const results = (await summary.toEvaluateSummary()).results as any[];
    expect(results).toHaveLength(2);
    for (const r of results) {
      // pass_rate is the share of the row's rollouts whose answer is the expected one.
      const rollouts = r.response.metadata.recoverability.rollouts as { answer: string | null }[];
      expect(rollouts).toHaveLength(6);
      expect(r.namedScores.pass_rate).toBe(rollouts.filter((x) => Number(x.answer) === Number(r.vars.answer)).length / 6);
      expect(['solved', 'resample', 'steerable', 'beyond_reach', 'retry_insufficient']).toContain(r.metadata.regime);
      expect(r.metadata.route_reason).toEqual(expect.any(String));
    }
    expect(JSON.parse(readFileSync(join(dir, 'recoverability.json'), 'utf8')).totals.rows).toBe(2);
  });
});
