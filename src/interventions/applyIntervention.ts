import { DEFAULTS } from '../core/defaults.js';
import { type Geometry, mixTopK } from '../core/steering/mixTopK.js';
import { TokenSignalComputer, type TopKSlice } from '../core/tokens/tokenSignals.js';
import { sampleIndex } from '../models/sampleToken.js';
import { type Random, seededRandom, seedOf } from '../core/random/seededRandom.js';
import type { TokenModel } from '../models/tokenModel.js';
import { operatorName, type OperatorSpec } from './operators.js';

export interface InterventionContext {
  specialist: TokenModel;
  /** Needed by the steers and by the online junction detector. */
  ancestor?: TokenModel | undefined;
  /** The prompt's token ids. */
  prompt: readonly number[];
  /** Sampling temperature T of the specialist. */
  temperature: number;
  maxTokens: number;
  topK: number;
  /** Specialist weight α of the mixes. */
  alpha: number;
  /** After the intervention: sample S at T, or decode greedily (isolates the intervention). */
  continuation: 'temperature' | 'greedy';
  /**
   * Where junction operators act: 'replay' keeps the failed rollout's tokens before its junction
   * j* (argmax J) and acts there; 'online' re-decodes from the prompt and acts at the first
   * position whose J exceeds `onlineThreshold`.
   */
  junction: 'replay' | 'online';
  onlineThreshold: number;
}

export const INTERVENTION_DEFAULTS = {
  temperature: DEFAULTS.temperature,
  topK: 20,
  alpha: DEFAULTS.alpha,
  continuation: 'temperature',
  junction: 'replay',
  onlineThreshold: 1.0,
} as const;

/** A failed rollout as the interventions need it: its tokens and its junction (if scored). */
export interface FailedTrace {
  tokens: readonly number[];
  /** Index of j* in `tokens`, from the rollout summary; null when it had no ancestor scores. */
  junction: number | null;
}

/** What an intervention did, so a report can show it. */
export interface InterventionResult {
  operator: string;
  tokens: number[];
  text: string;
  /** Index in the generated tokens where it acted; null for retry, temperature and dense steer. */
  position: number | null;
  /** The token it placed there. */
  token: number | null;
  geometry?: Geometry;
  tLocal?: number;
  junctionMode?: 'replay' | 'online';
  /** True when the online detector found no position above its threshold (a plain resample). */
  noJunctionFound?: boolean;
  seed: number;
}

/** Raised when an operator cannot run with what it was given (e.g. a steer without an ancestor). */
export class InterventionError extends Error {
  override readonly name = 'InterventionError';
}

/** Applies one attempt (0-based `attempt`) of an operator to a failed rollout. */
export async function applyIntervention(
  op: OperatorSpec,
  ctx: InterventionContext,
  failed: FailedTrace,
  attempt: number,
  seed: number,
): Promise<InterventionResult> {
  const name = operatorName(op);
  const random = seededRandom(seedOf('intervention', seed));
  const base = { operator: name, seed };
  switch (op.kind) {
    case 'retry':
    case 'temperature': {
      const t = op.kind === 'retry' ? ctx.temperature : op.value;
      const [g] = await ctx.specialist.sample(ctx.prompt, { temperature: t, seed, maxTokens: ctx.maxTokens, topK: 1 });
      return { ...base, tokens: g!.tokens, text: g!.text, position: null, token: null };
    }
    case 'dense_steer':
      return { ...base, ...(await denseSteer(ctx, requireAncestor(ctx, name), op.geometry, random)), position: null, token: null, geometry: op.geometry };
    case 'local_temp':
    case 'sparse_steer': {
      const tLocal = op.kind === 'local_temp' ? op.tLocal[attempt % op.tLocal.length]! : undefined;
      const geometry = op.kind === 'sparse_steer' ? op.geometry : undefined;
      const choose = async (prefix: readonly number[]): Promise<number> => {
        const s = await ctx.specialist.nextTopK(prefix, ctx.topK);
        if (tLocal !== undefined) return s.ids[sampleIndex(s.logprobs, tLocal, random)]!;
        const a = await requireAncestor(ctx, name).nextTopK(prefix, ctx.topK);
        const mixed = mixTopK(s, a, geometry!, ctx.alpha);
        return mixed.ids[0]!;
      };
      const extra = { ...(tLocal !== undefined ? { tLocal } : {}), ...(geometry ? { geometry } : {}) };
      if (op.kind === 'sparse_steer' && op.position === 'random') {
        const position = Math.floor(random.uniform() * Math.max(1, failed.tokens.length - 1));
        return { ...base, ...extra, ...(await actAt(ctx, failed.tokens.slice(0, position), choose, seed)), position };
      }
      if (ctx.junction === 'online') {
        return { ...base, ...extra, junctionMode: 'online', ...(await actOnline(ctx, requireAncestor(ctx, `${name} (online junction)`), choose, random, seed)) };
      }
      if (failed.junction === null) {
        throw new InterventionError(`${name} needs the failed rollout's junction: score the rollouts under an ancestor (or use junction: online)`);
      }
      const position = Math.min(failed.junction, failed.tokens.length);
      return { ...base, ...extra, junctionMode: 'replay', ...(await actAt(ctx, failed.tokens.slice(0, position), choose, seed)), position };
    }
  }
}

