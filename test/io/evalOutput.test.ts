import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/io/inputError.js';
import { loadEvalOutput, readRange } from '../../src/io/loadEvalOutput.js';
import { readPromptfooRows } from '../../src/io/promptfooOutput.js';
import { scanRowParts } from '../../src/io/rowScan.js';
import { classifyResult, rawVerdict, reportRowFromParts } from '../../src/report/reportInputs.js';
import { testKey } from '../../src/report/testIdentity.js';
import { assertDistFresh } from '../helpers/distFresh.js';
import { evalCsvSuite, simProblems } from '../helpers/pluginEval.js';

const dir = mkdtempSync(join(tmpdir(), 'recov-out-'));
let json = '';
let jsonl = '';
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const lines = () => readFileSync(jsonl, 'utf8').trim().split('\n');

beforeAll(() => {
  assertDistFresh(); // the eval loads the plugin from dist/
  [json = '', jsonl = ''] = evalCsvSuite(join(dir, 'eval'), simProblems(12), { samples: 6, outputs: ['out.json', 'out.jsonl'] });
}, 120_000);

describe('reading what promptfoo 0.121 writes', () => {
  it('pretty JSON (-o out.json), compact JSON and JSONL (-o out.jsonl) give the same rows', async () => {
    const a = await loadEvalOutput(json);
    const b = await loadEvalOutput(jsonl);
    const compact = await loadEvalOutput(write('compact.json', JSON.stringify(JSON.parse(readFileSync(json, 'utf8')))));
    expect(a.format).toBe('json');
    expect(b.format).toBe('jsonl');
    expect(a.evalId).toMatch(/^eval-/);
    expect(a.inputs).toHaveLength(12);
    expect(b.inputs).toEqual(a.inputs);
    expect(compact.inputs).toEqual(a.inputs);
    expect(a.reference).toMatch(/examples\/reference\/sim-failures\.csv$/);
    // Readable names instead of promptfoo's `Row #N`.
    expect(a.inputs[0]!.description).toMatch(/^question=Compute .*, answer=-?\d+$/);
  });

  it('the anchored row reader agrees with parsing every row whole', () => {
    const buf = Buffer.from(readFileSync(jsonl, 'utf8'));
    let start = 0;
    for (const line of lines()) {
      const end = start + Buffer.byteLength(line);
      const parts = scanRowParts(buf, start, end);
      expect(parts, 'the fast path reads promptfoo 0.121 rows').not.toBeNull();
      const fast = reportRowFromParts(parts!, 'x').row;
      const whole = classifyResult(JSON.parse(line), 'x');
      expect(whole.kind).toBe('graded');
      expect(fast).toEqual((whole as { row: unknown }).row);
      start = end + 1;
    }
  });

  it('the row key comes from the verdict, where gradeRollouts records it, else from the rollout metadata (outputs written before it)', () => {
    const row = JSON.parse(lines()[0]!);
    const verdict = rawVerdict(row) as Record<string, unknown>;
    const meta = row.response.metadata.recoverability as Record<string, unknown>;
    expect(typeof meta.row_key).toBe('string');
    expect(verdict.row_key, 'gradeRollouts records the row key it graded').toBe(meta.row_key);
    const read = (r: unknown) => {
      const text = Buffer.from(JSON.stringify(r));
      const fast = reportRowFromParts(scanRowParts(text, 0, text.length)!, 'x').row;
      expect(fast).toEqual((classifyResult(r, 'x') as { row: unknown }).row);
      return fast.row_key;
    };
    verdict.row_key = 'from-verdict';
    meta.row_key = 'from-metadata';
    expect(read(row)).toBe('from-verdict');
    delete verdict.row_key;
    expect(read(row)).toBe('from-metadata');
    verdict.row_key = null;
    expect(read(row)).toBeNull();
  });

  it('pretty JSON rows are read by the anchored reader too (white space between keys)', async () => {
    let fast = 0;
    await readPromptfooRows(json, () => {}, (row) => {
      const parts = scanRowParts(row.buf, row.start, row.end);
      if (parts !== null) fast++;
    });
    expect(fast).toBe(12);
  });

  it('a row laid out differently (top-level keys reversed) is read by the fast reader too, with the same answer', async () => {
    const reverse = (l: string) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l) as object).reverse()));
    const reversed = write('reversed.jsonl', lines().map(reverse).join('\n') + '\n');
    const buf = readFileSync(reversed);
    const line = buf.subarray(0, buf.indexOf(0x0a)).toString('utf8');
    const parts = scanRowParts(buf, 0, buf.indexOf(0x0a));
    expect(parts).not.toBeNull();
    expect(reportRowFromParts(parts!, 'x').row).toEqual((classifyResult(JSON.parse(line), 'x') as { row: unknown }).row);
    expect((await loadEvalOutput(reversed)).inputs).toEqual((await loadEvalOutput(jsonl)).inputs);
  });

  it('rows written otherwise than promptfoo 0.121 writes them are read as a whole parse reads them (types, keys named twice, where the verdict, vars and rollouts are)', async () => {
    type Row = Record<string, any>;
    const variants: [string, (r: Row) => Row | string][] = [
      ['output not a string', (r) => ({ ...r, response: { ...r.response, output: { text: r.response.output } } })],
      ['testIdx as a string', (r) => ({ ...r, testIdx: String(r.testIdx) })],
      ['promptIdx negative', (r) => ({ ...r, promptIdx: -1 })],
      ['testCase null', (r) => ({ ...r, testCase: null })],
      ['no gradingResult', (r) => { const { gradingResult: _, ...rest } = r; return rest; }],
      // The same key twice: JSON.parse (and so the reader) takes the last.
      ['testIdx twice', (r) => JSON.stringify(r).replace(/,"testIdx":(\d+)/, ',"testIdx":777,"testIdx":$1')],
      ['success twice', (r) => JSON.stringify(r).replace(/"success":(true|false)/, '"success":null,"success":$1')],
      ['white space everywhere', (r) => JSON.stringify(r, null, '\t').replace(/\n/g, ' ')],
      // Indices written otherwise than as plain digits (the reader reads those itself).
      ['indices written as 5.0, 5e0 and -0', (r) => JSON.stringify(r).replace(/"testIdx":(\d+)/, '"testIdx":$1.0').replace(/"promptIdx":(\d+)/, '"promptIdx":-0')],
      ['an index written with an exponent', (r) => JSON.stringify(r).replace(/"testIdx":(\d+)/, '"testIdx":$1e1')],
      ['indices of 15 and 17 digits', (r) => ({ ...r, testIdx: 123456789012345 + r.testIdx, promptIdx: 12345678901234567 })],
      // The verdict where rawVerdict looks: the grading result's own metadata first (even after
      // the components), a null one skipped, one nested deeper is none.
      ['verdict in the grading result\'s metadata, after the components', (r) => {
        const v = r.gradingResult.componentResults[0].metadata.recoverability_row;
        return { ...r, gradingResult: { ...r.gradingResult, metadata: { recoverability_row: { ...v, n_passed: 0, passed: v.passed?.map(() => false) } } } };
      }],
      ['a null verdict in the grading result\'s metadata', (r) => ({ ...r, gradingResult: { metadata: { recoverability_row: null }, ...r.gradingResult } })],
      ['the verdict nested deeper than a component\'s metadata', (r) => {
        const g = structuredClone(r.gradingResult);
        g.componentResults[0].metadata = { inner: { recoverability_row: g.componentResults[0].metadata.recoverability_row } };
        return { ...r, gradingResult: g };
      }],
      // The row's own vars when its test case has none.
      ['a test case without vars', (r) => { const { vars: _, ...testCase } = r.testCase; return { ...r, testCase, vars: { ...r.vars, extra: 1 } }; }],
      // An older verdict without the slim fields: the answers come from the rollouts list only
      // (the ancestor's rollouts after it have answers too).
      ['an older verdict, ancestor rollouts after the rollouts', (r) => {
        const g = structuredClone(r.gradingResult);
        for (const c of [g, ...g.componentResults]) if (c.metadata?.recoverability_row) (delete c.metadata.recoverability_row.answer_entropy, delete c.metadata.recoverability_row.wrong_mode_share);
        const meta = r.response.metadata.recoverability;
        return { ...r, gradingResult: g, response: { ...r.response, metadata: { ...r.response.metadata, recoverability: { ...meta, ancestor_rollouts: [{ answer: 'zzz' }, { answer: 'zzz' }] } } } };
      }],
    ];
    for (const [name, change] of variants) {
      const rows = lines().map((l) => {
        const v = change(JSON.parse(l) as Row);
        return typeof v === 'string' ? v : JSON.stringify(v);
      });
      const path = write(`variant-${name.replace(/\W+/g, '-')}.jsonl`, rows.join('\n') + '\n');
      const expected = rows.map((l) => classifyResult(JSON.parse(l), 'x'));
      const got = await loadEvalOutput(path).catch((e: Error) => e);
      const graded = expected.filter((c) => c.kind === 'graded').map((c) => (c as { row: unknown }).row);
      if (graded.length === 0) expect(got, name).toBeInstanceOf(InputError);
      else expect((got as Awaited<ReturnType<typeof loadEvalOutput>>).inputs, name).toEqual(graded);
    }
  });

  it('a test with a var named `score` (the key the reader jumps to after the response) is read the same as by a whole parse', async () => {
    const extras: Record<string, unknown>[] = [
      { score: 5 },
      { meta: { k: 1 }, score: 5 },
      // A var holding an object shaped like a row's tail: a jump to its `score` reads members that do not end the row.
      { prev: { meta: {}, score: 1, success: true, testCase: { vars: { q: 'other' } }, testIdx: 99 } },
    ];
    const withScoreVar = (l: string, extra: Record<string, unknown>) => {
      const r = JSON.parse(l) as { testCase: { vars: Record<string, unknown> }; vars: Record<string, unknown> };
      r.testCase.vars = { ...r.testCase.vars, ...extra };
      r.vars = { ...r.vars, ...extra };
      return JSON.stringify(r);
    };
    for (const [k, extra] of extras.entries()) {
      const rows = lines().map((l) => withScoreVar(l, extra));
      const path = write(`score-var-${k}.jsonl`, rows.join('\n') + '\n');
      const expected = rows.map((l) => (classifyResult(JSON.parse(l), 'x') as { row: unknown }).row);
      expect((await loadEvalOutput(path)).inputs).toEqual(expected);
    }
  });

  it('a read window smaller than one row crosses every boundary and gives the same rows', async () => {
    const whole = await loadEvalOutput(jsonl);
    expect((await loadEvalOutput(jsonl, { chunkBytes: 1000 })).inputs).toEqual(whole.inputs);
    expect((await loadEvalOutput(json, { chunkBytes: 1000 })).inputs).toEqual(whole.inputs);
  });

  it('byte ranges of whole lines read separately add up to the whole file', async () => {
    const whole = await readRange(jsonl, 'report');
    const size = readFileSync(jsonl).length;
    const cut = readFileSync(jsonl).indexOf(0x0a, Math.floor(size / 3)) + 1;
    const first = await readRange(jsonl, 'report', { start: 0, end: cut });
    const second = await readRange(jsonl, 'report', { start: cut, end: size });
    expect([...first.inputs, ...second.inputs]).toEqual(whole.inputs);
    expect(first.rows + second.rows).toBe(12);
  });

  it('the gate reads less: no sample outputs, no rollouts, same identities and counts', async () => {
    const full = await loadEvalOutput(jsonl);
    const lean = await loadEvalOutput(jsonl, { purpose: 'gate' });
    expect(lean.inputs.map((r) => [r.test_key, r.n_passed, r.n_rollouts, r.features])).toEqual(full.inputs.map((r) => [r.test_key, r.n_passed, r.n_rollouts, r.features]));
    expect(lean.inputs.every((r) => r.sample_output === '')).toBe(true);
    expect(full.inputs.some((r) => r.sample_output.length > 0 && r.answer_entropy !== null)).toBe(true);
    // The answer distribution comes from the verdict when it carries one (no rollout read), else not at all.
    lean.inputs.forEach((r, i) => expect(r.answer_entropy === null || r.answer_entropy === full.inputs[i]!.answer_entropy).toBe(true));
  });

  it('several threads read a large JSONL in ranges and give the same rows (dist build: the reader threads are compiled JS)', async () => {
    const { loadEvalOutput: fromDist } = await import('../../dist/io/loadEvalOutput.js');
    const parallel = await fromDist(jsonl, { threads: 3, parallelMinBytes: 0 });
    expect(parallel.inputs).toEqual((await loadEvalOutput(jsonl)).inputs);
    // Two outputs read at once share the threads (the gate's read): each comes back whole and in order.
    const { loadEvalOutputs } = await import('../../dist/io/loadEvalOutput.js');
    const [x, y] = await loadEvalOutputs([jsonl, json], { threads: 2, parallelMinBytes: 0 });
    expect(x!.inputs).toEqual(parallel.inputs);
    expect(y!.inputs).toEqual(parallel.inputs);
    // An error in the last thread's range is named by its line in the file.
    const ls = lines();
    ls[10] = ls[10]!.slice(0, 100);
    const bad = write('bad-parallel.jsonl', ls.join('\n') + '\n');
    await expect(fromDist(bad, { threads: 3, parallelMinBytes: 0 })).rejects.toThrow(/bad-parallel\.jsonl, line 11 is not valid JSON/);
  });

  it('a reader thread that reads every job itself posts the same rows (packed in columns) and errors as this thread reads', async () => {
    // In the tests above this thread may take every job of a small file before a reader has
    // started; here a reader is the only one taking jobs.
    const { receivedPart } = await import('../../dist/io/loadEvalOutput.js');
    const { readerThread } = await import('../../dist/io/readerThreads.js');
    const size = readFileSync(jsonl).length;
    const cut = readFileSync(jsonl).indexOf(0x0a, size >> 1) + 1;
    const ls = lines();
    ls[2] = ls[2]!.slice(0, 100);
    const bad = write('bad-reader.jsonl', ls.join('\n') + '\n');
    const jobs = [{ path: jsonl, range: { start: 0, end: cut } }, { path: jsonl, range: { start: cut, end: size } }, { path: json }, { path: bad }];
    for (const purpose of ['report', 'gate'] as const) {
      const worker = readerThread();
      const next = new Int32Array(new SharedArrayBuffer(4));
      const messages: { job?: number; ok?: unknown; packed?: unknown; error?: { kind: string; message: string }; done?: boolean }[] = [];
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m: (typeof messages)[number]) => (messages.push(m), m.done && resolve()));
        worker.once('error', reject);
        worker.postMessage({ jobs, next, purpose });
      });
      await worker.terminate();
      expect(messages.map((m) => m.job)).toEqual([0, 1, 2, 3, undefined]);
      for (let k = 0; k < 3; k++) {
        const m = messages[k]!;
        expect(m.packed).toBeDefined(); // rows of the plugin pack
        const expected = await readRange(jobs[k]!.path, purpose, jobs[k]!.range);
        expect(receivedPart(m.ok as never, m.packed as never)).toEqual(expected);
      }
      expect(messages[3]!.error).toEqual({ kind: 'InputError', message: `${bad}, line 3 is not valid JSON (a JSONL output holds one complete promptfoo result per line)` });
    }
  });

  it('a reader started ahead (as the CLI starts one for report and gate) reads the same rows, is used once, and never keeps the process alive', async () => {
    const { loadEvalOutputs } = await import('../../dist/io/loadEvalOutput.js');
    const threads = await import('../../dist/io/readerThreads.js');
    const expected = (await loadEvalOutput(jsonl)).inputs;
    threads.startReader();
    expect(threads.readersWaiting()).toBe(1);
    const [x, y] = await loadEvalOutputs([jsonl, json], { threads: 2, parallelMinBytes: 0 });
    expect(threads.readersWaiting()).toBe(0);
    expect(x!.inputs).toEqual(expected);
    expect(y!.inputs).toEqual(expected);
    // Started for several outputs, or one JSONL of 64 MiB or more (a sparse file here); not for one small output, or a path that is not there.
    const big = join(dir, 'big.jsonl');
    writeFileSync(big, '');
    truncateSync(big, 64 << 20);
    for (const [paths, started] of [[[jsonl], 0], [[jsonl, json], 1], [[big], 1], [[join(dir, 'absent.jsonl')], 0], [[undefined], 0]] as const) {
      threads.startReaderFor(paths);
      expect(threads.readersWaiting()).toBe(started);
      if (started) threads.readerThread().terminate();
    }
    // A process that starts a reader and never takes it exits (after the reader has started: it is not merely gone).
    const script = join(dir, 'start-reader.mjs');
    writeFileSync(
      script,
      `const m = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist/io/readerThreads.js')).href)});\nm.startReader();\nawait new Promise((r) => setTimeout(r, 1500));\nconsole.log(m.readersWaiting());\n`,
    );
    const child = spawnSync(process.execPath, [script], { timeout: 20_000, encoding: 'utf8' });
    expect([child.status, child.stdout.trim()]).toEqual([0, '1']);
  });

  it('hands each output to onOutput as soon as it is read (once, the object returned), never one that fails, and throws what onOutput throws after reading', async () => {
    const { loadEvalOutputs } = await import('../../dist/io/loadEvalOutput.js');
    for (const threads of [1, 2, 3]) {
      const seen: [number, unknown][] = [];
      const outs = await loadEvalOutputs([jsonl, json, jsonl], { threads, parallelMinBytes: 0, onOutput: (i, o) => seen.push([i, o]) });
      expect(seen.map(([i]) => i).sort()).toEqual([0, 1, 2]);
      for (const [i, o] of seen) expect(o).toBe(outs[i]);
      // The first output is whole before the last is read: it comes first with one thread.
      if (threads === 1) expect(seen.map(([i]) => i)).toEqual([0, 1, 2]);
    }
    const ls = lines();
    ls[10] = ls[10]!.slice(0, 100);
    const bad = write('bad-onoutput.jsonl', ls.join('\n') + '\n');
    const seen: number[] = [];
    await expect(loadEvalOutputs([jsonl, bad], { threads: 2, parallelMinBytes: 0, onOutput: (i) => seen.push(i) })).rejects.toThrow(/bad-onoutput\.jsonl, line 11/);
    expect(seen).not.toContain(1);
    const failing = loadEvalOutputs([jsonl, json], { threads: 2, parallelMinBytes: 0, onOutput: (i) => {
      if (i === 0) throw new Error('from onOutput');
    } });
    await expect(failing).rejects.toThrow('from onOutput');
  });
});

