#!/usr/bin/env node
// Feature extraction, TypeScript against a careful numpy implementation of the same math
// (scripts/bench/features_numpy.py), on the same pool and position stream (pool.mjs): K = 100
// specialist + 20 ancestor raw log-probs per position, rollouts of 1000 positions.
//
//   node scripts/bench/features.mjs [positions=500000] [rounds=9]     (build first: npx tsc -p tsconfig.build.json)
//
// The stream: rollout r (of positions / 1000) is distinct rollout r mod 64, each prebuilt before
// timing in the contender's own layout (object steps, CSR typed arrays, numpy (64, 1000, K)
// arrays), as a capture would hand traces over; no gather is timed.
//
// Every measurement runs in a fresh process; rounds interleave the contenders (in turn forwards
// and backwards), short enough that the machine's speed, which drifts by a third within minutes
// here, is about the same for a round's runs. Prints one JSON line per run, then one per contender
// (median over rounds: positions per wall second and per CPU second), the ratios TS/numpy (of the
// medians, and the median of each round's own ratio, which cancels the drift between rounds), and
// a checksum agreement line: all 13 per-rollout summary fields summed over every rollout, TS
// (object steps and flat arrays) against numpy float64 (1e-9 relative) and, from one more run of
// 2,000,000 positions, against the Part-1 code's pinned sums (1e-12 relative per field). One more
// contender, numpy float64 with its AVX-512 code switched off (NUMPY_WITHOUT_AVX512 below), shows
// how much of the ratio is the CPU's: numpy's float64 exp is vectorized only there.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DISTINCT, flatRollouts, L, makePool, poolIndex } from './pool.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIELDS = ['spread', 'concentration', 'logitDispersion', 'maxJ', 'meanJ', 'junction', 'meanDeltaPath', 'meanGcov', 'meanKl', 'meanEntropy', 'meanLogprob', 'minWindowConfidence', 'dispersionAtMinConfidence'];

