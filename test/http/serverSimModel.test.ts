import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LineageSimulator } from '../../src/simulator/lineageSimulator.js';
import { simPrompts } from '../../src/simulator/simPrompts.js';
import { SIM_MAX_MODEL_LEN, simServedModels } from '../../src/simulator/simServedModel.js';
import { EOS, isToken, MAX_TOKEN_ID, numberToken, word } from '../../src/simulator/vocabulary.js';

describe('the simulator as a ServedModel (what `serve --sim` serves)', () => {
  const sim = new LineageSimulator({ seed: 6 });
  const [specialist] = simServedModels(sim);
  const prompt = simPrompts(1, 2)[0]!.prompt;

  it('is sim-specialist / sim-ancestor, max_model_len 400, EOS as end of sequence, and knows its vocabulary', () => {
    expect(simServedModels(sim).map((m) => [m.id, m.maxModelLen, m.eosId])).toEqual([
      ['sim-specialist', SIM_MAX_MODEL_LEN, EOS],
      ['sim-ancestor', SIM_MAX_MODEL_LEN, EOS],
    ]);
    for (const id of [0, 255, EOS, word(' hmm'), numberToken(0), numberToken(-5), MAX_TOKEN_ID]) expect(isToken(id)).toBe(true);
    for (const id of [-1, 1.5, word(' hmm') + 1, 4095, MAX_TOKEN_ID + 1]) expect(isToken(id)).toBe(false);
  });

  it('scores every prefix exactly as the per-prefix distribution would (property), in one linear pass', () => {
    const ids = specialist!.encode(prompt, true);
    const opening = [word('Step'), numberToken(1), word(':')];
    const pieces = fc.constantFrom(...specialist!.encode(' 12 + 7 = 19.\nStep 2: take 19 * 3 = 57.\nAnswer: 57', true), ...opening, EOS);
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), fc.boolean(), (tail, withOpening) => {
        const sequence = [...ids, ...(withOpening ? opening : []), ...tail];
        const scored = specialist!.scorePrompt(sequence);
        expect(scored).toHaveLength(sequence.length - 1);
        scored.forEach((d, i) => {
          let naive;
          try {
            naive = sim.nextDistribution('specialist', sequence.slice(0, i + 1));
          } catch {
            return; // the per-prefix way can fail on a partial prompt's numbers; the linear one never builds that world
          }
          expect({ ids: Array.from(d.ids), logprobs: Array.from(d.logprobs) }).toEqual({ ids: Array.from(naive.ids), logprobs: Array.from(naive.logprobs) });
        });
      }),
      { numRuns: 60 },
    );
  });

  it('builds one world per generation and asks one distribution per generated position, whatever the length', async () => {
    const ids = specialist!.encode(prompt, true);
    const [g] = await sim.specialist.sample(ids, { temperature: 1, seed: 3, maxTokens: 100, topK: 1 });
    const worlds = vi.spyOn(sim, 'worldOf');
    const dists = vi.spyOn(sim, 'distributionAt');
    specialist!.scorePrompt([...ids, ...g!.tokens]);
    expect(worlds).toHaveBeenCalledTimes(1);
    // Positions inside the prompt and inside "Step 1:" have a fixed next token and need no world.
    expect(dists).toHaveBeenCalledTimes(g!.tokens.length - 3);
    worlds.mockRestore();
    dists.mockRestore();
  });

  it('decodes n sequences together; a finished one leaves the active set', () => {
    const ids = specialist!.encode(prompt, true);
    const session = specialist!.startDecode(ids, 3);
    expect(session.active).toEqual([0, 1, 2]);
    const first = session.next();
    expect(first.map((d) => Array.from(d.ids))).toEqual([[word('Step')], [word('Step')], [word('Step')]]);
    session.push([word('Step'), word('Step'), word('Step')]);
    session.finish(1);
    expect(session.active).toEqual([0, 2]);
    expect(session.next().map((d) => Array.from(d.ids))).toEqual([[numberToken(1)], [numberToken(1)]]);
    expect(() => session.push([1])).toThrow(/one token per active sequence/);
  });
});
