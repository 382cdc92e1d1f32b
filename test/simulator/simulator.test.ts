import { describe, expect, it } from 'vitest';
import { extractAnswer } from '../../src/core/index.js';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { MECHANISMS, parseMix } from '../../src/simulator/mechanisms.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';

const params = { temperature: 0.6, seed: 11, maxTokens: 128, topK: 20, n: 6 };

describe('lineage simulator', () => {
  it('writes readable reasoning that ends in a gradeable answer', async () => {
    const sim = new LineageSimulator({ seed: 1, mix: { easy: 1 } });
    const prompt = 'Compute 17 * 4 + 45 - 8.';
    const [g] = await sim.specialist.sample(await sim.specialist.tokenize(prompt), { ...params, n: 1 });
    expect(g!.text).toMatch(/^Step 1: \w[\w ]* 17 \* 4 = 68[.,;]?( ok\.| done\.)?\nStep 2: .*\nStep 3: .*\nAnswer: 105$/);
    expect(extractAnswer(g!.text)).toBe('105');
    expect(g!.finishReason).toBe('stop');
  });

  it('is deterministic under (world seed, prompt, request seed) and varies with the request seed', async () => {
    const a = new LineageSimulator({ seed: 4 });
    const b = new LineageSimulator({ seed: 4 });
    const ids = await a.specialist.tokenize(simPrompts(1, 3)[0]!.prompt);
    expect(await a.specialist.sample(ids, params)).toEqual(await b.specialist.sample(ids, params));
    // Sample i uses seed + i (vLLM's convention): seeds 11…16 here, 17…22 for the other request.
    const other = await a.specialist.sample(ids, { ...params, seed: 11 + params.n });
    expect(other.map((g) => g.text)).not.toEqual((await a.specialist.sample(ids, params)).map((g) => g.text));
  });

  it('scores a rollout under the ancestor with the taken token always present', async () => {
    const sim = new LineageSimulator({ seed: 2 });
    const ids = await sim.specialist.tokenize('Compute 12 + 30 - 5.');
    const [g] = await sim.specialist.sample(ids, { ...params, n: 1 });
    const scores = await sim.ancestor.score(ids, g!.tokens, 5);
    expect(scores).toHaveLength(g!.tokens.length);
    scores.forEach((s, t) => expect(Array.from(s.ids)).toContain(g!.tokens[t]));
  });

  it('never writes its mechanism into what a user sees', async () => {
    const sim = new LineageSimulator({ seed: 9 });
    const texts: string[] = [];
    for (const p of simPrompts(30, 9)) {
      const gens = await sim.specialist.sample(await sim.specialist.tokenize(p.prompt), params);
      texts.push(...gens.map((g) => g.text + JSON.stringify(g)));
    }
    const all = texts.join('\n').toLowerCase();
    for (const m of MECHANISMS) expect(all).not.toContain(m);
  });

  it('plants mechanisms by the configured mix', () => {
    const sim = new LineageSimulator({ seed: 1, mix: parseMix('demoted=1') });
    const counts = simPrompts(40, 1).map((p) => sim.groundTruth(p.prompt).mechanism);
    expect(new Set(counts)).toEqual(new Set(['demoted']));
    expect(() => parseMix('demoted')).toThrow(/not name=weight/);
    expect(() => parseMix('wizard=1')).toThrow(/names: easy, unlucky/);
    expect(() => parseMix('easy=0')).toThrow(/at least one positive weight/);
  });
});
