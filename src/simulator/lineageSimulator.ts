import type { TopKSlice } from '../core/tokens/tokenSignals.js';
import { canonicalTopK } from '../models/canonicalTopK.js';
import { sampleIndex } from '../models/sampleToken.js';
import { seededRandom, seedOf, type Random } from '../core/random/seededRandom.js';
import type { Generation, SampleParams, TokenModel } from '../models/tokenModel.js';
import { DEFAULT_MIX, type Mechanism, type Mix, MixSchema, type Plant, plantMechanism } from './mechanisms.js';
import { type Problem, problemFromPrompt } from './problem.js';
import { decode, encode, EOS, numberToken, tokenNumber, word } from './vocabulary.js';

export type Role = 'specialist' | 'ancestor';

export interface SimulatorOptions {
  /** Seed of the simulated world: which mechanism each prompt gets, and its parameters. */
  seed?: number;
  /** Population mix of mechanisms. */
  mix?: Mix;
}

/** What a problem really is. Only for validation tests: never in rollouts, metadata or HTTP. */
export interface GroundTruth {
  mechanism: Mechanism;
  junctionStep: number;
  affectedSteps: number[];
  answer: number;
  steps: number;
}

const STEP_SLOTS = 11;
const OPEN_STYLES = [' compute', ' take', ' evaluate', ' work out', ' do'] as const;
const CLOSE_STYLES = ['.', ',', ';', ' ok.', ' done.'] as const;
const JUNK = [word(' um'), word(' hmm')];
/** Log-prob reported for a token outside the model's support (vLLM reports a finite value). */
const OUT_OF_SUPPORT = -9999;

export interface World {
  problem: Problem;
  plant: Plant;
  seed: number;
}

interface Logits {
  ids: number[];
  logits: number[];
}

/**
 * A specialist/ancestor pair with explicit logits over a small vocabulary. A prompt maps to an
 * arithmetic problem (its numbers and operators); a rollout works it step by step
 * ("Step 1: compute 17 * 23 = 391.") and ends with "Answer: N". Only the result of each step is
 * a real decision; everything else is template or style. A step computes from the operand the
 * model itself wrote, so an early slip propagates to a wrong final answer.
 *
 * Failure mechanisms are planted per problem (mechanisms.ts) and act only through the logits:
 * - unlucky: the right result leads by a small margin in S and A → retry rescues.
 * - demoted: at one step S ranks a wrong result above the right one, which A strongly prefers
 *   → a sparse steer toward A at that step flips it; retry rarely does.
 * - deformed: S mildly demotes the right result at every step and A's style drifts from S's
 *   everywhere → only a dense steer fixes all steps at once.
 * - temperature: at one step the right result is a close second behind a wrong one, in a flat
 *   neighbourhood; A prefers the right one only mildly → a local temperature lift reaches it,
 *   a steer toward A does not.
 * - beyond: neither S nor A has the right result in its support → nothing rescues.
 * Everything is deterministic under (world seed, prompt, request seed).
 */
export class LineageSimulator {
  readonly specialist: TokenModel;
  readonly ancestor: TokenModel;
  readonly seed: number;
  private readonly mix: Mix;
  private readonly worlds = new Map<string, World>();

  constructor(options: SimulatorOptions = {}) {
    this.seed = options.seed ?? 0;
    this.mix = MixSchema.parse(options.mix ?? DEFAULT_MIX);
    this.specialist = new SimulatedModel(this, 'specialist');
    this.ancestor = new SimulatedModel(this, 'ancestor');
  }

  /** The planted truth of a prompt's problem. For validation only. */
  groundTruth(prompt: string): GroundTruth {
    const w = this.world(decode(encode(prompt)));
    return {
      mechanism: w.plant.mechanism,
      junctionStep: w.plant.junctionStep,
      affectedSteps: [...w.plant.affectedSteps],
      answer: w.problem.answer,
      steps: w.problem.ops.length,
    };
  }

  /** Splits a token sequence into the user's prompt and the generation so far. */
  split(sequence: readonly number[]): { prompt: number[]; generated: number[] } {
    const start = generationStart(sequence);
    return { prompt: sequence.slice(0, start), generated: sequence.slice(start) };
  }

  /** Log-probs (temperature 1, full support) of the next token after `sequence`, sorted. */
  nextDistribution(role: Role, sequence: readonly number[]): TopKSlice {
    const { prompt, generated } = this.split(sequence);
    return this.distributionAt(role, this.worldOf(prompt), generated);
  }

  /** The world (problem and plant) of a prompt given as token ids. */
  worldOf(prompt: readonly number[]): World {
    return this.world(decode(prompt));
  }

