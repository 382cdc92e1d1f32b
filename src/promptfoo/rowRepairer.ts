import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import type { Policy } from '../core/policy/policySchema.js';
import { STOP } from '../core/policy/policyTree.js';
import { rowSignals } from '../core/signals/rowSignals.js';
import { applyIntervention, INTERVENTION_DEFAULTS } from '../interventions/applyIntervention.js';
import { operatorName, type OperatorSpec } from '../interventions/operators.js';
import { InputError } from '../io/inputError.js';
import { parsePolicyJson } from '../io/policyFile.js';
import { type Meter, meteredModel } from '../models/meteredModel.js';
import type { TokenModel } from '../models/tokenModel.js';
import { repairLoop, type RepairTarget, type RunAttempt } from '../repair/repairLoop.js';
import { cannotRun, operatorNeeds, resolveOperator } from '../repair/repairOperators.js';
import { repairRoute, type RouteChoice } from '../repair/repairRoute.js';
import type { RepairConfig } from './repairConfig.js';
import type { RepairRecord } from './repairMetadata.js';
import { type RolloutCheck, rolloutChecker } from './rolloutGrader.js';
import type { RolloutMetadata } from './rolloutMetadata.js';

/** The models a row is repaired with: the provider's own token models, or a black-box sampler (retry only). */
export type RepairBackend =
  | {
      kind: 'token';
      specialist: TokenModel;
      ancestor: TokenModel | null;
      /** The prompt's token ids and each rollout's (parallel to the metadata's rollouts); null when the row has none (then only retry and dense steer run). */
      tokens: { prompt: readonly number[]; rollouts: readonly (readonly number[])[] } | null;
      temperature: number;
      topK: number;
      maxTokens: number;
    }
  | {
      kind: 'black_box';
      /** One fresh sample of the prompt (attempt i of the row), counting its requests and tokens into `meter`; throws on a failed call. */
      sample: (attempt: number, meter: Meter) => Promise<string>;
    };

/**
 * The provider's repairs (`repair:` in its config). Built once per provider: reads the policy
 * file and checks every route it can take against the provider's models, so a bad policy, an
 * unknown operator or a steer without an ancestor fails the eval at once, naming the field.
 * Per row (`repair`): grades the K rollouts with the repair grader, computes the row's signals
 * (rowSignals, as the assertion does), decides the route (repairRoute), and runs the budgeted
 * loop (repairLoop) with the provider's models. Never throws on a row: a fault during repair is
 * recorded in the result's `error`, and the original rollouts are untouched.
 */
export class RowRepairer {
  private readonly choice: RouteChoice;
  private readonly policyPath: string | null;
  private readonly policySha: string | null;
  private readonly base: string;
  private check: Promise<RolloutCheck> | null = null;

  constructor(
    readonly config: RepairConfig,
    private readonly models: { tokenLevel: boolean; ancestor: boolean; basePath?: string | undefined },
  ) {
    this.base = models.basePath ?? '.';
    if (config.policy !== undefined) {
      this.policyPath = resolve(this.base, config.policy);
      const text = readConfigFile(this.policyPath);
      this.policySha = createHash('sha256').update(text).digest('hex');
      let policy: Policy;
      try {
        policy = parsePolicyJson(text, this.policyPath);
      } catch (err) {
        throw new InputError(`RolloutProvider config is invalid: at repair.policy: ${(err as Error).message}`);
      }
      this.checkPolicyRoutes(policy);
      this.choice = { kind: 'policy', policy };
    } else {
      this.policyPath = null;
      this.policySha = null;
      const route = config.route!;
      if (route !== STOP) {
        const op = this.operator(route, 'repair.route');
        const why = cannotRun(op, models);
        if (why) throw new InputError(`RolloutProvider config is invalid: at repair.route: ${why}`);
      }
      this.choice = { kind: 'fixed', route };
    }
  }

