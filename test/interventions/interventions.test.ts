import { describe, expect, it } from 'vitest';
import { mixTopK } from '../../src/core/index.js';
import { applyIntervention, INTERVENTION_DEFAULTS, InterventionError } from '../../src/interventions/applyIntervention.js';
import { operatorName, OperatorSpecSchema } from '../../src/interventions/operators.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';

const ln = Math.log;

describe('steering mixes (by hand)', () => {
  const s = { ids: [1, 2], logprobs: [ln(0.8), ln(0.2)] };
  const a = { ids: [2, 3], logprobs: [ln(0.9), ln(0.1)] };

  it('e-geodesic: α·lp_S + (1−α)·lp_A, a missing token at the floor', () => {
    const m = mixTopK(s, a, 'e', 0.5);
    // token 2: ½ln .2 + ½ln .9; tokens 1 and 3 carry ½·(−1000) and lose.
    expect(m.ids[0]).toBe(2);
    expect(m.logprobs[0]).toBeCloseTo(0, 6);
  });

  it('m-geodesic: log(α·p_S + (1−α)·p_A)', () => {
    const m = mixTopK(s, a, 'm', 0.7);
    const p = { 1: 0.7 * 0.8, 2: 0.7 * 0.2 + 0.3 * 0.9, 3: 0.3 * 0.1 };
    expect(m.ids).toEqual([1, 2, 3]);
    expect(Array.from(m.logprobs, Math.exp)).toEqual([p[1], p[2], p[3]].map((x) => expect.closeTo(x, 12)));
  });

  it('α = 1 is the specialist, α = 0 the ancestor', () => {
    expect(mixTopK(s, a, 'm', 1).ids[0]).toBe(1);
    expect(mixTopK(s, a, 'm', 0).ids[0]).toBe(2);
    expect(() => mixTopK(s, a, 'e', 1.5)).toThrow(/alpha/);
  });
});

describe('interventions record what they did', () => {
  const sim = new LineageSimulator({ seed: 3, mix: { demoted: 1 } });
  const ctx = { ...INTERVENTION_DEFAULTS, specialist: sim.specialist, ancestor: sim.ancestor, maxTokens: 128, prompt: [] as number[] };

  it('sparse steer at the junction: keeps the prefix, places the mixed argmax there, then continues', async () => {
    const prompt = await sim.specialist.tokenize('Compute 40 + 2 - 7.');
    const [failed] = await sim.specialist.sample(prompt, { temperature: 0.6, seed: 1, maxTokens: 128, topK: 5 });
    const junction = 19; // the result slot of step 2
    const r = await applyIntervention({ kind: 'sparse_steer', geometry: 'm', position: 'junction' }, { ...ctx, prompt }, { tokens: failed!.tokens, junction }, 0, 7);
    expect(r).toMatchObject({ operator: 'sparse_steer_m', position: junction, geometry: 'm', junctionMode: 'replay' });
    expect(r.tokens.slice(0, junction)).toEqual(failed!.tokens.slice(0, junction));
    expect(r.tokens[junction]).toBe(r.token);
    expect(r.text).toMatch(/Answer: -?\d+$/);
  });

  it('local temperature lift cycles T_local over attempts', async () => {
    const prompt = await sim.specialist.tokenize('Compute 40 + 2 - 7.');
    const failed = { tokens: (await sim.specialist.sample(prompt, { temperature: 0.6, seed: 1, maxTokens: 128, topK: 5 }))[0]!.tokens, junction: 8 };
    const temps = [];
    for (let attempt = 0; attempt < 4; attempt++) temps.push((await applyIntervention({ kind: 'local_temp', tLocal: [1, 1.5, 2], name: 'local_temp' }, { ...ctx, prompt }, failed, attempt, attempt)).tLocal);
    expect(temps).toEqual([1, 1.5, 2, 1]);
  });

  it('steering without an ancestor or a junction is a clear error', async () => {
    const op = OperatorSpecSchema.parse({ kind: 'sparse_steer' });
    await expect(applyIntervention(op, { ...ctx, ancestor: undefined }, { tokens: [1, 2], junction: 1 }, 0, 1)).rejects.toThrow(InterventionError);
    await expect(applyIntervention(op, ctx, { tokens: [1, 2], junction: null }, 0, 1)).rejects.toThrow(/needs the failed rollout's junction/);
  });

  it('operator names are the rescue columns', () => {
    expect(operatorName(OperatorSpecSchema.parse({ kind: 'sparse_steer', position: 'random' }))).toBe('sparse_steer_random');
    expect(operatorName(OperatorSpecSchema.parse({ kind: 'temperature', value: 1.2 }))).toBe('temperature_1p2');
    expect(operatorName(OperatorSpecSchema.parse({ kind: 'dense_steer' }))).toBe('dense_steer');
  });
});
