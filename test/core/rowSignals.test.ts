import { describe, expect, it } from 'vitest';
import type { RolloutSummary } from '../../src/core/contracts/rollout.js';
import { rowSignals } from '../../src/core/signals/rowSignals.js';

const summary = (spread: number, concentration: number, logitDispersion: number, meanEntropy: number): RolloutSummary => ({
  scoredPositions: 10, pairedPositions: 10, skippedPositions: 0, junction: 3, maxJ: 1, meanJ: 0.1, spread, concentration, logitDispersion,
  meanDeltaPath: 0, meanGcov: 0, meanKl: 0, meanEntropy, meanLogprob: -0.5, minWindowConfidence: 2, dispersionAtMinConfidence: -1,
});

describe('rowSignals', () => {
  const rollouts = [
    { passed: true, answer: '7', summary: summary(0.9, 9, 9, 9) },
    { passed: false, answer: '8', summary: summary(0.2, 1.0, -1.0, 0.4) },
    { passed: false, answer: '8', summary: summary(0.4, 2.0, -2.0, 0.2) },
    { passed: false, answer: '9', summary: null },
  ];

  it('computes every signal over the failed rollouts, by hand', () => {
    const s = rowSignals(rollouts, { withAncestor: true, ancestorPassed: [true, false, false, false] });
    expect(s.n_rollouts).toBe(4);
    expect(s.n_passed).toBe(1);
    expect(s.pass_rate).toBe(0.25);
    expect(s.spread).toBeCloseTo(0.3, 12); // (0.2 + 0.4) / 2: the passing rollout and the unscored one are out
    expect(s.concentration).toBeCloseTo(1.5, 12);
    expect(s.logit_dispersion).toBeCloseTo(-1.5, 12);
    expect(s.mean_token_entropy).toBeCloseTo(0.3, 12);
    expect(s.ancestor_pass_rate).toBe(0.25);
    // Failed answers 8, 8, 9: H = −(2/3 ln 2/3 + 1/3 ln 1/3), wrong-mode share 2/3.
    expect(s.answer_entropy).toBeCloseTo(-((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3)), 12);
    expect(s.wrong_mode_share).toBeCloseTo(2 / 3, 12);
  });

  it('says "not measured" (null) without an ancestor, without ancestor samples, and without failures', () => {
    const s = rowSignals(rollouts, { withAncestor: false });
    expect([s.spread, s.concentration, s.logit_dispersion, s.ancestor_pass_rate]).toEqual([null, null, null, null]);
    expect(s.mean_token_entropy).toBeCloseTo(0.3, 12);
    const solved = rowSignals([rollouts[0]!], { withAncestor: true, ancestorPassed: [] });
    expect(solved.pass_rate).toBe(1);
    expect([solved.spread, solved.answer_entropy, solved.mean_logprob, solved.ancestor_pass_rate]).toEqual([null, null, null, null]);
  });
});
