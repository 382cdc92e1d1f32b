import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProbeRecordSchema, type ProbeRecord } from '../../src/core/contracts/probeRecord.js';
import { InputError } from '../../src/io/inputError.js';
import { formatProbeCsv, formatProbeJsonl, parseProbeCsv, parseProbeTable, probeCsvColumns, probeCsvLine, readProbeTable, writeProbeTable } from '../../src/io/probeTable.js';
import { parseFeatureTableCsv } from '../../src/io/loadProblemRecords.js';
import { writeFeatureTable } from '../../src/io/writeFeatureTable.js';
import { population } from './population.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-probe-'));
const records = population({ rows: 6, seed: 2, reprobe: 0.5, rescue: () => ({ label: { retry: 0.2, sparse_steer: 0.5, sparse_steer_random: 0.1, local_temp: 0.3, dense_steer: 0.6 } }) });
records[0] = { ...records[0]!, description: 'adds, "quoted"\nand multi-line', tokens: { retry: 1200, dense_steer: 3400 }, settings: 'sha:abc' };
records[1] = { ...records[1]!, ancestor_pass_rate: null, ancestor_samples: null, mean_logprob: -0.25, settings: 'sha:abc' };
for (const r of records) r.settings = 'sha:abc';
const csv = formatProbeCsv(records);
const header = csv.split('\n')[0]!;
const OPS5 = ['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer'];
const line = (cells: Record<string, string>) => {
  const cols = header.split(',');
  const values = probeCsvLine(records[1]!, OPS5).split(','); // record #1 has no quoted cell
  expect(values).toHaveLength(cols.length);
  return cols.map((c, i) => (c in cells ? cells[c]! : values[i]!)).join(',');
};
const badCsv = (cells: Record<string, string>) => `${header}\n${line(cells)}\n`;