  /** The next-token distribution after `generated` tokens of a generation in `world`. */
  distributionAt(role: Role, world: World, generated: readonly number[]): TopKSlice {
    const { ids, logits } = this.logits(role, world, generated);
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
    const order = ids.map((_, i) => i).sort((a, b) => logits[b]! - logits[a]! || ids[a]! - ids[b]!);
    return { ids: order.map((i) => ids[i]!), logprobs: order.map((i) => logits[i]! - lse) };
  }

  private world(promptText: string): World {
    let w = this.worlds.get(promptText);
    if (!w) {
      const problem = problemFromPrompt(promptText);
      const seed = seedOf('world', this.seed, promptText);
      w = { problem, plant: plantMechanism(seed, problem.ops.length, this.mix), seed };
      if (this.worlds.size > 50_000) this.worlds.clear();
      this.worlds.set(promptText, w);
    }
    return w;
  }

  private logits(role: Role, world: World, generated: readonly number[]): Logits {
    const { problem, plant } = world;
    const steps = problem.ops.length;
    const slot = generated.length;
    const total = steps * STEP_SLOTS + 3;
    if (slot >= total) return fixed(EOS);
    if (slot >= steps * STEP_SLOTS) {
      const k = slot - steps * STEP_SLOTS;
      if (k === 0) return this.template(role, world, slot, word('Answer:'));
      if (k === 1) return copy(emittedValue(generated, steps - 1, problem));
      return fixed(EOS);
    }
    // "Step 1:" always opens a generation: the split between prompt and generation relies on it.
    if (slot < 3) return fixed(OPENING[slot]!);
    const step = Math.floor(slot / STEP_SLOTS);
    const inStep = slot % STEP_SLOTS;
    const opWord = { '+': word(' +'), '-': word(' -'), '*': word(' *') }[problem.ops[step]!];
    switch (inStep) {
      case 0:
        return this.template(role, world, slot, word('Step'));
      case 1:
        return this.template(role, world, slot, numberToken(step + 1));
      case 2:
        return this.template(role, world, slot, word(':'));
      case 3:
        return this.style(role, world, slot, step, OPEN_STYLES.map((s) => word(s)));
      case 4:
        return step === 0 ? this.template(role, world, slot, numberToken(problem.operands[0]!)) : copy(emittedValue(generated, step - 1, problem));
      case 5:
        return this.template(role, world, slot, opWord);
      case 6:
        return this.template(role, world, slot, numberToken(problem.operands[step + 1]!));
      case 7:
        return this.template(role, world, slot, word(' ='));
      case 8:
        return this.decision(role, world, slot, step, generated);
      case 9:
        return this.style(role, world, slot, step, CLOSE_STYLES.map((s) => word(s)));
      default:
        return this.template(role, world, slot, word('\n'));
    }
  }

  /** A template token: near-certain in both models; in deformed problems A drifts on some. */
  private template(role: Role, world: World, slot: number, token: number): Logits {
    const r = slotRandom(world, slot, 'template');
    const drifts = world.plant.mechanism === 'deformed' ? r.uniform() < r.between(0.3, 0.9) : r.uniform() < 0.1;
    const drift = role === 'ancestor' && drifts ? world.plant.styleDrift * (1 + Math.abs(r.gaussian())) : 0;
    return { ids: [token, ...JUNK], logits: [0, -9 + drift, -9.5 + drift] };
  }

  /** A style choice: one dominant option (peaked) or, near a temperature junction, a flat spread. */
  private style(role: Role, world: World, slot: number, step: number, options: number[]): Logits {
    const { plant } = world;
    const r = slotRandom(world, slot, 'style');
    const dominant = Math.floor(r.uniform() * options.length);
    const nearJunction = plant.mechanism === 'temperature' && Math.abs(step - plant.junctionStep) <= 1;
    const spread = nearJunction ? r.between(0.3, 1.5) : r.between(3, 6);
    const base = options.map((_, i) => (i === dominant ? 0 : -spread * r.between(0.5, 1.5)));
    if (role === 'specialist') return { ids: options, logits: base };
    const a = slotRandom(world, slot, 'style-ancestor');
    return { ids: options, logits: base.map((z) => z + plant.styleDrift * a.gaussian() + plant.noise * a.gaussian()) };
  }

