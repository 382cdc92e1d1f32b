import type { Distribution } from '../models/servedModel.js';

/** One token of a position's log-prob dict: its raw log-prob and its rank (1 = most likely). */
export interface LogprobEntry {
  id: number;
  logprob: number;
  rank: number;
}

/** vLLM replaces −∞ by this in every response (serving.py: max(logprob, -9999.0)). */
export const LOGPROB_FLOOR = -9999;

/**
 * A position's log-prob dict as vLLM builds it (v1/engine/logprobs.py, _make_logprob_dict; the
 * sampler puts the chosen token first, then the top-k): the chosen (sampled or actual prompt)
 * token first with its true rank, then the top-k with ranks 1…k; a top-k token equal to the
 * chosen one overwrites the chosen entry in place (a Python dict keeps the first position). So
 * the list has k or k + 1 entries. The rank of the chosen token is the number of tokens whose
 * log-prob is ≥ its own (vLLM's batched_count_greater_than); a token with probability 0 (outside
 * the model's support) gets −∞ and the rank one past the support.
 */
export function positionEntries(dist: Distribution, chosen: number, k: number): LogprobEntry[] {
  const n = dist.ids.length;
  let chosenLogprob = -Infinity;
  for (let i = 0; i < n; i++) {
    if (dist.ids[i] === chosen) {
      chosenLogprob = dist.logprobs[i]!;
      break;
    }
  }
  let rank = 0;
  if (chosenLogprob === -Infinity) rank = n + 1;
  else for (let i = 0; i < n; i++) if (dist.logprobs[i]! >= chosenLogprob) rank++;
  const entries: LogprobEntry[] = [{ id: chosen, logprob: chosenLogprob, rank }];
  for (let j = 0; j < Math.min(k, n); j++) {
    const id = dist.ids[j]!;
    const entry = { id, logprob: dist.logprobs[j]!, rank: j + 1 };
    if (id === chosen) entries[0] = entry;
    else entries.push(entry);
  }
  return entries;
}

/** A log-prob as vLLM sends it: −∞ becomes −9999.0. */
export function clampLogprob(lp: number): number {
  return Math.max(lp, LOGPROB_FLOOR);
}

/** How a token is written in responses: its text, or `token_id:N` with return_tokens_as_token_ids. */
export type TokenNamer = (id: number) => string;

/**
 * `choices[i].logprobs` of a completion, as vLLM's _create_completion_logprobs writes it
 * (completion/serving.py): per position the token's name, its log-prob, and the first k + 1
 * entries of its dict (so the chosen token and the top-k); a position without a dict (the
 * first prompt token under echo) has nulls. text_offset advances by the length of each
 * token's name, as vLLM's does.
 */
export function completionLogprobs(tokens: readonly number[], positions: readonly (readonly LogprobEntry[] | null)[], k: number, name: TokenNamer) {
  const textOffset: number[] = [];
  const outTokens: string[] = [];
  const tokenLogprobs: (number | null)[] = [];
  const topLogprobs: (Record<string, number> | null)[] = [];
  let offset = 0;
  tokens.forEach((id, i) => {
    const entries = positions[i] ?? null;
    const token = name(id);
    outTokens.push(token);
    textOffset.push(offset);
    offset += token.length;
    if (!entries) {
      tokenLogprobs.push(null);
      topLogprobs.push(null);
      return;
    }
    tokenLogprobs.push(clampLogprob(entries.find((e) => e.id === id)?.logprob ?? -Infinity));
    const top: Record<string, number> = {};
    entries.slice(0, k + 1).forEach((e) => (top[name(e.id)] = clampLogprob(e.logprob)));
    topLogprobs.push(top);
  });
  return { text_offset: textOffset, token_logprobs: tokenLogprobs, tokens: outTokens, top_logprobs: topLogprobs };
}

/** One `prompt_logprobs` entry: `{token id: {logprob, rank, decoded_token}}` for every entry of the dict. */
export function promptLogprobsEntry(entries: readonly LogprobEntry[], tokenText: (id: number) => string) {
  const out: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
  for (const e of entries) out[String(e.id)] = { logprob: clampLogprob(e.logprob), rank: e.rank, decoded_token: tokenText(e.id) };
  return out;
}

/**
 * `choices[i].logprobs` of a chat completion (chat_completion/serving.py, _create_chat_logprobs
 * and _get_top_logprobs): per token its name, log-prob and UTF-8 bytes, and as top_logprobs the
 * first k entries of its dict — which start with the chosen token, so when it ranks below k the
 * list holds it and the top k − 1.
 */
export function chatLogprobs(tokens: readonly number[], positions: readonly (readonly LogprobEntry[])[], k: number, name: TokenNamer) {
  const item = (id: number, lp: number) => {
    const token = name(id);
    return { token, logprob: clampLogprob(lp), bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: tokens.map((id, i) => {
      const entries = positions[i]!;
      return { ...item(id, entries.find((e) => e.id === id)?.logprob ?? -Infinity), top_logprobs: entries.slice(0, k).map((e) => item(e.id, e.logprob)) };
    }),
  };
}