  /** Hash of what decides a row's repair: a cached row repaired under another identity is repaired again. */
  identity(meta: RolloutMetadata, vars: Record<string, unknown>): string {
    const { policy: _path, ...config } = this.config;
    const ownVars = Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith('_')));
    return createHash('sha256')
      .update(JSON.stringify({ v: 1, config, policy: this.policySha, vars: ownVars, seed: meta.seed, rows: meta.rollouts.map((r) => r.text) }))
      .digest('hex');
  }

  /**
   * Repairs one row. `models` is asked for only when an operator will run (an endpoint fault
   * there is recorded like one during an attempt). `beforeSpending` runs once, just before the
   * first attempt (the provider caches the captured rollouts there, so a kill during repair
   * loses none).
   */
  async repair(meta: RolloutMetadata, vars: Record<string, unknown>, models: () => Promise<RepairBackend>, beforeSpending?: () => Promise<void>): Promise<RepairRecord> {
    const identity = this.identity(meta, vars);
    const base = {
      identity,
      source: this.choice.kind === 'policy' ? ('policy' as const) : ('route' as const),
      policy: this.policyPath,
      budget: this.config.budget,
      output: this.config.output,
    };
    const spent = { attempts: 0, requests: 0, prompt_tokens: 0, tokens: 0, rescued_rollout: null, text: null, answer: null, attempt_log: [] };
    let check: RolloutCheck;
    try {
      check = await this.checker();
    } catch (err) {
      return { ...base, ...spent, route: null, regime: null, route_reason: 'the repair grader could not be loaded', rescued: null, passed: [], note: null, error: `${(err as Error).name}: ${(err as Error).message}` };
    }
    const passed = await Promise.all(meta.rollouts.map(async (r) => (await check(r, vars)).pass));
    const ancestorPassed = meta.ancestor_rollouts ? await Promise.all(meta.ancestor_rollouts.map(async (r) => (await check(r, vars)).pass)) : null;
    const signals = rowSignals(
      meta.rollouts.map((r, i) => ({ passed: passed[i]!, answer: r.answer, summary: meta.capabilities.logprobs ? r.summary : null })),
      { withAncestor: meta.capabilities.ancestor, ancestorPassed },
    );
    const decided = repairRoute(this.choice, signals);
    const head = { ...base, ...spent, route: decided.route, regime: decided.regime, route_reason: decided.why, passed, error: null };
    if (decided.route === null) return { ...head, rescued: null, note: null };
    if (decided.route === STOP) return { ...head, rescued: false, note: null };

    const op = resolveOperator(decided.route, this.config.operators);
    if (!op) return { ...head, rescued: null, note: `the policy routed this row to ${decided.route}, which has no operator spec: add one under repair.operators` };
    const unable = cannotRun(op, this.models);
    if (unable) return { ...head, rescued: null, note: unable };
    let backend: RepairBackend;
    try {
      backend = await models();
    } catch (err) {
      return { ...head, rescued: null, note: null, error: `${(err as Error).name}: ${(err as Error).message}` };
    }
    const targets = this.targets(meta, passed, op, backend);
    if (typeof targets === 'string') return { ...head, rescued: null, note: targets };

    await beforeSpending?.();
    const run = this.runner(op, backend, meta.prompt ?? '');
    const loop = await repairLoop({
      targets,
      budget: this.config.budget,
      seed: meta.seed,
      run,
      isCorrect: async (text, target) => (await check({ text, answer: extractAnswer(text), index: target.index }, vars)).pass,
    });
    const rescuing = loop.rescued ? loop.attempts.at(-1)! : null;
    return {
      ...head,
      attempts: loop.attempts.length,
      requests: loop.cost.requests,
      prompt_tokens: loop.cost.promptTokens,
      tokens: loop.cost.generatedTokens,
      rescued: loop.error ? null : loop.rescued,
      rescued_rollout: rescuing?.rollout ?? null,
      text: loop.text,
      answer: loop.text === null ? null : extractAnswer(loop.text),
      attempt_log: loop.attempts,
      note: null,
      error: loop.error,
    };
  }

  /** The failed rollouts the operator can act on, or why there are none. */
  private targets(meta: RolloutMetadata, passed: readonly boolean[], op: OperatorSpec, backend: RepairBackend): RepairTarget[] | string {
    const needs = operatorNeeds(op);
    const name = operatorName(op);
    const failed = meta.rollouts.map((r, i) => ({ r, i })).filter(({ i }) => !passed[i]);
    const tokens = backend.kind === 'token' ? backend.tokens : null;
    if (needs.tokens && !tokens) return `${name} replays the failed rollout's tokens, which this row lacks (a row cached before token ids were kept): sample it again`;
    const targets = failed.map(({ r, i }) => ({ index: r.index, tokens: tokens?.rollouts[i] ?? [], junction: r.summary?.junction ?? null }));
    if (!needs.junction) return targets;
    const scored = targets.filter((t) => t.junction !== null);
    if (scored.length === 0) return `${name} acts at the failed rollout's junction, and no failed rollout of this row has one (its ancestor scoring was unavailable: see unavailable)`;
    return scored;
  }

  private runner(op: OperatorSpec, backend: RepairBackend, promptText: string): RunAttempt {
    if (backend.kind === 'black_box') {
      let i = 0;
      return async (_target, _k, _seed, meter) => ({ text: await backend.sample(i++, meter), position: null });
    }
    let ids: Promise<readonly number[]> | null = null;
    return async (target, k, seed, meter) => {
      const prompt = backend.tokens?.prompt ?? (await (ids ??= backend.specialist.tokenize(promptText)));
      const result = await applyIntervention(
        op,
        {
          ...INTERVENTION_DEFAULTS,
          specialist: meteredModel(backend.specialist, meter),
          ancestor: backend.ancestor ? meteredModel(backend.ancestor, meter) : undefined,
          prompt,
          temperature: backend.temperature,
          topK: backend.topK,
          maxTokens: backend.maxTokens,
        },
        { tokens: target.tokens, junction: target.junction },
        k,
        seed,
      );
      return { text: result.text, position: result.position };
    };
  }

  private checker(): Promise<RolloutCheck> {
    if (!this.check) {
      this.check = rolloutChecker(this.config.grader, this.base);
      this.check.catch(() => (this.check = null));
    }
    return this.check;
  }

  private operator(route: string, field: string): OperatorSpec {
    const op = resolveOperator(route, this.config.operators);
    if (!op) {
      throw new InputError(
        `RolloutProvider config is invalid: at ${field}: no operator is named "${route}": use one of retry, sparse_steer, sparse_steer_random, local_temp, dense_steer, stop, or add its spec under repair.operators`,
      );
    }
    return op;
  }

  /** Every operator the policy was calibrated on must have a spec here (the rows it routes there need one). */
  private checkPolicyRoutes(policy: Policy): void {
    const unknown = policy.operators.filter((name) => name !== STOP && !resolveOperator(name, this.config.operators));
    if (unknown.length > 0) {
      throw new InputError(
        `RolloutProvider config is invalid: at repair.operators: the policy ${this.policyPath} routes to ${unknown.join(', ')}, which ${unknown.length === 1 ? 'has' : 'have'} no operator spec: add ${unknown.length === 1 ? 'it' : 'them'} under repair.operators (e.g. {kind: sparse_steer, geometry: m} for sparse_steer_m)`,
      );
    }
  }
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`RolloutProvider config is invalid: at repair.policy: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): write one with "recoverability calibrate probe.csv --out policy.json", or give a fixed repair.route`);
  }
}
