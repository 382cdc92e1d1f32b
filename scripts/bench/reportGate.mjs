// The report/gate part of `npm run bench`: wall time and peak memory of `recoverability report`
// and `recoverability gate` on promptfoo outputs of 10k tests (pretty JSON, as `-o out.json`
// writes it) and 100k tests (JSONL, as `-o out.jsonl` writes it: promptfoo 0.121 cannot write
// JSON that large), each several times (medians, and every run). The rows are real: the root suite is evaluated once through the real
// promptfoo CLI with 8 rollouts per test, and its 40 result rows are replicated (each copy gets
// its own test index, vars and description; the candidate eval takes its rollouts and verdicts
// from other rows than the baseline, so the two evals differ).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const PROMPTFOO = (root) => join(root, 'node_modules/promptfoo/dist/src/entrypoint.js');

/** 40 real result rows (JSONL objects) and the JSON envelope promptfoo wrote around them. */
export function captureRows(root, dir) {
  const cfg = join(root, `tmp-bench-rg-${process.pid}.yaml`);
  writeFileSync(cfg, readFileSync(join(root, 'promptfooconfig.yaml'), 'utf8').replace(/samples: 12/, 'samples: 8'));
  try {
    const r = spawnSync(process.execPath, [PROMPTFOO(root), 'eval', '-c', cfg, '--no-progress-bar', '-o', join(dir, 'cap.json'), '-o', join(dir, 'cap.jsonl')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PROMPTFOO_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-pf-')), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', PROMPTFOO_FAILED_TEST_EXIT_CODE: '0' },
    });
    if (r.status !== 0) throw new Error(`capture eval failed: ${r.stderr}`);
  } finally {
    rmSync(cfg, { force: true });
  }
  const rows = readFileSync(join(dir, 'cap.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const envelope = JSON.parse(readFileSync(join(dir, 'cap.json'), 'utf8'));
  return { rows, envelope };
}

/** Row i of a synthetic eval: test i of the suite (its own vars), rollouts and verdict from a captured row. */
function syntheticRow(rows, i, seed) {
  const suite = rows[i % rows.length];
  const data = rows[(i * 7 + seed * 13) % rows.length];
  // The suite's vars (expression, answer, steps) and the copy's number: test i is its own test.
  const vars = { ...suite.testCase.vars, copy: i };
  return { ...data, id: `bench-${seed}-${i}`, testIdx: i, vars, testCase: { ...suite.testCase, vars, description: `Row #${i + 1}` } };
}

async function writeStreamed(path, chunks) {
  const out = createWriteStream(path);
  for (const c of chunks()) if (!out.write(c)) await new Promise((r) => out.once('drain', r));
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

/** n rows as promptfoo writes `-o out.jsonl`: one JSON.stringify'd result per line. */
export function writeJsonl(path, rows, n, seed) {
  return writeStreamed(path, function* () {
    for (let i = 0; i < n; i++) yield JSON.stringify(syntheticRow(rows, i, seed)) + '\n';
  });
}

/** n rows as promptfoo writes `-o out.json`: JSON.stringify(output, null, 2), streamed row by row. */
export function writePrettyJson(path, rows, envelope, n, seed) {
  const marker = '__ROWS__';
  const text = JSON.stringify({ ...envelope, evalId: `bench-${seed}`, results: { ...envelope.results, results: [marker] } }, null, 2);
  const at = text.indexOf(`      "${marker}"`);
  const head = text.slice(0, at);
  const tail = text.slice(at + marker.length + 8);
  return writeStreamed(path, function* () {
    yield head;
    for (let i = 0; i < n; i++) yield (i > 0 ? ',\n' : '') + '      ' + JSON.stringify(syntheticRow(rows, i, seed), null, 2).replace(/\n/g, '\n      ');
    yield tail;
  });
}

function timed(root, args) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, join(root, 'bin/recoverability.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Math.round(performance.now() - t0);
  const [kb, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  if (r.status !== 0 && r.status !== 1) throw new Error(`recoverability ${args[0]} failed (${r.status}): ${r.stderr}`);
  // CPU time (all threads) beside wall time: on a shared machine wall time also counts waiting for a core.
  return { ms, cpu_ms: Math.round(1000 * (user + sys)), peak_rss_mb: Number.isFinite(kb) ? Math.round(kb / 1024) : null, status: r.status, stdout: r.stdout };
}

/** Wall time of reading outputs alone (loadEvalOutputs, as the gate or the report reads them), in a fresh process. */
function timedRead(root, paths, purpose) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/bench/readOutputs.mjs'), purpose, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reading ${paths.join(', ')} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs the report/gate benchmark; emits one JSON line per size. Each size runs `repeats` rounds
 * (report, gate, and the gate's reading alone, interleaved): wall times vary by ±15% or more
 * between identical runs on a shared machine, so the line gives medians and every round.
 */
export async function reportGateBench(root, emit, sizes = [[10_000, 'json'], [100_000, 'jsonl']], repeats = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rg-'));
  try {
    const { rows, envelope } = captureRows(root, dir);
    for (const [n, format] of sizes) {
      const a = join(dir, `a${n}.${format}`);
      const b = join(dir, `b${n}.${format}`);
      for (const [path, seed] of [[a, 1], [b, 2]]) {
        if (format === 'json') await writePrettyJson(path, rows, envelope, n, seed);
        else await writeJsonl(path, rows, n, seed);
      }
      const formats = n <= 10_000 ? 'json,md,html' : 'json,md';
      const reports = [];
      const gates = [];
      const reads = [];
      for (let r = 0; r < repeats; r++) {
        reports.push(timed(root, ['report', a, '--out', join(dir, `rep${n}`), '--format', formats]));
        gates.push(timed(root, ['gate', '--baseline', a, '--candidate', b, '--permutations', '199']));
        reads.push(timedRead(root, [a, b], 'gate'));
      }
      const med = (runs, key) => median(runs.map((x) => x[key]));
      const gate = gates[0];
      emit({
        bench: 'report-gate',
        problems: n,
        input_format: format === 'json' ? 'pretty JSON (-o out.json)' : 'JSONL (-o out.jsonl)',
        input_mb: Math.round(statSync(a).size / 2 ** 20),
        rollouts_per_test: rows[0].response.metadata.recoverability.rollouts.length,
        rounds: repeats,
        report_ms: med(reports, 'ms'),
        report_ms_runs: reports.map((x) => x.ms),
        report_cpu_ms: med(reports, 'cpu_ms'),
        report_peak_rss_mb: Math.max(...reports.map((x) => x.peak_rss_mb)),
        report_formats: formats,
        gate_ms: med(gates, 'ms'),
        gate_ms_runs: gates.map((x) => x.ms),
        gate_cpu_ms: med(gates, 'cpu_ms'),
        gate_peak_rss_mb: Math.max(...gates.map((x) => x.peak_rss_mb)),
        gate_read_ms: median(reads),
        gate_read_ms_runs: reads,
        load_average_1min: +loadavg()[0].toFixed(1),
        cores: availableParallelism(),
        gate_exit: gate.status,
        gate_topography: /subsample of [^)]*(?=\))/.exec(gate.stdout)?.[0] ?? 'all failures',
      });
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map((s) => s.split(':')).map(([n, f]) => [Number(n), f ?? (Number(n) > 10_000 ? 'jsonl' : 'json')]);
  const root = new URL('../..', import.meta.url).pathname;
  await reportGateBench(root, (o) => console.log(JSON.stringify(o)), sizes.length > 0 ? sizes : undefined);
}
