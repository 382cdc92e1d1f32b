import { beforeAll, describe, expect, it } from 'vitest';
import { captureRollouts } from '../../src/capture/captureRollouts.js';
import { buildEvalReport, compareEvals, GatePolicySchema, problemFeatures, type ReportRowInput, seededRandom, seedOf } from '../../src/core/index.js';
import { answerGrader } from '../../src/probe/probeSimulated.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import type { Mix } from '../../src/simulator/mechanisms.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';

/** Rows of a simulated population, as the plugin would produce them (capture, grade, features). */
async function population(problems: number, seed: number, mix?: Mix): Promise<ReportRowInput[]> {
  const sim = new LineageSimulator({ seed, ...(mix ? { mix } : {}) });
  const rows: ReportRowInput[] = [];
  for (const p of simPrompts(problems, seed)) {
    const ids = await sim.specialist.tokenize(p.prompt);
    const rollouts = await captureRollouts(sim.specialist, sim.ancestor, ids, { samples: 8, temperature: 0.6, topK: 20, ancestorTopK: 20, maxTokens: 128, seed: seedOf(seed, p.id) });
    const ok = answerGrader(p.expected);
    const failed = rollouts.filter((r) => !ok(r.text));
    rows.push({
      test_idx: rows.length, prompt_idx: 0, repeat: 0, description: p.id, provider: 'sim', n_rollouts: 8, n_passed: 8 - failed.length,
      features: failed.length > 0 ? problemFeatures(failed.map((r) => r.summary!)) : null,
      answer_entropy: null, wrong_mode_share: null, unavailable: [], sample_output: '',
    });
  }
  return rows;
}

/** An eval of `n` tests drawn from a population, relabelled as the same suite's tests 0…n−1. */
function evalOf(pool: ReportRowInput[], n: number, seed: number): ReportRowInput[] {
  const r = seededRandom(seed);
  const idx = pool.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).map((k, i) => ({ ...pool[k]!, test_idx: i, description: `test ${i}` }));
}

function gate(base: ReportRowInput[], cand: ReportRowInput[]) {
  const policy = GatePolicySchema.parse({ permutations: 49 });
  const b = buildEvalReport(base);
  const c = buildEvalReport(cand, { reference: { path: 'baseline', scale: b.scale! } });
  return compareEvals(b, c, policy);
}

let pool: ReportRowInput[];
let shifted: ReportRowInput[];
beforeAll(async () => {
  pool = await population(600, 31);
  shifted = await population(300, 32, { easy: 0.15, unlucky: 0.15, demoted: 0.1, deformed: 0.05, temperature: 0.05, beyond: 0.5 });
}, 120_000);

describe('gate on simulated pairs', () => {
  it('same population, different seeds: passes in at least 1 − α − 0.03 of 100 pairs', () => {
    let passes = 0;
    for (let k = 0; k < 100; k++) if (gate(evalOf(pool, 120, 2 * k), evalOf(pool, 120, 2 * k + 1)).pass) passes++;
    expect(passes).toBeGreaterThanOrEqual(92);
  });

  it('a planted shift (more beyond-reach problems) fails, naming beyond_reach', () => {
    const g = gate(evalOf(pool, 120, 7), evalOf(shifted, 120, 8));
    expect(g.pass).toBe(false);
    expect(g.regressions[0]).toMatch(/^beyond_reach share of tests up \+\d+\.\d points/);
    expect(g.checks.find((c) => c.check === 'beyond_reach share of tests')!.status).toBe('fail');
    const beyond = g.regimes.find((r) => r.regime === 'beyond_reach')!;
    expect(beyond.ci[0]).toBeGreaterThan(0);
    expect(g.chiSquare.p).toBeLessThan(0.05);
  });
});