function requireAncestor(ctx: InterventionContext, what: string): TokenModel {
  if (!ctx.ancestor) throw new InterventionError(`${what} needs an ancestor model: configure one, or drop this operator`);
  return ctx.ancestor;
}

/** Keeps `kept` generated tokens, places `choose`'s token next, then continues S. */
async function actAt(
  ctx: InterventionContext,
  kept: readonly number[],
  choose: (prefix: readonly number[]) => Promise<number>,
  seed: number,
): Promise<{ tokens: number[]; text: string; token: number }> {
  const prefix = [...ctx.prompt, ...kept];
  const token = await choose(prefix);
  const tokens = [...kept, token];
  if (!ctx.specialist.isStop(token) && tokens.length < ctx.maxTokens) {
    const [g] = await ctx.specialist.sample([...prefix, token], {
      temperature: ctx.continuation === 'greedy' ? 0 : ctx.temperature,
      seed,
      maxTokens: ctx.maxTokens - tokens.length,
      topK: 1,
    });
    tokens.push(...g!.tokens);
  }
  return { tokens, text: await ctx.specialist.detokenize(tokens), token };
}

/** Re-decodes S token by token and acts at the first position whose J exceeds the threshold. */
async function actOnline(
  ctx: InterventionContext,
  ancestor: TokenModel,
  choose: (prefix: readonly number[]) => Promise<number>,
  random: Random,
  seed: number,
): Promise<{ tokens: number[]; text: string; token: number | null; position: number | null; noJunctionFound?: boolean }> {
  const signals = new TokenSignalComputer({ temperature: ctx.temperature });
  const generated: number[] = [];
  while (generated.length < ctx.maxTokens) {
    const prefix = [...ctx.prompt, ...generated];
    const [s, a] = await Promise.all([ctx.specialist.nextTopK(prefix, ctx.topK), ancestor.nextTopK(prefix, ctx.topK)]);
    const token = s.ids[sampleIndex(s.logprobs, ctx.temperature, random)]!;
    const j = signals.compute({ token, specialist: s, ancestor: a }, generated.length).j;
    if (j > ctx.onlineThreshold) {
      const position = generated.length;
      return { ...(await actAt(ctx, generated, choose, seed)), position };
    }
    generated.push(token);
    if (ctx.specialist.isStop(token)) break;
  }
  return { tokens: generated, text: await ctx.specialist.detokenize(generated), token: null, position: null, noJunctionFound: true };
}

/** Decodes from the prompt with the S/A mix at every position. */
async function denseSteer(
  ctx: InterventionContext,
  ancestor: TokenModel,
  geometry: Geometry,
  random: Random,
): Promise<{ tokens: number[]; text: string }> {
  const tokens: number[] = [];
  while (tokens.length < ctx.maxTokens) {
    const prefix = [...ctx.prompt, ...tokens];
    const [s, a] = await Promise.all([ctx.specialist.nextTopK(prefix, ctx.topK), ancestor.nextTopK(prefix, ctx.topK)]);
    const mixed: TopKSlice = mixTopK(s, a, geometry, ctx.alpha);
    const token = mixed.ids[sampleIndex(mixed.logprobs, ctx.continuation === 'greedy' ? 0 : ctx.temperature, random)]!;
    tokens.push(token);
    if (ctx.specialist.isStop(token)) break;
  }
  return { tokens, text: await ctx.specialist.detokenize(tokens) };
}
