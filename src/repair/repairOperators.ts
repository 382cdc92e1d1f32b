import { STOP } from '../core/policy/policyTree.js';
import { operatorName, type OperatorSpec, PAPER_OPERATOR_SPECS } from '../interventions/operators.js';

/** What an operator needs to run on a row. */
export interface OperatorNeeds {
  /** Token-level access to the specialist (log-probs, prefixes): everything but retry. */
  tokenLevel: boolean;
  /** An ancestor model to mix with (the steers). */
  ancestor: boolean;
  /** The failed rollout's token ids (prefix replay, a random position). */
  tokens: boolean;
  /** The failed rollout's junction j* (from its ancestor-scored summary). */
  junction: boolean;
}

/**
 * The operator a route names: a spec in `extra` whose name (operatorName) matches, else one of
 * the paper's five (retry, sparse_steer, sparse_steer_random, local_temp, dense_steer); null
 * when neither has it. `stop` is not an operator.
 */
export function resolveOperator(route: string, extra: readonly OperatorSpec[] = []): OperatorSpec | null {
  if (route === STOP) return null;
  return extra.find((op) => operatorName(op) === route) ?? PAPER_OPERATOR_SPECS.find((op) => operatorName(op) === route) ?? null;
}

/**
 * What an operator needs. Retry is a fresh sample from the prompt, so any specialist (a black-box
 * promptfoo provider included) can do it; a global temperature needs our own sampler; local
 * temperature acts at the failed rollout's junction; sparse steer mixes with the ancestor at the
 * junction (or a random position of the failed rollout); dense steer mixes at every position.
 */
export function operatorNeeds(op: OperatorSpec): OperatorNeeds {
  switch (op.kind) {
    case 'retry':
      return { tokenLevel: false, ancestor: false, tokens: false, junction: false };
    case 'temperature':
      return { tokenLevel: true, ancestor: false, tokens: false, junction: false };
    case 'local_temp':
      return { tokenLevel: true, ancestor: false, tokens: true, junction: true };
    case 'sparse_steer':
      return { tokenLevel: true, ancestor: true, tokens: true, junction: op.position === 'junction' };
    case 'dense_steer':
      return { tokenLevel: true, ancestor: true, tokens: false, junction: false };
  }
}

/**
 * Why `op` cannot run with these models, in one sentence naming the fix, or null when it can.
 * (Per-rollout needs — tokens and junctions — are checked on each row.)
 */
export function cannotRun(op: OperatorSpec, models: { tokenLevel: boolean; ancestor: boolean }): string | null {
  const needs = operatorNeeds(op);
  const name = operatorName(op);
  if (needs.tokenLevel && !models.tokenLevel) {
    return `${name} needs token-level access to the specialist; a black-box specialist (type: provider) can only retry: route it to retry, or use a lineage, sim or endpoint specialist`;
  }
  if (needs.ancestor && !models.ancestor) return `${name} mixes the specialist with its ancestor: configure an ancestor, or route to an operator without one (retry, local_temp)`;
  return null;
}