// Sums of the summary fields over the 2,000 rollouts of the 2,000,000-position stream, computed
// by the Part-1 implementation (commit 7640ed1: object steps, one accumulator per rollout) before
// any optimization. The optimized code must reproduce them to 1e-12 relative. Regenerate:
//   git archive 7640ed1 src tsconfig.json tsconfig.build.json | tar -x -C /tmp/part1 && ln -s $PWD/node_modules /tmp/part1/
//   (cd /tmp/part1 && npx tsc -p tsconfig.build.json) && node scripts/bench/features.mjs --measure ts-steps 2000000 /tmp/part1/dist
const PART1_2M = {
  spread: 2000,
  concentration: 633.6118400438073,
  logitDispersion: -914.4217147490822,
  maxJ: 53872.96000990164,
  meanJ: 25940.03088905237,
  junction: 902367,
  meanDeltaPath: 19681.667332182788,
  meanGcov: 6252.683107049379,
  meanKl: 18257.445657402273,
  meanEntropy: 3686.0891952456045,
  meanLogprob: -3425.1887181780103,
  minWindowConfidence: 7934.4671228428115,
  dispersionAtMinConfidence: -888.4350163569728,
};

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * One measurement, in this process: the contender over n positions (n / L rollouts; rollout r is
 * distinct rollout r mod DISTINCT, prebuilt before timing as a capture would hand it over).
 * `dist` picks the build to measure (default this checkout's dist/).
 */
async function measure(kind, n, dist = join(ROOT, 'dist')) {
  const { RolloutFeatureAccumulator } = await import(join(dist, 'core/features/rolloutFeatureAccumulator.js'));
  const pool = makePool();
  const sums = Object.fromEntries(FIELDS.map((f) => [f, 0]));
  const add = (s) => {
    for (const f of FIELDS) sums[f] += s[f];
  };
  const rollouts = Math.floor(n / L);
  let t0;
  let c0;
  if (kind === 'ts-steps') {
    // As existing callers do: object steps, a new accumulator per rollout.
    const steps = Array.from({ length: DISTINCT }, (_, d) => Array.from({ length: L }, (_, t) => pool[poolIndex(d, t)]));
    t0 = performance.now();
    c0 = cpuSeconds();
    for (let r = 0; r < rollouts; r++) {
      const acc = new RolloutFeatureAccumulator();
      for (const step of steps[r % DISTINCT]) acc.push(step);
      add(acc.finish());
    }
  } else if (kind === 'ts-flat') {
    // Flat typed arrays (CSR per rollout), one accumulator reset per rollout.
    const traces = flatRollouts(pool);
    const acc = new RolloutFeatureAccumulator();
    t0 = performance.now();
    c0 = cpuSeconds();
    for (let r = 0; r < rollouts; r++) add(acc.reset().pushFlat(traces[r % DISTINCT]).finish());
  } else throw new Error(`unknown contender ${kind}`);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const positions = rollouts * L;
  return { bench: 'features-ts', kind, positions, seconds: +seconds.toFixed(3), cpu_seconds: +cpu.toFixed(3), positions_per_s: Math.round(positions / seconds), positions_per_cpu_s: Math.round(positions / cpu), peak_rss_mb: peakMb(), checksum: FIELDS.reduce((a, f) => a + sums[f], 0), fields: sums };
}

/**
 * numpy's float64 exp is vectorized only in its AVX-512 code (numpy 2's X86_V4 target); without it
 * numpy calls the C library's exp per element. `numpy-float64-noavx512` runs the same script with
 * that code switched off, as numpy runs on a CPU without AVX-512 (on such a CPU it is the same as
 * `numpy-float64`). Informational: the figure the targets are checked against is `numpy-float64`.
 */
const NUMPY_WITHOUT_AVX512 = { NPY_DISABLE_CPU_FEATURES: 'X86_V4 AVX512_ICL AVX512_SPR' };

function runChild(kind, n) {
  if (kind.startsWith('numpy-')) {
    const noAvx512 = kind.endsWith('-noavx512');
    const dtype = kind.slice('numpy-'.length).replace(/-noavx512$/, '');
    const env = noAvx512 ? { ...process.env, ...NUMPY_WITHOUT_AVX512 } : process.env;
    const r = spawnSync('python3', [join(ROOT, 'scripts/bench/features_numpy.py'), String(n), dtype], { encoding: 'utf8', env });
    if (r.status !== 0) return { bench: 'features-numpy', kind, skipped: `python3 with numpy not available or failed (${(r.stderr || '').trim().split('\n').at(-1)})` };
    return { ...JSON.parse(r.stdout.trim()), kind };
  }
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', kind, String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const agree = (x, y, tol) => Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));

/** Runs the comparison; returns the JSON lines (runs, per-contender medians, ratios, agreement). */
export function featureBenchmarks({ positions = 500_000, rounds = 9, log = () => {} } = {}) {
  const kinds = ['ts-steps', 'ts-flat', 'numpy-float64', 'numpy-float32', 'numpy-float64-noavx512'];
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      log(`features: round ${r + 1}/${rounds} ${kind}…`);
      runs.push({ round: r + 1, ...runChild(kind, positions) });
    }
  }
  let pinRun = null;
  if (positions !== 2_000_000) {
    log('features: the Part-1 pin (ts-steps, 2,000,000 positions)…');
    pinRun = { round: 'pin', ...runChild('ts-steps', 2_000_000) };
  }
  const lines = pinRun ? [...runs, pinRun] : [...runs];
  const summary = {};
  for (const kind of kinds) {
    const ok = runs.filter((x) => x.kind === kind && x.positions_per_s);
    if (ok.length === 0) continue;
    summary[kind] = { positions_per_s: median(ok.map((x) => x.positions_per_s)), positions_per_cpu_s: median(ok.map((x) => x.positions_per_cpu_s)), peak_rss_mb: median(ok.map((x) => x.peak_rss_mb)) };
    lines.push({ bench: 'features', kind, positions: ok[0].positions, rounds: ok.length, ...summary[kind] });
  }
  const ratio = (a, b, k) => (summary[a] && summary[b] ? +(summary[a][k] / summary[b][k]).toFixed(2) : null);
  // Each round's own ratio too: the contenders of a round ran back to back, so the machine's drift between rounds cancels.
  const perRound = (a, b) =>
    Array.from({ length: rounds }, (_, r) => {
      const x = runs.find((z) => z.round === r + 1 && z.kind === a);
      const y = runs.find((z) => z.round === r + 1 && z.kind === b);
      return x?.positions_per_s && y?.positions_per_s ? +(x.positions_per_s / y.positions_per_s).toFixed(2) : null;
    });
  const medianOf = (xs) => (xs.some((x) => x === null) ? null : median(xs));
  lines.push({
    bench: 'features-ratios',
    flat_over_numpy64: ratio('ts-flat', 'numpy-float64', 'positions_per_s'),
    flat_over_numpy64_paired: medianOf(perRound('ts-flat', 'numpy-float64')),
    flat_over_numpy32_paired: medianOf(perRound('ts-flat', 'numpy-float32')),
    flat_over_numpy64_rounds: perRound('ts-flat', 'numpy-float64'),
    flat_over_numpy32_rounds: perRound('ts-flat', 'numpy-float32'),
    flat_over_numpy64_cpu: ratio('ts-flat', 'numpy-float64', 'positions_per_cpu_s'),
    flat_over_numpy32: ratio('ts-flat', 'numpy-float32', 'positions_per_s'),
    flat_over_numpy64_noavx512_paired: medianOf(perRound('ts-flat', 'numpy-float64-noavx512')),
    flat_over_numpy64_noavx512_rounds: perRound('ts-flat', 'numpy-float64-noavx512'),
    numpy_avx512: runs.find((x) => x.kind === 'numpy-float64')?.numpy_avx512 ?? null,
    numpy_avx512_when_off: runs.find((x) => x.kind === 'numpy-float64-noavx512')?.numpy_avx512 ?? null,
    steps_over_numpy64: ratio('ts-steps', 'numpy-float64', 'positions_per_s'),
    steps_over_numpy64_cpu: ratio('ts-steps', 'numpy-float64', 'positions_per_cpu_s'),
    flat_over_steps: ratio('ts-flat', 'ts-steps', 'positions_per_s'),
  });
  const first = (kind) => runs.find((x) => x.kind === kind && x.fields);
  const ts = first('ts-steps');
  const fl = first('ts-flat');
  const np = first('numpy-float64');
  const np32 = first('numpy-float32');
  const fieldsAgree = (a, b, tol) => !!a && !!b && FIELDS.every((f) => agree(a.fields[f], b.fields[f], tol));
  lines.push({
    bench: 'features-checksums',
    ts_steps: ts?.checksum ?? null,
    ts_flat: fl?.checksum ?? null,
    numpy_float64: np?.checksum ?? null,
    numpy_float32: np32?.checksum ?? null,
    ts_steps_equals_flat: !!ts && !!fl && FIELDS.every((f) => ts.fields[f] === fl.fields[f]),
    ts_agrees_numpy64_1e9: fieldsAgree(ts, np, 1e-9),
    numpy32_off_by: ts && np32 ? Math.max(...FIELDS.map((f) => Math.abs(np32.fields[f] - ts.fields[f]) / Math.max(1, Math.abs(ts.fields[f])))) : null,
    ts_matches_part1_pin_1e12: fieldsAgree(pinRun ?? ts, { fields: PART1_2M }, 1e-12),
    pin_positions: (pinRun ?? ts)?.positions ?? null,
  });
  return lines;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--measure') {
    console.log(JSON.stringify(await measure(args[1], Number(args[2]), args[3])));
    return;
  }
  const [positions = 500_000, rounds = 9] = args.map(Number);
  for (const l of featureBenchmarks({ positions, rounds, log: (m) => process.stderr.write(m + '\n') })) console.log(JSON.stringify(l));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
