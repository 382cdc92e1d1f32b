import { describe, expect, it } from 'vitest';
import type { EvalRow, EvalRows } from '../../src/probe/evalRows.js';
import { parseEndpointFlag, scanEval } from '../../src/probe/evalTargets.js';
import { pickRows } from '../../src/probe/probeRuns.js';

const ASSERT = [{ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts', config: { grader: { type: 'numeric', var: 'answer' } } }];
const endpoint = (model: string) => ({ type: 'endpoint', baseUrl: 'http://127.0.0.1:9/v1', model });

function meta(answers: string[], extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    specialist: 'spec',
    ancestor: 'anc',
    models: { specialist: endpoint('spec'), ancestor: endpoint('anc') },
    prompt: 'Q: 1+1=\n',
    row_key: `${'ab'.repeat(31)}${answers.length.toString().padStart(2, '0')}`,
    samples: answers.length,
    temperature: 0.6,
    seed: 5,
    capabilities: { logprobs: true, ancestor: true },
    unavailable: [],
    rollouts: answers.map((a, index) => ({ index, text: `Answer: ${a}`, answer: a, finish_reason: 'stop', tokens: 3, summary: null })),
    ancestor_rollouts: [{ index: 0, text: 'Answer: 2', answer: '2', finish_reason: 'stop' }],
    errors: [],
    sidecar: null,
    ...extra,
  };
}

const row = (i: number, metadata: unknown, extra: Partial<EvalRow> = {}): EvalRow => ({
  position: i,
  where: `out.json, results[${i}]`,
  testIdx: i,
  promptIdx: 0,
  description: `test ${i}`,
  vars: { answer: '2' },
  assert: ASSERT,
  metadata,
  verdict: { regime: 'resample' },
  error: null,
  ...extra,
});

describe('which rows of an eval the probe takes', () => {
  const rows: EvalRow[] = [
    row(0, meta(['2', '3', '2'])), // failing: probed
    row(1, meta(['2', '2'])), // every rollout passed
    row(2, undefined, { error: 'EndpointTimeoutError: slow', verdict: undefined }), // an ERROR row
    row(3, meta(['5']), { assert: [{ type: 'equals', value: '2' }] }), // not graded by gradeRollouts
    row(4, meta(['5', '5'], { capabilities: { logprobs: false, ancestor: false } })), // black-box
    row(5, meta(['7', '2', '2'], { row_key: `${'ab'.repeat(31)}03` })), // failing, same row key as row 0
  ];
  const evalRows: EvalRows = { path: 'out.json', format: 'json', evalId: 'e', rows };

  it('counts what it skips, grades each rollout again, and keeps row ids unique', async () => {
    const scan = await scanEval(evalRows);
    expect(scan.rows).toBe(6);
    expect(scan.skipped).toEqual({ error: 1, not_plugin: 1, no_tokens: 1, passed: 1 });
    expect(scan.candidates.map((c) => c.problemId)).toEqual(['abababababababab', 'abababababababab-1']);
    const [a] = scan.candidates;
    expect(a!.passed).toEqual([true, false, true]);
    expect(a!.signals).toMatchObject({ n_rollouts: 3, n_passed: 2, ancestor_pass_rate: 1, spread: null });
    expect(a!.estimatedRegime).toBe('resample');
    expect(a!.specs.specialist).toMatchObject({ type: 'endpoint', model: 'spec', timeoutMs: 60000 });
  });

  it('takes --specialist/--ancestor over the recorded models; a row without models needs them', async () => {
    const over = await scanEval(evalRows, { specialist: parseEndpointFlag('--specialist', 'http://10.0.0.1:8000/v1#ft', 'MY_KEY') });
    expect(over.candidates[0]!.specs.specialist).toMatchObject({ baseUrl: 'http://10.0.0.1:8000/v1', model: 'ft', apiKeyEnv: 'MY_KEY' });
    expect(over.candidates[0]!.specs.ancestor).toMatchObject({ model: 'anc' });
    const old: EvalRows = { ...evalRows, rows: [row(0, meta(['3'], { models: null }))] };
    await expect(scanEval(old)).rejects.toThrow(/out\.json, results\[0\]: the row does not record its specialist .*pass --specialist URL#model/);
    expect((await scanEval(old, { specialist: parseEndpointFlag('--specialist', 'http://h/v1#a'), ancestor: parseEndpointFlag('--ancestor', 'http://h/v1#b') })).candidates).toHaveLength(1);
  });

  it('refuses an eval with nothing to probe, saying why; bad metadata names the row and the field', async () => {
    await expect(scanEval({ ...evalRows, rows: rows.slice(1, 5) })).rejects.toThrow(/has no failing row the probe can run on \(4 rows: 1 error, 1 not plugin, 1 no tokens, 1 passed\)/);
    await expect(scanEval({ ...evalRows, rows: [row(0, { ...meta(['3']), temperature: 'hot' })] })).rejects.toThrow(/out\.json, results\[0\]: response\.metadata\.recoverability is invalid:\n {2}at temperature/);
  });

  it('--rows: indexes, ranges and exact descriptions', async () => {
    const scan = await scanEval(evalRows);
    expect(pickRows(scan.candidates, ['5']).map((c) => c.row.testIdx)).toEqual([5]);
    expect(pickRows(scan.candidates, ['0-5']).map((c) => c.row.testIdx)).toEqual([0, 5]);
    expect(pickRows(scan.candidates, ['test 0']).map((c) => c.row.testIdx)).toEqual([0]);
    expect(() => pickRows(scan.candidates, ['5-3'])).toThrow(/runs backwards/);
    expect(() => pickRows(scan.candidates, ['2'])).toThrow(/picks no failing row \(test indexes of failing rows: 0, 5\)/);
  });

  it('parses URL#model and names the flag when it is not', () => {
    expect(parseEndpointFlag('--ancestor', 'https://api.example.com/v1#org/base-7b')).toEqual({ baseUrl: 'https://api.example.com/v1', model: 'org/base-7b' });
    expect(() => parseEndpointFlag('--ancestor', 'http://h/v1')).toThrow(/--ancestor takes URL#model/);
    expect(() => parseEndpointFlag('--ancestor', 'base#m')).toThrow(/--ancestor takes URL#model/);
  });
});
