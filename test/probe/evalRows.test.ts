import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/io/inputError.js';
import { readEvalRows } from '../../src/probe/evalRows.js';
import { graderOf, isGradeRollouts, RowGraders } from '../../src/probe/rowGrader.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-evalrows-'));
const result = (i: number, extra: Record<string, unknown> = {}) => ({
  testIdx: i,
  promptIdx: 0,
  testCase: { description: `t${i}`, vars: { answer: String(i) }, assert: [{ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts', config: { grader: { type: 'numeric', var: 'answer' } } }] },
  response: { output: 'x', metadata: { recoverability: { marker: i } } },
  gradingResult: { pass: false, componentResults: [{ pass: true }, { pass: false, metadata: { recoverability_row: { regime: 'steerable' } } }] },
  ...extra,
});

describe('readEvalRows: -o out.json and -o out.jsonl', () => {
  it('reads the same rows from both formats; JSON carries the eval id', async () => {
    const rows = [result(0), result(1), { testIdx: 2, testCase: { vars: {} }, response: { error: 'EndpointTimeoutError: …' }, error: 'EndpointTimeoutError: …' }];
    writeFileSync(join(dir, 'out.json'), JSON.stringify({ evalId: 'eval-1', results: { version: 3, results: rows } }));
    writeFileSync(join(dir, 'out.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const a = await readEvalRows(join(dir, 'out.json'));
    const b = await readEvalRows(join(dir, 'out.jsonl'));
    expect(a.evalId).toBe('eval-1');
    expect(b.evalId).toBeNull();
    const strip = (r: (typeof a.rows)[number]) => ({ ...r, where: '' });
    expect(a.rows.map(strip)).toEqual(b.rows.map(strip));
    expect(a.rows[1]).toMatchObject({ testIdx: 1, description: 't1', vars: { answer: '1' }, metadata: { marker: 1 }, verdict: { regime: 'steerable' }, error: null });
    expect(a.rows[2]!.error).toMatch(/EndpointTimeoutError/);
    expect(b.rows[1]!.where).toBe(`${join(dir, 'out.jsonl')}, line 2`);
  });

  it('refuses what it cannot read, naming the file, the line and the fix', async () => {
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ results: { results: [result(0)] } }));
    await expect(readEvalRows(join(dir, 'big.json'), { maxJsonBytes: 10 })).rejects.toThrow(/write the eval as JSONL \(promptfoo eval -o out\.jsonl\)/);
    writeFileSync(join(dir, 'bad.jsonl'), JSON.stringify(result(0)) + '\n{"testIdx": 1,\n');
    await expect(readEvalRows(join(dir, 'bad.jsonl'))).rejects.toThrow(/bad\.jsonl, line 2: not valid JSON/);
    writeFileSync(join(dir, 'other.json'), '{"a": 1}');
    await expect(readEvalRows(join(dir, 'other.json'))).rejects.toThrow(/not a promptfoo output: it has no results\.results/);
    writeFileSync(join(dir, 'empty.json'), '');
    await expect(readEvalRows(join(dir, 'empty.json'))).rejects.toBeInstanceOf(InputError);
    await expect(readEvalRows(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json: ENOENT/);
  });
});

describe('the row grader: what gradeRollouts grades with', () => {
  it('finds the assertion by package: or file:// name; the default grader is equals on answer', () => {
    expect(isGradeRollouts({ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts' })).toBe(true);
    expect(isGradeRollouts({ type: 'javascript', value: 'file:///x/dist/promptfoo/gradeRollouts.js:gradeRollouts' })).toBe(true);
    expect(isGradeRollouts({ type: 'javascript', value: 'file://mine.js:check' })).toBe(false);
    expect(graderOf([{ type: 'contains', value: 'x' }], 'row')).toBeNull();
    expect(graderOf([{ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts' }], 'row')).toEqual({ type: 'equals', var: 'answer', caseSensitive: false });
    expect(() => graderOf([{ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts', config: { grader: { type: 'numeric', tolerance: -1 } } }], 'out.json, results[3]')).toThrow(
      /out\.json, results\[3\]: the gradeRollouts grader is invalid:\n {2}at tolerance/,
    );
  });

  it('grades built-in graders on the extracted answer and loads function graders relative to the config directory', async () => {
    const graders = new RowGraders();
    const numeric = await graders.grader({ type: 'numeric', var: 'answer', tolerance: 0 }, { answer: '-64' }, null);
    expect(await numeric('48-95=-47;-47-17=-64;Answer: -64\n')).toBe(true);
    expect(await numeric('Answer: 64')).toBe(false);
    writeFileSync(join(dir, 'grade.mjs'), 'export const even = (text, { answer }) => Number(answer) % 2 === 0;\nexport const boom = () => { throw new Error("x"); };\n');
    const even = await graders.grader({ type: 'function', value: 'file://grade.mjs:even' }, {}, dir);
    expect([await even('Answer: 4'), await even('Answer: 5')]).toEqual([true, false]);
    const boom = await graders.grader({ type: 'function', value: 'file://grade.mjs:boom' }, {}, dir);
    expect(await boom('Answer: 4')).toBe(false); // a throwing grader fails the attempt, as in the assertion
    await expect(graders.grader({ type: 'function', value: 'file://grade.mjs:nope' }, {}, dir)).rejects.toThrow(/has no exported function "nope"/);
    await expect(graders.grader({ type: 'function', value: 'file://absent.mjs:x' }, {}, dir)).rejects.toThrow(/cannot load .*absent\.mjs/);
  });
});
