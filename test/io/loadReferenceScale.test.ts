import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/io/inputError.js';
import { loadReferenceScale } from '../../src/io/loadReferenceScale.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-ref-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const SECRET = 'sk-live-0123456789abcdef';
const refused = async (p: string, message: RegExp) => {
  const err = await loadReferenceScale(p).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain(SECRET);
  expect((err as Error).message).not.toContain('API_KEY');
};

describe('loadReferenceScale opens only reference populations', () => {
  it('reads the shipped feature table, a recoverability.json scale, and problem records', async () => {
    const table = await loadReferenceScale('examples/reference/sim-failures.csv');
    expect(table.n).toBeGreaterThan(50);
    const scale = { n: 3, mean: { spread: 0.2, concentration: 1, logit_dispersion: -1 }, sd: { spread: 0.1, concentration: 0.5, logit_dispersion: 0.3 } };
    expect(await loadReferenceScale(file('recoverability.json', JSON.stringify({ version: 2, scale })))).toEqual(scale);
    const rec = (s: number) => ({ problem_id: `p${s}`, n_failed_rollouts: 2, features: { spread: s, concentration: 1, logit_dispersion: -1 }, label: 'resample' });
    expect((await loadReferenceScale(file('records.json', JSON.stringify([rec(0.1), rec(0.3)])))).mean.spread).toBeCloseTo(0.2, 12);
  });

  it.each([
    ['a secrets file with another extension', () => file('.env', `API_KEY=${SECRET}\n`), /is not a reference population: expected a feature table \(\.csv\), problem records \(\.json, \.jsonl\) or a recoverability\.json, not a "extension-less" file/],
    ['a key file', () => file('id_rsa.pem', `-----BEGIN ${SECRET}`), /not a "\.pem" file/],
    ['a secrets file named .json', () => file('creds.json', `API_KEY=${SECRET}`), /creds\.json is not a reference population: not valid JSON$/],
    ['JSON of another shape', () => file('other.json', JSON.stringify({ API_KEY: SECRET })), /a JSON reference is a recoverability\.json \(with a "scale"\) or problem records/],
    ['a scale that is not one', () => file('bad-scale.json', JSON.stringify({ scale: { n: 1, mean: { spread: SECRET }, sd: {} } })), /its "scale" is not a z-scale/],
    ['a secrets file named .csv', () => file('creds.csv', `API_KEY=${SECRET}\nOTHER=1\n`), /creds\.csv is missing column\(s\)/],
    ['CSV with a broken quote', () => file('quote.csv', `a,b\n"${SECRET}"x,1\n`), /not valid CSV at line 2 \(CSV_INVALID_CLOSING_QUOTE\)/],
    ['a folder named .csv', () => {
      const p = join(dir, 'folder.csv');
      execFileSync('mkdir', ['-p', p]);
      return p;
    }, /not a regular file/],
    ['a FIFO (reading it would hang)', () => {
      const p = join(dir, 'pipe.csv');
      execFileSync('mkfifo', [p]);
      return p;
    }, /not a regular file/],
    ['a missing file', () => join(dir, 'missing.csv'), /cannot be read: ENOENT/],
  ])('%s is refused, naming the path only', async (_name, make, message) => {
    await refused(make(), message);
  });
});
