import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibratePolicy } from '../../src/core/policy/calibratePolicy.js';
import { InputError } from '../../src/io/inputError.js';
import { journalFingerprint, loadMeasurements, rowNames } from '../../src/io/loadMeasurements.js';
import { formatProbeCsv } from '../../src/io/probeTable.js';
import { plantedJournal, plantedProbe } from './probeFixture.js';

const settings = { source: 'eval', eval_id: 'e1', rows: ['k0', 'k1'], seed: 0 };
const fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
const rows = Array.from({ length: 48 }, (_, i) => ({ test_key: `sha256:k${i}`, n_rollouts: 8, n_passed: i % 4, ancestor_pass_rate: (i % 5) / 4, spread: 0.1 + (i % 7) / 10, concentration: 1 + (i % 3) / 3, logit_dispersion: -2 - (i % 4) / 4 }));
const names = rowNames(rows);

/** A folder with a probe (records carrying `fingerprint`), its journal and a policy calibrated on it. */
function probeFolder() {
  const dir = mkdtempSync(join(tmpdir(), 'recov-measure-'));
  const records = plantedProbe(rows, { settings: fingerprint });
  const probeText = formatProbeCsv(records);
  writeFileSync(join(dir, 'probe.csv'), probeText);
  writeFileSync(join(dir, 'probe.csv.journal.jsonl'), plantedJournal(records, settings));
  const policy = calibratePolicy(records, { path: 'probe.csv', sha256: createHash('sha256').update(probeText).digest('hex') }, { resamples: 100 });
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  return { dir, records };
}

describe('loadMeasurements: one probe of this eval\'s population, checked', () => {
  it('the fingerprint of a journal header is the probe\'s: sha-256 of the settings\' JSON, 16 hex digits', () => {
    expect(journalFingerprint(JSON.stringify({ probe_journal: 1, settings }))).toBe(fingerprint);
    expect(journalFingerprint('{"something":1}')).toBeNull();
  });

  it('from a policy alone: finds the probe it records (next to it), checks its sha-256, and uses the probe\'s journal', async () => {
    const { dir, records } = probeFolder();
    const m = await loadMeasurements({ policy: join(dir, 'policy.json') }, { rows: names, strict: true, cwd: dir });
    expect(m.notes).toEqual([]);
    expect(m.probe!.records).toHaveLength(records.length);
    expect(m.journal!.settings).toBe(fingerprint);
    expect(m.journal!.entries.some((e) => e.phase === 'eval')).toBe(true);
    expect(m.policy!.path).toBe('policy.json');
  });

  it('a probe rewritten since the policy was calibrated is said, not used', async () => {
    const { dir } = probeFolder();
    writeFileSync(join(dir, 'probe.csv'), formatProbeCsv(plantedProbe(rows.slice(0, 10), { settings: fingerprint })));
    const m = await loadMeasurements({ policy: join(dir, 'policy.json') }, { rows: names, strict: true, cwd: dir });
    expect(m.probe).toBeNull();
    expect(m.notes[0]).toMatch(/probe\.csv has changed since policy\.json was calibrated on it \(sha-256 [0-9a-f]{12}…, recorded [0-9a-f]{12}…\)/);
  });

  it('refuses a journal of another probe, saying both fingerprints', async () => {
    const { dir, records } = probeFolder();
    writeFileSync(join(dir, 'other.jsonl'), plantedJournal(records, { ...settings, seed: 1 }));
    const other = createHash('sha256').update(JSON.stringify({ ...settings, seed: 1 })).digest('hex').slice(0, 16);
    const err = await loadMeasurements({ probe: join(dir, 'probe.csv'), journal: join(dir, 'other.jsonl') }, { rows: names, strict: true, cwd: dir }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `other.jsonl is the journal of another probe: its settings fingerprint is ${other}, probe.csv's rows carry ${fingerprint} (a probe with other settings, rows or models); pass that probe's own <out>.journal.jsonl`,
    );
    // Without the probe, against the policy's record of it.
    const viaPolicy = await loadMeasurements({ policy: join(dir, 'policy.json'), journal: join(dir, 'other.jsonl') }, { rows: names, strict: true, cwd: dir }).catch((e: Error) => e);
    expect((viaPolicy as Error).message).toMatch(/probe\.csv's rows carry/); // the policy's probe was found, so it is the one compared
  });

  it('refuses a journal or a probe of another population; the hook (not strict) says so and goes on', async () => {
    const { dir, records } = probeFolder();
    const foreign = rowNames([{ test_key: 'sha256:other' }]);
    await expect(loadMeasurements({ probe: join(dir, 'probe.csv') }, { rows: foreign, strict: true, cwd: dir })).rejects.toThrow(
      /none of the 48 rows of probe\.csv is a test of this eval: it probed another population \(its problem ids look like "sha256:k0"; this eval's test keys look like "sha256:other"/,
    );
    writeFileSync(join(dir, 'lone.jsonl'), plantedJournal(records, settings));
    await expect(loadMeasurements({ journal: join(dir, 'lone.jsonl') }, { rows: foreign, strict: true, cwd: dir })).rejects.toThrow(/none of the problems in lone\.jsonl is a test of this eval/);
    const soft = await loadMeasurements({ policy: join(dir, 'policy.json') }, { rows: foreign, strict: false, cwd: dir });
    expect(soft.probe).toBeNull();
    expect(soft.policy).not.toBeNull();
    expect(soft.notes.join('\n')).toMatch(/none of the 48 rows of probe\.csv is a test of this eval/);
  });

  it('a journal passed as the probe, or a probe passed as the journal, is named for what it is', async () => {
    const { dir } = probeFolder();
    await expect(loadMeasurements({ probe: join(dir, 'probe.csv.journal.jsonl') }, { rows: names, strict: true, cwd: dir })).rejects.toThrow(
      /probe\.csv\.journal\.jsonl is a probe journal, not the probe's records: pass the records \(probe\.csv or \.jsonl\) with --probe and the journal with --journal/,
    );
    await expect(loadMeasurements({ journal: join(dir, 'probe.csv') }, { rows: names, strict: true, cwd: dir })).rejects.toThrow(/probe\.csv is not a probe journal/);
  });

  it('a fresh probe beside the policy is used, and said to be another probe than the policy\'s', async () => {
    const { dir } = probeFolder();
    mkdirSync(join(dir, 'fresh'));
    writeFileSync(join(dir, 'fresh', 'probe.csv'), formatProbeCsv(plantedProbe(rows, { seed: 9, settings: 'fffffffffffffff0' })));
    const m = await loadMeasurements({ policy: join(dir, 'policy.json'), probe: join(dir, 'fresh', 'probe.csv') }, { rows: names, strict: true, cwd: dir });
    expect(m.probe!.path).toBe(join('fresh', 'probe.csv'));
    expect(m.notes[0]).toMatch(/fresh\/probe\.csv is not the probe policy\.json was calibrated on .*the agreement is measured on this probe, the policy's cross-validated rescue on its own/);
  });
});