  /** The result of a step: the only place correctness is decided. */
  private decision(role: Role, world: World, slot: number, step: number, generated: readonly number[]): Logits {
    const { problem, plant } = world;
    const r = slotRandom(world, slot, 'decision');
    const a = step === 0 ? problem.operands[0]! : emittedValue(generated, step - 1, problem);
    const b = problem.operands[step + 1]!;
    const op = problem.ops[step]!;
    const right = op === '+' ? a + b : op === '-' ? a - b : a * b;
    const distractors = [right + 1, right - 1, right + 10, right - 10];
    const wrongIndex = Math.floor(r.uniform() * distractors.length);
    const wrong = distractors[wrongIndex]!;
    const others = distractors.filter((_, i) => i !== wrongIndex);
    const affected = plant.affectedSteps.includes(step);
    const isS = role === 'specialist';
    const n = slotRandom(world, slot, `decision-${role}`);
    const jitter = () => (isS ? 0 : plant.noise * n.gaussian());

    const table = new Map<number, number>();
    const put = (v: number, z: number) => table.set(numberToken(v), z);
    if (!affected || plant.mechanism === 'easy') {
      put(right, 0);
      put(wrong, -6 + jitter());
      others.forEach((v) => put(v, -7.5 + jitter()));
    } else {
      switch (plant.mechanism) {
        case 'unlucky': // right leads by a small margin; A sees it the same way (up to noise).
          put(right, 0);
          put(wrong, plant.gap + jitter());
          others.forEach((v) => put(v, -5 + jitter()));
          break;
        case 'demoted': // S prefers the wrong result; A strongly prefers the right one.
        case 'deformed':
          put(wrong, isS ? 0 : -plant.ancestorRejection);
          put(right, isS ? -plant.gap : 0);
          others.forEach((v) => put(v, -5 + jitter()));
          break;
        case 'temperature':
          // A two-token peak: right a close second in S, everything else far. A prefers the right
          // result only mildly (ancestorRejection < 2.33·gap), so the α = 0.7 mix keeps the wrong
          // one on top — a steer cannot flip it — while a higher temperature reaches the right one.
          put(wrong, isS ? 0 : -plant.ancestorRejection);
          put(right, isS ? -plant.gap : 0);
          others.forEach((v) => put(v, -8 + jitter()));
          break;
        case 'beyond': // The right result is in neither model's support.
          put(wrong, 0);
          others.forEach((v) => put(v, -2.5 + jitter()));
          break;
      }
    }
    return { ids: [...table.keys()], logits: [...table.values()] };
  }
}

/** One model of the pair, as a TokenModel. */
class SimulatedModel implements TokenModel {
  readonly name: string;
  constructor(
    private readonly sim: LineageSimulator,
    private readonly role: Role,
  ) {
    this.name = `sim-${role}`;
  }

  async tokenize(text: string): Promise<number[]> {
    return encode(text);
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    return decode(ids);
  }

  async sample(prompt: readonly number[], params: SampleParams): Promise<Generation[]> {
    return sampleSync(this.sim, this.role, prompt, params);
  }

  async score(prompt: readonly number[], continuation: readonly number[], topK: number): Promise<TopKSlice[]> {
    return scoreSync(this.sim, this.role, [...prompt, ...continuation], prompt.length, topK);
  }

  async nextTopK(prefix: readonly number[], topK: number): Promise<TopKSlice> {
    return truncate(this.sim.nextDistribution(this.role, prefix), topK);
  }

  isStop(token: number): boolean {
    return token === EOS;
  }
}

/**
 * Synchronous sampling of the in-process model. Sample i of n uses seed + i (vLLM's convention)
 * and draws every token with sampleIndex on the canonical full distribution from
 * seededRandom(seedOf('sample', seed + i)): the convention `recoverability serve` uses, so the
 * same request gives the same tokens in-process and over HTTP.
 */
export function sampleSync(sim: LineageSimulator, role: Role, prompt: readonly number[], params: SampleParams): Generation[] {
  const split = sim.split(prompt);
  const world = sim.worldOf(split.prompt);
  const n = params.n ?? 1;
  return Array.from({ length: n }, (_, i) => {
    const random: Random = seededRandom(seedOf('sample', params.seed + i));
    const generated = [...split.generated];
    const tokens: number[] = [];
    const topK: TopKSlice[] = [];
    let finishReason: Generation['finishReason'] = 'length';
    while (tokens.length < params.maxTokens) {
      const dist = sim.distributionAt(role, world, generated);
      const token = dist.ids[sampleIndex(dist.logprobs, params.temperature, random)]!;
      tokens.push(token);
      topK.push(withToken(truncate(dist, params.topK), dist, token));
      generated.push(token);
      if (token === EOS) {
        finishReason = 'stop';
        break;
      }
    }
    return { tokens, topK, text: decode(tokens), finishReason };
  });
}

