import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, loadProblemRecords } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-io-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const HEADER = 'cell,model,task,problem_id,n_failed_rollouts,spread,concentration,logit_dispersion,retry,sparse_steer,sparse_steer_random,local_temp,dense_steer';

describe('loadProblemRecords', () => {
  it('reads the shipped paper table', async () => {
    const recs = await loadProblemRecords('data/failure_profiles.csv');
    expect(recs).toHaveLength(1423);
    expect(recs[0]!.cell).toBe('grpo1p7b|cruxeval');
    expect(recs[0]!.features.spread).toBeCloseTo(0.160693, 9);
  });

  it('reads JSON arrays, {records} and JSONL', async () => {
    const rec = { problem_id: 'a', n_failed_rollouts: 2, features: { spread: 0.1, concentration: 1, logit_dispersion: -1 }, label: 'resample' };
    expect(await loadProblemRecords(file('a.json', JSON.stringify([rec])))).toHaveLength(1);
    expect(await loadProblemRecords(file('b.json', JSON.stringify({ records: [rec, rec] })))).toHaveLength(2);
    expect(await loadProblemRecords(file('c.jsonl', `${JSON.stringify(rec)}\n${JSON.stringify(rec)}\n`))).toHaveLength(2);
  });

  it.each([
    ['missing file', () => join(dir, 'nope.csv'), /cannot read .*nope\.csv: ENOENT/],
    ['empty file', () => file('empty.csv', '  \n'), /is empty/],
    ['header only', () => file('h.csv', HEADER + '\n'), /has a header but no rows/],
    ['missing column', () => file('m.csv', HEADER.replace(',dense_steer', '') + '\n' + 'c,m,t,p,1,0.1,1,1,0,0,0,0\n'), /missing column\(s\) "dense_steer"/],
    ['non-numeric cell', () => file('n.csv', `${HEADER}\nc,m,t,p,1,0.1,oops,1,0,0,0,0,0\n`), /line 2: column "concentration": expected a finite number/],
    ['bad JSON', () => file('bad.json', '[{'), /not valid JSON/],
    ['JSON not records', () => file('obj.json', '{"a":1}'), /expected an array of problem records/],
    ['invalid record', () => file('r.json', '[{"problem_id":"x","n_failed_rollouts":-1,"features":{}}]'), /record #0: field "n_failed_rollouts"/],
    ['a hex number (Number() reads 0x10 as 16)', () => file('hex.csv', `${HEADER}\nc,m,t,p,1,0x10,1,1,0,0,0,0,0\n`), /line 2: column "spread": expected a finite number, written in decimal/],
    ['Infinity', () => file('inf.csv', `${HEADER}\nc,m,t,p,1,0.1,Infinity,1,0,0,0,0,0\n`), /line 2: column "concentration": expected a finite number/],
    ['a duplicated column (a CSV reader keeps the last silently)', () => file('dup.csv', `${HEADER},spread\nc,m,t,p,1,0.1,1,1,0,0,0,0,0,0.9\n`), /names the column "spread" twice \(columns 6 and 14\)/],
    ['bad JSON, without quoting it', () => file('leak.json', '{"token": "sk-secret-value"'), /leak\.json: not valid JSON$/],
    ['a bad JSONL line, by number', () => file('bad.jsonl', '{"problem_id":"a"}\n{oops sk-secret\n'), /bad\.jsonl: line 2 is not valid JSON$/],
  ])('%s is a clear InputError', async (_name, make, message) => {
    const p = make();
    await expect(loadProblemRecords(p)).rejects.toBeInstanceOf(InputError);
    await expect(loadProblemRecords(p)).rejects.toThrow(message);
  });
});