describe('probe.csv and JSONL', () => {
  it('has a fixed header: identity, counts and signals, the probe sizes, label_/eval_/tokens_ per operator, label, re-probe, split, settings', () => {
    expect(header).toBe(probeCsvColumns(OPS5).join(','));
    expect(header.startsWith('problem_id,description,cell,model,task,n_rollouts,n_passed,pass_rate,spread,concentration,logit_dispersion,ancestor_pass_rate,ancestor_samples,answer_entropy,wrong_mode_share,mean_token_entropy,mean_logprob,min_window_confidence,dispersion_at_min_confidence,n_probed,label_attempts,eval_attempts,label_retry,')).toBe(true);
    expect(header.endsWith(',tokens_dense_steer,label,reprobe_label,split,settings')).toBe(true);
  });

  it('round-trips through CSV and JSONL, quoting, blanks (not measured) and re-probe labels included', async () => {
    expect(parseProbeCsv(csv, 'p.csv')).toEqual(records);
    expect(parseProbeTable(formatProbeJsonl(records), 'p.jsonl').records).toEqual(records);
    await writeProbeTable(join(dir, 'w.csv'), records);
    await writeProbeTable(join(dir, 'w.jsonl'), records);
    expect((await readProbeTable(join(dir, 'w.csv'))).records).toEqual(records);
    expect(await readProbeTable(join(dir, 'w.jsonl'))).toMatchObject({ format: 'probe-jsonl', records });
  });

  it('round-trips any valid record (property)', () => {
    const rate = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x + 0);
    const arb = fc.record({
      problem_id: fc.string({ minLength: 1 }).filter((s) => s.trim() === s && s.length > 0),
      description: fc.option(fc.string().filter((s) => s.trim() === s && s !== ''), { nil: null }),
      n_rollouts: fc.integer({ min: 2, max: 64 }),
      spread: fc.option(rate, { nil: null }),
      concentration: fc.option(fc.double({ min: -5, max: 5, noNaN: true }).map((x) => x + 0), { nil: null }), // −0 is written as 0
      retry: rate,
      dense: rate,
      evalRetry: rate,
      evalDense: rate,
      reprobe: fc.option(fc.constantFrom('resample', 'steerable', 'beyond_reach'), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(arb, { minLength: 1, maxLength: 5 }), (rows) => {
        const recs: ProbeRecord[] = rows.map((r) =>
          ProbeRecordSchema.parse({
            problem_id: r.problem_id,
            description: r.description,
            n_rollouts: r.n_rollouts,
            n_passed: 1,
            pass_rate: 1 / r.n_rollouts,
            spread: r.spread,
            concentration: r.concentration,
            label_rescue: { retry: r.retry, dense_steer: r.dense },
            eval_rescue: { retry: r.evalRetry, dense_steer: r.evalDense },
            reprobe_label: r.reprobe,
            split: 'disjoint',
          }),
        );
        expect(parseProbeCsv(formatProbeCsv(recs), 'x.csv')).toEqual(recs);
      }),
      { numRuns: 100 },
    );
  });

  it('reads the paper table as split "same" with a note on the selection bias, labels recomputed (641 / 535 / 247)', async () => {
    const t = await readProbeTable('data/failure_profiles.csv');
    expect(t.format).toBe('feature-table');
    expect(t.records).toHaveLength(1423);
    expect(t.records.every((r) => r.split === 'same' && r.pass_rate === null && r.n_probed === null)).toBe(true);
    expect(t.records[0]!.label_rescue).toEqual(t.records[0]!.eval_rescue);
    const count = (l: string) => t.records.filter((r) => r.label === l).length;
    expect([count('resample'), count('steerable'), count('beyond_reach')]).toEqual([641, 535, 247]);
    expect(t.notes[0]).toMatch(/label and eval coincide .* selection bias/);
  });

  it('reads the old probe --sim CSV (the feature table plus a label column)', () => {
    const old = parseFeatureTableCsv(
      'cell,model,task,problem_id,n_failed_rollouts,spread,concentration,logit_dispersion,retry,sparse_steer,sparse_steer_random,local_temp,dense_steer,label\n' +
        'sim|arith,sim,arith,q1,3,0.2,1.5,-1,0.1,0.6,0.1,0.2,0.3,steerable\n',
    );
    const t = parseProbeTable(writeFeatureTable(old), 'old.csv');
    expect(t.format).toBe('feature-table');
    expect(t.records[0]).toMatchObject({ problem_id: 'q1', label: 'steerable', split: 'same', spread: 0.2, label_rescue: { retry: 0.1, dense_steer: 0.3 }, eval_rescue: { retry: 0.1, dense_steer: 0.3 } });
  });

  it.each([
    ['an unknown column, with a suggestion', () => badCsv({}).replace('ancestor_pass_rate', 'ancestor_passrate'), /line 1: unknown column "ancestor_passrate": did you mean "ancestor_pass_rate"\?/],
    ['a non-numeric cell', () => badCsv({ spread: 'lots' }), /line 2: column "spread": "lots" is not a number \(leave the cell blank when it was not measured\)/],
    ['a blank rescue rate', () => badCsv({ eval_dense_steer: '' }), /line 2: column "eval_dense_steer": expected a rescue rate from 0 to 1/],
    ['a rate above 1', () => badCsv({ label_retry: '1.5' }), /column "label_retry": a rescue rate is ≤ 1/],
    ['a label that disagrees with Eq. 2', () => badCsv({ label: 'beyond_reach' }), /column "label": says "beyond_reach" but Eq. 2 on the label-split rates gives "steerable": leave it blank/],
    ['a row with no failure', () => badCsv({ n_passed: '8', pass_rate: '1' }), /column "n_passed": a probed row must have failed rollouts/],
    ['a pass rate that is not n_passed / n_rollouts', () => badCsv({ pass_rate: '0.9' }), /column "pass_rate": pass_rate 0.9 is not n_passed \/ n_rollouts/],
    ['an unknown split', () => badCsv({ split: 'both' }), /column "split": Invalid option/],
    ['a label column without its eval column', () => csv.replace(',eval_local_temp', ',eval_local_tmp'), /has column "label_local_temp" but no "eval_local_temp"/],
    ['no split column', () => csv.replace(',split,settings', ',settings').replace(/,disjoint,/g, ','), /has no "split" column/],
    ['a header only', () => `${header}\n`, /has a header but no rows/],
    ['bad JSONL', () => '{"problem_id":', /line 1: not valid JSON/],
    ['an invalid JSONL record', () => JSON.stringify({ ...records[1], label_rescue: { retry: 2 } }), /line 1: field "label_rescue.retry": a rescue rate is ≤ 1/],
    ['neither format', () => 'a,b\n1,2\n', /neither probe.csv .* nor a feature table/],
  ])('%s is an InputError naming where and the fix', (_name, text, message) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.${/^\s*\{/.test(text()) ? 'jsonl' : 'csv'}`);
    writeFileSync(file, text());
    const run = () => parseProbeTable(text(), file);
    expect(run).toThrow(InputError);
    expect(run).toThrow(message);
  });

  it('names the true line of a record after a multi-line cell', () => {
    const text = `${header}\n${probeCsvLine(records[0]!, OPS5)}\n${probeCsvLine(records[1]!, OPS5)}\n${line({ spread: 'x' })}\n`;
    // line 1 header, record #0 spans lines 2–3 (its description has a line break), record #1 is line 4, the bad copy line 5.
    expect(() => parseProbeCsv(text, 'p.csv')).toThrow(/p\.csv, line 5: column "spread"/);
  });

  it('a missing file is an InputError', async () => {
    await expect(readProbeTable(join(dir, 'nope.csv'))).rejects.toThrow(/cannot read .*nope\.csv: ENOENT/);
  });
});
