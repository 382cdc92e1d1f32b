import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/lineage/charTokenizer.js';
import { loadArithLineage } from '../../src/lineage/index.js';
import { OutOfVocabularyError } from '../../src/models/servedModel.js';

const { specialist, manifest } = loadArithLineage();
const tokenizer = new CharTokenizer(manifest.vocab);

describe('the character tokenizer (28 ids, MODEL_CARD.md)', () => {
  it("encodes the card's ids, <bos> first with special tokens", () => {
    expect(tokenizer.encode('0', false)).toEqual([3]);
    expect(tokenizer.encode('9+-*=;:QAnswer \n', true)).toEqual([1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]);
    expect(specialist.encode('', true)).toEqual([1]);
    expect(specialist.encode('', false)).toEqual([]);
  });

  it('decodes, skipping <pad>, <bos> and <eos>', () => {
    expect(specialist.decode([1, 19, 18, 26, 5, 0, 2])).toBe('Q: 2');
    const text = 'Q: 23+45*3-12=\n23+45=68;Answer: -7\n';
    expect(specialist.decode(specialist.encode(text, true))).toBe(text);
    expect(() => specialist.decode([4, 28])).toThrow('token id 28 is not in the vocabulary (0 … 27)');
  });

  it('an out-of-vocabulary character is an OutOfVocabularyError naming it (escaped), where, and the allowed set', () => {
    const attempt = () => specialist.encode('Q: 2+3\t=', true);
    expect(attempt).toThrow(OutOfVocabularyError);
    expect(attempt).toThrow('character "\\t" at position 6 is not in the vocabulary; allowed: "0123456789+-*=;:QAnswer \\n"');
    expect(() => specialist.encode('12 × 3', false)).toThrow('character "×" at position 3');
    expect(() => specialist.encode('a😀', false)).toThrow('character "a" at position 0');
    expect(() => specialist.encode('1😀', false)).toThrow('character "😀" at position 1');
    expect(() => specialist.encode('<bos>', false)).toThrow('character "<" at position 0');
  });

  it('refuses a vocabulary that is not one character per id', () => {
    expect(() => new CharTokenizer(['<pad>', '<bos>', '<eos>', 'ab'])).toThrow('vocab[3] = "ab"');
    expect(() => new CharTokenizer(['<pad>', '<bos>', '<eos>', 'a', 'a'])).toThrow('vocab[4] = "a" repeats vocab[3]');
    expect(() => new CharTokenizer(['<pad>', '<bos>', 'a'])).toThrow('the vocabulary has no <eos> token');
  });
});
