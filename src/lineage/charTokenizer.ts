import { OutOfVocabularyError } from '../models/servedModel.js';

/**
 * A character-level tokenizer: id i is `vocab[i]`; entries written `<…>` are special tokens
 * (no text of their own: `<pad>`, `<bos>`, `<eos>`), every other entry is one character.
 */
export class CharTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  private readonly ids = new Map<string, number>();
  private readonly special: boolean[];

  constructor(readonly vocab: readonly string[]) {
    this.special = vocab.map((t) => /^<.+>$/.test(t));
    vocab.forEach((t, id) => {
      if (this.special[id]) return;
      if ([...t].length !== 1) throw new RangeError(`vocab[${id}] = ${JSON.stringify(t)}: a character-level vocabulary holds one character per id (or a <special> token)`);
      if (this.ids.has(t)) throw new RangeError(`vocab[${id}] = ${JSON.stringify(t)} repeats vocab[${this.ids.get(t)}]`);
      this.ids.set(t, id);
    });
    this.bosId = this.specialId('<bos>');
    this.eosId = this.specialId('<eos>');
  }

  get size(): number {
    return this.vocab.length;
  }

  isToken(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.vocab.length;
  }

  isSpecial(id: number): boolean {
    return this.special[id] === true;
  }

  /**
   * Text → ids, `<bos>` first with `addSpecialTokens`. A character outside the vocabulary throws
   * an OutOfVocabularyError naming it (escaped), its position (in characters) and the allowed set.
   */
  encode(text: string, addSpecialTokens: boolean): number[] {
    const out: number[] = addSpecialTokens ? [this.bosId] : [];
    let position = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new OutOfVocabularyError(
          `character ${JSON.stringify(ch)} at position ${position} is not in the vocabulary; allowed: ${JSON.stringify([...this.ids.keys()].join(''))}`,
        );
      }
      out.push(id);
      position++;
    }
    return out;
  }

  /** Ids → text, special tokens skipped. An id outside the vocabulary throws a RangeError naming it. */
  decode(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) {
      if (!this.isToken(id)) throw new RangeError(`token id ${id} is not in the vocabulary (0 … ${this.vocab.length - 1})`);
      if (!this.special[id]) text += this.vocab[id];
    }
    return text;
  }

  /** One token's text; a special token's is its name, e.g. `<eos>`. */
  tokenText(id: number): string {
    if (!this.isToken(id)) throw new RangeError(`token id ${id} is not in the vocabulary (0 … ${this.vocab.length - 1})`);
    return this.vocab[id]!;
  }

  private specialId(name: string): number {
    const id = this.vocab.indexOf(name);
    if (id < 0) throw new RangeError(`the vocabulary has no ${name} token`);
    return id;
  }
}
