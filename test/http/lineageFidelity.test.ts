import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepInput } from '../../src/core/tokens/tokenSignals.js';
import { compareTruncation, type FullStep, type TruncationFidelity } from '../../src/core/features/truncationFidelity.js';
import { OpenAICompatibleModel } from '../../src/http/openAiCompatibleModel.js';
import { startVllmServer, type VllmServerHandle } from '../../src/http/vllmServer.js';
import { arithProblems, loadArithLineage } from '../../src/lineage/index.js';

/**
 * Issue 10's fidelity check on a real model: rollouts of the embedded lineage, featurized from
 * (a) the two models' full 28-way distributions (the truth) and (b) what the HTTP client sees
 * through `recoverability serve` with every default: top-20 per position (a default vLLM server's
 * max_logprobs), the sampled/actual token appended with its rank, raw log-probs.
 */
describe('feature fidelity on the real lineage, served with every default', () => {
  const lineage = loadArithLineage();
  let server: VllmServerHandle;
  const steps: (FullStep & { seen: StepInput })[][] = [];
  let fidelity: TruncationFidelity;
  let renormalized: TruncationFidelity;

  beforeAll(async () => {
    server = await startVllmServer({ models: [lineage.specialist, lineage.ancestor] });
    const specialist = new OpenAICompatibleModel({ baseUrl: server.url, model: 'arith-specialist' });
    const ancestor = new OpenAICompatibleModel({ baseUrl: server.url, model: 'arith-ancestor' });
    for (const [i, p] of arithProblems({ seed: 11, operations: [2, 3, 4, 5], count: 5 }).entries()) {
      const ids = await specialist.tokenize(p.prompt);
      const gens = await specialist.sample(ids, { n: 4, seed: 100 * i, temperature: 0.6, maxTokens: 128 - ids.length - 1, topK: 20 });
      for (const g of gens) {
        const scored = await ancestor.score(ids, g.tokens, 20);
        const sequence = [...ids, ...g.tokens];
        const truthS = lineage.specialist.scorePrompt(sequence);
        const truthA = lineage.ancestor.scorePrompt(sequence);
        steps.push(
          g.tokens.map((token, t) => ({
            token,
            specialist: truthS[ids.length + t - 1]!,
            ancestor: truthA[ids.length + t - 1]!,
            seen: { token, specialist: g.topK[t]!, ancestor: scored[t]! },
          })),
        );
      }
    }
    fidelity = compareTruncation(steps, (s) => (s as FullStep & { seen: StepInput }).seen, { temperature: 0.6 });
    renormalized = compareTruncation(steps, (s) => (s as FullStep & { seen: StepInput }).seen, { temperature: 0.6, normalization: 'renormalizeTopK' });
  });
  afterAll(() => server.close());

  it('the client saw what a default vLLM server sends: 20 entries a position, 21 with the appended token', () => {
    const sizes = steps.flat().flatMap((s) => [s.seen.specialist.ids.length, s.seen.ancestor!.ids.length]);
    expect(Math.min(...sizes)).toBe(20);
    expect(Math.max(...sizes)).toBe(21);
    expect(steps.flat().every((s) => s.specialist.ids.length === 28)).toBe(true); // the truth: the whole vocabulary
    expect(steps.length).toBe(80);
  });

  it('share of positions with J > 0 and mean spread match the full distributions within 0.01; J > 0 agrees at ≥ 98% of positions', () => {
    const p = fidelity.positions;
    expect(p.n).toBeGreaterThan(2000);
    expect(Math.abs(p.positiveJSeen - p.positiveJTruth)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(fidelity.meanSpreadSeen - fidelity.meanSpreadTruth)).toBeLessThanOrEqual(0.01);
    expect(fidelity.maxAbsSpreadDelta).toBeLessThanOrEqual(0.05);
    expect(p.positiveJAgreement).toBeGreaterThanOrEqual(0.98);
    expect(p.outsideBounds).toBe(0);
  });

  it('G_cov is negative where the full distributions say so', () => {
    const p = fidelity.positions;
    expect(p.negativeGcovTruth).toBeGreaterThan(20);
    expect(p.negativeGcovKept).toBeGreaterThanOrEqual(0.95);
  });

  // The pre-fix signal code (renormalized, no tolerance) counted 57.3% of these positions as J > 0
  // against the truth's 49.7% (measured once by running it on the same served rollouts).
  it('renormalizing over the returned top-K misses that tolerance: the check has teeth', () => {
    const p = renormalized.positions;
    const misses = [Math.abs(p.positiveJSeen - p.positiveJTruth) > 0.01, Math.abs(renormalized.meanSpreadSeen - renormalized.meanSpreadTruth) > 0.01, p.negativeGcovKept < 0.95];
    expect(misses.some(Boolean), JSON.stringify({ j: [p.positiveJTruth, p.positiveJSeen], kept: p.negativeGcovKept })).toBe(true);
  });
});
