/**
 * A request that does not fit the model's context: `needed` positions (prompt plus tokens to
 * generate or score) against `maxModelLen`. Callers turn it into vLLM's 400 or clamp max tokens.
 */
export class ContextLengthError extends RangeError {
  override readonly name = 'ContextLengthError';
  constructor(
    readonly model: string,
    readonly promptLength: number,
    readonly newTokens: number,
    readonly maxModelLen: number,
  ) {
    super(
      newTokens > 0
        ? `${model}: the prompt (${promptLength} tokens) plus ${newTokens} more tokens is ${promptLength + newTokens}, over the model's context of ${maxModelLen} tokens; use at most ${Math.max(0, maxModelLen - promptLength)} new tokens`
        : `${model}: the sequence (${promptLength} tokens) is longer than the model's context of ${maxModelLen} tokens`,
    );
  }
}