/** Top-K at every position from `from` on of `sequence` (a prefill), the actual token included. */
function scoreSync(sim: LineageSimulator, role: Role, sequence: readonly number[], from: number, topK: number): TopKSlice[] {
  const split = sim.split(sequence.slice(0, from));
  const world = sim.worldOf(split.prompt);
  const generated = [...split.generated];
  const out: TopKSlice[] = [];
  for (let t = from; t < sequence.length; t++) {
    const dist = sim.distributionAt(role, world, generated);
    out.push(withToken(truncate(dist, topK), dist, sequence[t]!));
    generated.push(sequence[t]!);
  }
  return out;
}

/**
 * The full next-token distribution after every prefix ids[0..p), p = 1 … ids.length − 1, each
 * as if that prefix were the whole sequence (what a real model's prefill reports as
 * prompt_logprobs). One pass, linear in ids.length: the prompt/generation split is tracked
 * incrementally, and a world is built only once per generation start (a prefix still inside
 * the opening "Step 1:" needs none: its next token is fixed).
 */
export function scorePrompt(sim: LineageSimulator, role: Role, ids: readonly number[]): TopKSlice[] {
  const out: TopKSlice[] = [];
  let lastOpening = -1;
  let current = null as { start: number; world: World; generated: number[] } | null;
  for (let p = 1; p < ids.length; p++) {
    if (p >= 3 && ids[p - 3] === STEP && ids[p - 2] === ONE && ids[p - 1] === COLON) lastOpening = p - 3;
    const start = lastOpening >= 0 ? lastOpening : p >= 2 && ids[p - 2] === STEP && ids[p - 1] === ONE ? p - 2 : ids[p - 1] === STEP ? p - 1 : p;
    if (p - start < 3) {
      out.push({ ids: [OPENING[p - start]!], logprobs: [0] });
      continue;
    }
    if (current?.start === start) current.generated.push(ids[p - 1]!);
    else current = { start, world: sim.worldOf(ids.slice(0, start)), generated: ids.slice(start, p) };
    out.push(sim.distributionAt(role, current.world, current.generated));
  }
  return out;
}

function truncate(dist: TopKSlice, k: number): TopKSlice {
  return { ids: Array.from(dist.ids).slice(0, k), logprobs: Array.from(dist.logprobs).slice(0, k) };
}

/** Adds the actual token's log-prob when it fell outside the top-K (as vLLM does), in canonical order. */
function withToken(top: TopKSlice, dist: TopKSlice, token: number): TopKSlice {
  if (Array.from(top.ids).includes(token)) return top;
  const i = Array.from(dist.ids).indexOf(token);
  return canonicalTopK([...Array.from(top.ids), token], [...Array.from(top.logprobs), i >= 0 ? dist.logprobs[i]! : OUT_OF_SUPPORT]);
}

function fixed(token: number): Logits {
  return { ids: [token], logits: [0] };
}

/** Copying a value written earlier: near-certain and identical in both models. */
function copy(value: number): Logits {
  return { ids: [numberToken(value), numberToken(value + 1), numberToken(value - 1)], logits: [0, -9, -9.5] };
}

/** The value the model wrote as the result of `step` (the true value if it wrote no number). */
function emittedValue(generated: readonly number[], step: number, problem: Problem): number {
  const token = generated[step * STEP_SLOTS + 8];
  const v = token === undefined ? null : tokenNumber(token);
  return v ?? problem.values[step]!;
}

function slotRandom(world: World, slot: number, what: string): Random {
  return seededRandom(seedOf(world.seed, slot, what));
}

const STEP = word('Step');
const COLON = word(':');
const ONE = numberToken(1);
/** "Step 1:", the opening of every generation. */
const OPENING = [STEP, ONE, COLON] as const;

/**
 * Where the generation starts in a sequence: at the last complete "Step 1:" (every generation
 * opens with it); failing that, at a trailing partial "Step" / "Step 1"; otherwise the whole
 * sequence is prompt. (A prompt that itself contains "Step 1:" and is followed by a partial
 * opening is the one ambiguous case; the package's own callers never ask about it.)
 */
function generationStart(seq: readonly number[]): number {
  for (let i = seq.length - 3; i >= 0; i--) {
    if (seq[i] === STEP && seq[i + 1] === ONE && seq[i + 2] === COLON) return i;
  }
  const n = seq.length;
  if (n >= 2 && seq[n - 2] === STEP && seq[n - 1] === ONE) return n - 2;
  if (n >= 1 && seq[n - 1] === STEP) return n - 1;
  return n;
}