describe('error rows are counted, never dropped', () => {
  it('an ERROR row (an endpoint timeout) is listed with its error kind', async () => {
    const [first, ...rest] = lines();
    const row = JSON.parse(first!);
    const errorRow = {
      ...row,
      error: 'RolloutProvider: EndpointTimeoutError: http://127.0.0.1:1/v1/completions did not answer within 3000 ms',
      failureReason: 2,
      success: false,
      gradingResult: null,
      response: { error: 'RolloutProvider: EndpointTimeoutError: did not answer' },
      metadata: {},
    };
    const out = await loadEvalOutput(write('errors.jsonl', [JSON.stringify(errorRow), ...rest].join('\n') + '\n'));
    expect(out.inputs).toHaveLength(11);
    expect(out.errors).toEqual([
      {
        test_idx: 0,
        prompt_idx: 0,
        test_key: testKey(row.testCase),
        description: expect.stringMatching(/^question=Compute/),
        provider: expect.any(String),
        kind: 'EndpointTimeoutError',
        message: 'RolloutProvider: EndpointTimeoutError: http://127.0.0.1:1/v1/completions did not answer within 3000 ms',
      },
    ]);
  });
});

describe('bad outputs are named input errors that never quote the file', () => {
  const rejects = async (p: string, message: RegExp) => {
    const err = await loadEvalOutput(p).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
    return (err as Error).message;
  };

  it('a truncated JSON output (promptfoo could not finish it) names -o out.jsonl', async () => {
    const text = readFileSync(json, 'utf8');
    await rejects(write('cut.json', text.slice(0, Math.floor(text.length / 2))), /ends before its JSON is complete .* write the output as JSONL: promptfoo eval -o out\.jsonl/);
  });

  it('a JSONL line that is not JSON is named by its line number', async () => {
    const ls = lines();
    ls[4] = ls[4]!.slice(0, 200);
    const message = await rejects(write('bad.jsonl', ls.join('\n')), /bad\.jsonl, line 5 is not valid JSON/);
    expect(message).not.toContain(ls[4]!.slice(20, 60));
  });

  it('tampered counts (n_passed > n_rollouts) name the row and the field', async () => {
    const ls = lines();
    ls[2] = ls[2]!.replace(/"n_passed":\d+/, '"n_passed":99');
    await rejects(write('tampered.jsonl', ls.join('\n')), /tampered\.jsonl, line 3: the recoverability verdict is invalid: recoverability_row\.n_passed: n_passed cannot exceed n_rollouts/);
  });

  it('a share out of [0, 1] in a verdict (the ancestor\'s pass rate) names the row and the field', async () => {
    const ls = lines();
    expect(ls[4]).toMatch(/"ancestor_pass_rate":/);
    ls[4] = ls[4]!.replace(/("recoverability_row":\{.*?"signals":\{[^}]*?"ancestor_pass_rate":)[^,}]+/, '$11.5');
    await rejects(write('tampered-share.jsonl', ls.join('\n')), /tampered-share\.jsonl, line 5: the recoverability verdict is invalid: recoverability_row\.signals\.ancestor_pass_rate/);
  });

  it('not JSON, not a promptfoo output, a folder, a missing file', async () => {
    const message = await rejects(write('secret.json', 'API_KEY=sk-live-1234567890'), /secret\.json is not valid JSON at byte 0/);
    expect(message).not.toContain('sk-live');
    await rejects(write('other.json', '{"a": 1}'), /is not a promptfoo output: it has no results\.results list/);
    await rejects(dir, /is not a file/);
    await rejects(join(dir, 'missing.json'), /cannot read .*missing\.json: ENOENT/);
  });

  it('a .json file holding JSONL is read as JSONL', async () => {
    const out = await loadEvalOutput(write('lines.json', readFileSync(jsonl, 'utf8')));
    expect(out.format).toBe('jsonl');
    expect(out.inputs).toHaveLength(12);
  });
});

describe('the reference a verdict names', () => {
  it('a relative reference resolves against the output file, not the working directory', async () => {
    const sub = join(dir, 'moved');
    mkdirSync(sub, { recursive: true });
    const out = await loadEvalOutput(write('moved/out.jsonl', lines().map((l) => l.replace(/"reference":"[^"]*"/, '"reference":"ref/pop.csv"')).join('\n')));
    expect(out.reference).toBe(join(sub, 'ref', 'pop.csv'));
  });
});
