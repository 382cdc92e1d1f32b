import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RolloutProviderConfigSchema } from '../../src/promptfoo/providerConfig.js';
import { MECHANISMS, MixSchema, parseMix } from '../../src/simulator/mechanisms.js';

describe('MixSchema: the mechanism mix as an object or as the CLI string', () => {
  it('the string form reads to the same object', () => {
    expect(MixSchema.parse('easy=0.25, demoted=0.75')).toEqual({ easy: 0.25, demoted: 0.75 });
    expect(MixSchema.parse({ easy: 0.25, demoted: 0.75 })).toEqual({ easy: 0.25, demoted: 0.75 });
  });

  it('property: any mix written as "name=weight,…" parses to itself', () => {
    const mix = fc.dictionary(fc.constantFrom(...MECHANISMS), fc.double({ min: 0, max: 1e6, noNaN: true }), { minKeys: 1 }).filter((m) => Object.values(m).some((v) => v > 0));
    fc.assert(
      fc.property(mix, (m) => {
        const text = Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',');
        expect(MixSchema.parse(text)).toEqual(MixSchema.parse(m));
      }),
    );
  });

  it.each([
    ['easy=1e308,beyond=1e308', /the weights are too large to add up \(their sum overflows\)/],
    ['easy=1,easy=2', /"easy" is given twice/],
    ['wizard=1', /unknown mechanism "wizard"/],
    ['easy=-1', /easy: a weight is 0 or more/],
    ['easy=0', /at least one positive weight/],
    ['easy', /"easy" is not name=weight/],
    ['easy=1=2', /"easy=1=2" is not name=weight/],
  ])('%s is a named --mix error', (text, message) => {
    expect(() => parseMix(text)).toThrow(message);
    expect(() => parseMix(text)).toThrow(/^--mix: /);
  });

  it('in the provider config, the string form works and a bad one names the field', () => {
    const ok = RolloutProviderConfigSchema.parse({ specialist: { type: 'sim', mix: 'easy=0.25,beyond=0.75' } });
    expect(ok.specialist).toMatchObject({ type: 'sim', mix: { easy: 0.25, beyond: 0.75 } });
    const bad = RolloutProviderConfigSchema.safeParse({ specialist: { type: 'sim', mix: 'easy=1,easy=1' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['specialist', 'mix']);
    expect(bad.error!.issues[0]!.message).toMatch(/"easy" is given twice/);
    const huge = RolloutProviderConfigSchema.safeParse({ specialist: { type: 'sim', mix: { easy: 1e308, beyond: 1e308 } } });
    expect(huge.error!.issues[0]!.message).toMatch(/overflows/);
  });
});
