/**
 * A model as a vLLM-dialect server needs it: its tokenizer and its *full* next-token
 * distributions. Sampling (temperature, top-k/top-p/min-p, penalties, seeds) is the server's
 * job, done once for every backend, so a backend only says what the model believes.
 * Implemented by the embedded lineage (a real trained transformer) and by the simulator.
 */

/**
 * Every token with non-zero probability and its raw log-prob (temperature 1, normalized over
 * the whole vocabulary), in canonical order: log-prob descending, then token id ascending.
 * A token absent from `ids` has probability 0.
 */
export interface Distribution {
  readonly ids: ArrayLike<number>;
  readonly logprobs: ArrayLike<number>;
}

/** `n` sequences decoded together after one shared prompt (one prefill, then one step at a time). */
export interface DecodeSession {
  /** Indices (0…n−1) of the sequences still running, in the order `next()` and `push()` use. */
  readonly active: readonly number[];
  /** The full next-token distribution of every active sequence. */
  next(): Distribution[];
  /** Appends one token to every active sequence, in `active` order. */
  push(tokens: readonly number[]): void;
  /** Stops sequence `index` (end of sequence, stop string, or length); it leaves `active`. */
  finish(index: number): void;
  /** Releases what the session holds (KV-cache slots) at once, e.g. when the client goes away. */
  close?(): void;
}

/** Thrown by `encode` for text the tokenizer cannot represent; the message names the character and where. */
export class OutOfVocabularyError extends RangeError {
  override readonly name = 'OutOfVocabularyError';
}

export interface ServedModel {
  /** The served model name, e.g. `arith-specialist`. */
  readonly id: string;
  /** Longest sequence (prompt + generated tokens) the model accepts. */
  readonly maxModelLen: number;
  /** The end-of-sequence token id. */
  readonly eosId: number;
  /** Whether `id` is a token of this model (out-of-vocabulary ids in a request are a 400). */
  isToken(id: number): boolean;
  /** Text → token ids; with `addSpecialTokens` the model's beginning-of-sequence token first. */
  encode(text: string, addSpecialTokens: boolean): number[];
  /** Token ids → text, special tokens skipped (vLLM's skip_special_tokens default). */
  decode(ids: readonly number[]): string;
  /** One token's text, for `decoded_token` and non-id token strings. */
  tokenText(id: number): string;
  /**
   * The full next-token distribution after each prefix ids[0..p), p = 1 … ids.length − 1:
   * what `prompt_logprobs` reports for positions 1 … (position 0 has none). Cost linear in
   * ids.length.
   */
  scorePrompt(ids: readonly number[]): Distribution[];
  /** Starts decoding `n` sequences after `prompt`. */
  startDecode(prompt: readonly number[], n: number): DecodeSession;
}
