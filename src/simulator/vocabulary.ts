/**
 * The simulator's tokenizer. Ids 0–255 are bytes (so any prompt round-trips), 256+ are word
 * tokens, and NUMBER_BASE+ are whole numbers with a leading space (" 391"), zig-zag encoded so
 * negatives fit: id = NUMBER_BASE + (v ≥ 0 ? 2v : −2v − 1).
 */
export const WORDS = [
  '<|eos|>',
  'Step',
  ':',
  ' =',
  '\n',
  'Answer:',
  ' +',
  ' -',
  ' *',
  // Opening style words of a step.
  ' compute',
  ' take',
  ' evaluate',
  ' work out',
  ' do',
  // Closing style of a step.
  '.',
  ',',
  ';',
  ' ok.',
  ' done.',
  // Rare junk.
  ' um',
  ' hmm',
] as const;

export const WORD_BASE = 256;
export const NUMBER_BASE = 4096;
export const MAX_ABS_NUMBER = 2 ** 29;
export const EOS = WORD_BASE;

const wordId = new Map<string, number>(WORDS.map((w, i) => [w, WORD_BASE + i]));
/** Longest words first, so " work out" wins over shorter prefixes. */
const wordsByLength = [...WORDS].filter((w) => w !== '<|eos|>').sort((a, b) => b.length - a.length);

export function word(w: (typeof WORDS)[number]): number {
  return wordId.get(w)!;
}

export function numberToken(v: number): number {
  if (!Number.isSafeInteger(v) || Math.abs(v) >= MAX_ABS_NUMBER) {
    throw new RangeError(`the simulator's numbers are whole and below ${MAX_ABS_NUMBER} in size, got ${v}`);
  }
  return NUMBER_BASE + (v >= 0 ? 2 * v : -2 * v - 1);
}

/** The largest token id: the number token of MAX_ABS_NUMBER − 1 (zig-zag: 2v). */
export const MAX_TOKEN_ID = NUMBER_BASE + 2 * MAX_ABS_NUMBER - 2;

/** Whether `id` is a token of the simulator's vocabulary: a byte, a word, or a number in range. */
export function isToken(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && (id < WORD_BASE + WORDS.length || (id >= NUMBER_BASE && id <= MAX_TOKEN_ID));
}

/** The number a token stands for, or null if it is not a number token. */
export function tokenNumber(id: number): number | null {
  if (id < NUMBER_BASE) return null;
  const z = id - NUMBER_BASE;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** The text of one token; byte tokens of a multi-byte character decode only in sequence. */
export function tokenText(id: number): string {
  if (id < WORD_BASE) return String.fromCharCode(id);
  if (id === EOS) return '';
  if (id < NUMBER_BASE) {
    const w = WORDS[id - WORD_BASE];
    if (w === undefined) throw new RangeError(`unknown simulator token id ${id}`);
    return w;
  }
  return ` ${tokenNumber(id)}`;
}

export function encode(text: string): number[] {
  const ids: number[] = [];
  const numberAt = / -?\d{1,9}(?!\d)/y;
  const bytes = new TextEncoder();
  let i = 0;
  outer: while (i < text.length) {
    numberAt.lastIndex = i;
    const m = numberAt.exec(text);
    if (m) {
      const v = Number(m[0].slice(1));
      if (Math.abs(v) < MAX_ABS_NUMBER && !(v === 0 && m[0].startsWith(' -'))) {
        ids.push(numberToken(v));
        i += m[0].length;
        continue;
      }
    }
    for (const w of wordsByLength) {
      if (text.startsWith(w, i)) {
        ids.push(wordId.get(w)!);
        i += w.length;
        continue outer;
      }
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    ids.push(...bytes.encode(ch));
    i += ch.length;
  }
  return ids;
}

export function decode(ids: readonly number[]): string {
  let out = '';
  let pending: number[] = [];
  const flush = () => {
    if (pending.length > 0) out += new TextDecoder().decode(new Uint8Array(pending));
    pending = [];
  };
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0) throw new RangeError(`invalid token id ${id}`);
    if (id < WORD_BASE) pending.push(id);
    else {
      flush();
      out += tokenText(id);
    }
  }
  flush();
  return out;
}
