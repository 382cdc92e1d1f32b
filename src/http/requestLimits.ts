import type { IncomingMessage } from 'node:http';
import { OutOfVocabularyError, type ServedModel } from '../models/servedModel.js';
import { ServerError, validationError } from './serverErrors.js';

/** Default cap on a request body: far above any prompt a served model can take (the sim: 400 tokens). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Characters allowed per token before a text prompt is rejected without tokenizing it (vLLM's
 * renderer guard, renderers/params.py `_text_len_check`, VLLM_MAX_CHARS_PER_TOKEN; its default
 * value is not confirmed here). The simulator's longest token is 10 characters.
 */
export const MAX_CHARS_PER_TOKEN = 16;

/** The request body is over the limit: answered 413 before it is parsed. */
export class BodyTooLargeError extends ServerError {
  constructor(limit: number, got: string) {
    super(413, `request body is ${got}, over this server's limit of ${limit} bytes; send a shorter prompt (or start the server with a larger --max-body-bytes)`, 'Content Too Large');
  }
}

/**
 * Reads a request body, refusing more than `limit` bytes: a declared Content-Length over it is
 * refused before reading; a chunked body is counted as it arrives and refused at the first byte
 * past it (the rest is drained unread, so the client still gets the 413).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return reject(new BodyTooLargeError(limit, `${declared} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new BodyTooLargeError(limit, `over ${limit} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** vLLM's validate_json_request (serve/utils/api_utils.py): POST bodies must be application/json. */
export function checkJsonContentType(req: IncomingMessage): void {
  const media = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') {
    throw new ServerError(400, "1 validation error:\n  Unsupported Media Type: Only 'application/json' is allowed", 'Bad Request');
  }
}

/**
 * vLLM's TokenizeParams check of the output budget (renderers/params.py __post_init__), message
 * verbatim — the missing space and the doubled `max_total_tokens=` are vLLM's own f-string.
 */
export function checkOutputBudget(maxTokens: number, maxModelLen: number): void {
  if (maxTokens > maxModelLen) {
    throw validationError(`max_tokens=${maxTokens}cannot be greater than max_model_len=max_total_tokens=${maxModelLen}. Please request fewer output tokens.`, 'max_tokens', maxTokens);
  }
}

/** vLLM's `_text_len_check`: a text prompt too long to possibly fit is refused before tokenizing. */
export function checkTextLength(text: string, maxOutputTokens: number, maxModelLen: number): void {
  const maxInput = maxModelLen - maxOutputTokens;
  const maxChars = maxInput * MAX_CHARS_PER_TOKEN;
  if (text.length > maxChars) {
    throw validationError(
      `You passed ${text.length} input characters and requested ${maxOutputTokens} output tokens. However, the model's context length is only ${maxModelLen} tokens, resulting in a maximum input length of ${maxInput} tokens (at most ${maxChars} characters). Please reduce the length of the input prompt.`,
      'input_text',
      text.length,
    );
  }
}

/** vLLM's `_token_len_check`: prompt tokens beyond max_model_len − max_tokens are refused. */
export function checkTokenLength(count: number, maxOutputTokens: number, maxModelLen: number): void {
  const maxInput = maxModelLen - maxOutputTokens;
  if (count > maxInput) {
    throw validationError(
      `You passed ${count} input tokens and requested ${maxOutputTokens} output tokens. However, the model's context length is only ${maxModelLen} tokens, resulting in a maximum input length of ${maxInput} tokens. Please reduce the length of the input prompt.`,
      'input_tokens',
      count,
    );
  }
}

/** vLLM's input processor check: "Token id N is out of vocabulary" (the first such id here). */
export function checkTokenIds(model: ServedModel, ids: readonly number[], field = 'prompt'): void {
  for (const id of ids) {
    if (!model.isToken(id)) throw new ServerError(400, `Token id ${id} is out of vocabulary`, 'BadRequestError', field);
  }
}

/** Encodes text; a character the tokenizer cannot represent is a 400 naming it (the model's message). */
export function encodeOrReject(model: ServedModel, text: string, addSpecialTokens: boolean, field = 'prompt'): number[] {
  try {
    return model.encode(text, addSpecialTokens);
  } catch (err) {
    if (err instanceof OutOfVocabularyError) throw new ServerError(400, `${field}: ${err.message}`, 'BadRequestError', field);
    throw err;
  }
}

/**
 * vLLM's SamplingParams._validate_logprobs (sampling_params.py): sample and prompt log-probs
 * above max_logprobs are refused, with its messages.
 */
export function checkLogprobCaps(sample: number | null, prompt: number | null, maxLogprobs: number): void {
  if (maxLogprobs === -1) return; // vLLM: --max-logprobs -1 allows the whole vocabulary
  const over = (v: number | null) => v !== null && (v === -1 || v > maxLogprobs);
  const shown = (v: number) => (v === -1 ? 'the whole vocabulary (-1)' : String(v));
  if (over(sample)) {
    throw validationError(`Requested sample logprobs of ${shown(sample!)}, which is greater than max allowed: ${maxLogprobs}`, 'logprobs', sample);
  }
  if (over(prompt)) {
    throw validationError(`Requested prompt logprobs of ${shown(prompt!)}, which is greater than max allowed: ${maxLogprobs}`, 'prompt_logprobs', prompt);
  }
}

/** The protocol's own check (completion/protocol.py check_logprobs): −1 or ≥ 0. −1 (the whole vocabulary) then fails the cap. */
export function checkLogprobsSign(field: 'logprobs' | 'prompt_logprobs', value: unknown): void {
  if (value == null) return;
  if (typeof value !== 'number') throw validationError(`\`${field}\` must be an integer.`, field, value);
  if (value < 0 && value !== -1) throw validationError(`\`${field}\` must be a positive value or -1.`, field, value);
}
