import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, numberToken, tokenNumber, word } from '../../src/simulator/vocabulary.js';
import { problemFromPrompt } from '../../src/simulator/problem.js';

describe('simulator tokenizer', () => {
  it('round-trips any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (s) => {
        expect(decode(encode(s))).toBe(s);
      }),
      { seed: 5 },
    );
  });

  it('uses whole-number and word tokens for reasoning text', () => {
    const ids = encode('Step 1: compute 17 * 23 = 391.\nAnswer: 391');
    expect(ids).toEqual([word('Step'), numberToken(1), word(':'), word(' compute'), numberToken(17), word(' *'), numberToken(23), word(' ='), numberToken(391), word('.'), word('\n'), word('Answer:'), numberToken(391)]);
    expect(tokenNumber(numberToken(-42))).toBe(-42);
    expect(decode([numberToken(-3)])).toBe(' -3');
  });
});

describe('prompt → problem', () => {
  it('takes numbers and written operators left to right', () => {
    const p = problemFromPrompt('Compute 17 * 4 + 45 - 8.');
    expect(p.operands).toEqual([17, 4, 45, 8]);
    expect(p.ops).toEqual(['*', '+', '-']);
    expect(p.values).toEqual([68, 113, 105]);
    expect(p.answer).toBe(105);
    expect(problemFromPrompt('What is 6 times 7?').answer).toBe(42);
  });

  it('is deterministic for a prompt, also without numbers', () => {
    expect(problemFromPrompt('Tell me a story')).toEqual(problemFromPrompt('Tell me a story'));
    expect(problemFromPrompt('Tell me a story').operands).toHaveLength(2);
  });

  it('refuses values beyond its range with a clear error', () => {
    expect(() => problemFromPrompt('999999 * 999999 * 999999')).toThrow(/keeps values below/);
  });
});
