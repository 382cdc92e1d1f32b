import type { DecodeSession, Distribution, ServedModel } from '../models/servedModel.js';
import { type LineageSimulator, type Role, scorePrompt } from './lineageSimulator.js';
import { decode, encode, EOS, isToken, tokenText } from './vocabulary.js';

/** The simulator's context length as served: a prompt plus its generation (≤ 69 tokens) fits with room to spare. */
export const SIM_MAX_MODEL_LEN = 400;

/** The served model ids of the simulator's pair. */
export const SIM_MODEL_IDS = { specialist: 'sim-specialist', ancestor: 'sim-ancestor' } as const;

/**
 * The simulator's specialist and ancestor as ServedModels, for `recoverability serve --sim`.
 * Distributions are the simulator's own (its support only: a token outside it has probability 0).
 */
export function simServedModels(sim: LineageSimulator): ServedModel[] {
  return [new SimServedModel(sim, 'specialist'), new SimServedModel(sim, 'ancestor')];
}

class SimServedModel implements ServedModel {
  readonly id: string;
  readonly maxModelLen = SIM_MAX_MODEL_LEN;
  readonly eosId = EOS;

  constructor(
    private readonly sim: LineageSimulator,
    private readonly role: Role,
  ) {
    this.id = SIM_MODEL_IDS[role];
  }

  isToken(id: number): boolean {
    return isToken(id);
  }

  /** Any text encodes (bytes are tokens), so this never throws OutOfVocabularyError. The simulator has no BOS. */
  encode(text: string): number[] {
    return encode(text);
  }

  decode(ids: readonly number[]): string {
    return decode(ids);
  }

  tokenText(id: number): string {
    return tokenText(id);
  }

  scorePrompt(ids: readonly number[]): Distribution[] {
    return scorePrompt(this.sim, this.role, ids);
  }

  /** Throws RangeError when the prompt poses a problem outside the simulator's number range. */
  startDecode(prompt: readonly number[], n: number): DecodeSession {
    const { sim, role } = this;
    const split = sim.split(prompt);
    const world = sim.worldOf(split.prompt);
    const generated = Array.from({ length: n }, () => [...split.generated]);
    let active: number[] = generated.map((_, i) => i);
    return {
      get active() {
        return active;
      },
      next: () => active.map((i) => sim.distributionAt(role, world, generated[i]!)),
      push: (tokens) => {
        if (tokens.length !== active.length) throw new RangeError(`push needs one token per active sequence (${active.length}), got ${tokens.length}`);
        active.forEach((i, j) => generated[i]!.push(tokens[j]!));
      },
      finish: (index) => {
        active = active.filter((i) => i !== index);
      },
    };
  }
}
