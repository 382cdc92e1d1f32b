import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import type { RolloutSummary } from '../core/contracts/rollout.js';
import { extractAnswer } from '../core/grading/extractAnswer.js';
import { rowSignals, type RowSignalValues } from '../core/signals/rowSignals.js';
import { redactUrl } from '../http/endpointErrors.js';
import { OpenAICompatibleModel } from '../http/openAiCompatibleModel.js';
import { InputError } from '../io/inputError.js';
import { AncestorSpecSchema, publicSpec, SpecialistSpecSchema, TokenModelFactory, type TokenModelSpec } from '../models/modelSpec.js';
import type { TokenModel } from '../models/tokenModel.js';
import { type RolloutMetadata, RolloutMetadataSchema } from '../promptfoo/rolloutMetadata.js';
import { RowRecoverabilitySchema } from '../promptfoo/rowRecoverability.js';
import type { EvalRow, EvalRows } from './evalRows.js';
import type { FailingRow } from './failingRow.js';
import { graderOf, RowGraders, type TextGrader } from './rowGrader.js';

/** An endpoint given on the command line (`--specialist URL#model`), replacing the one the rows recorded. */
export interface EndpointOverride {
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
}

/** Parses `URL#model` (e.g. `http://127.0.0.1:8000/v1#my-fine-tune`). */
export function parseEndpointFlag(flag: string, value: string, apiKeyEnv?: string): EndpointOverride {
  const at = value.lastIndexOf('#');
  const baseUrl = at < 0 ? '' : value.slice(0, at);
  const model = at < 0 ? '' : value.slice(at + 1);
  if (!/^https?:\/\/./.test(baseUrl) || model === '') {
    throw new InputError(`${flag} takes URL#model, e.g. http://127.0.0.1:8000/v1#my-fine-tune, got "${value}"`);
  }
  return { baseUrl, model, ...(apiKeyEnv ? { apiKeyEnv } : {}) };
}

/** A failing row of an eval that can be probed, before its token ids are looked up. */
export interface EvalCandidate {
  row: EvalRow;
  meta: RolloutMetadata;
  problemId: string;
  grade: TextGrader;
  /** Each rollout's verdict under the row's grader. */
  passed: boolean[];
  signals: RowSignalValues;
  /** The eval's prospective regime for the row (its gradeRollouts verdict), or `unknown`. */
  estimatedRegime: string;
  specs: { specialist: TokenModelSpec; ancestor: TokenModelSpec };
}

/** Why rows of an eval are not probed, by count. */
export interface EvalSkips {
  /** ERROR rows (the provider failed). */
  error: number;
  /** Rows without the RolloutProvider's metadata or without a gradeRollouts assertion. */
  not_plugin: number;
  /** Rows without token-level rollouts (a black-box provider, or no ancestor): the operators need both. */
  no_tokens: number;
  /** Rows whose every rollout passed. */
  passed: number;
}

export interface EvalScan {
  rows: number;
  candidates: EvalCandidate[];
  skipped: EvalSkips;
}

const specOverride = (o: EndpointOverride | undefined, role: 'specialist' | 'ancestor'): TokenModelSpec | null => {
  if (!o) return null;
  try {
    return parseWith(AncestorSpecSchema, { type: 'endpoint', baseUrl: o.baseUrl, model: o.model, ...(o.apiKeyEnv ? { apiKeyEnv: o.apiKeyEnv } : {}) }, `--${role}`);
  } catch (err) {
    return contractInput(err);
  }
};

function contractInput(err: unknown): never {
  if (err instanceof ContractError) throw new InputError(err.message);
  throw err;
}

/**
 * The failing rows of an eval written with the plugin: each row's metadata (validated), its
 * grader (the row's gradeRollouts assertion, with the test's vars), each rollout graded again,
 * the row's prospective signals (rowSignals, as gradeRollouts computes them), the eval's regime
 * estimate, and the models to probe with (the row's recorded specs, or the overrides). Rows that
 * cannot be probed are counted by reason; none left is an InputError saying why.
 */
export async function scanEval(evalRows: EvalRows, options: { specialist?: EndpointOverride; ancestor?: EndpointOverride; graders?: RowGraders } = {}): Promise<EvalScan> {
  const graders = options.graders ?? new RowGraders();
  const skipped: EvalSkips = { error: 0, not_plugin: 0, no_tokens: 0, passed: 0 };
  const candidates: EvalCandidate[] = [];
  const seen = new Map<string, number>();
  for (const row of evalRows.rows) {
    if (row.error !== null && row.metadata === undefined) {
      skipped.error++;
      continue;
    }
    const grader = graderOf(row.assert, row.where);
    if (row.metadata === undefined || grader === null) {
      skipped.not_plugin++;
      continue;
    }
    let meta: RolloutMetadata;
    try {
      meta = parseWith(RolloutMetadataSchema, row.metadata, `${row.where}: response.metadata.recoverability`);
    } catch (err) {
      contractInput(err);
    }
    if (!meta.capabilities.logprobs || !meta.capabilities.ancestor) {
      skipped.no_tokens++;
      continue;
    }
    const grade = await graders.grader(grader, row.vars, meta.base_path);
    const passed = await Promise.all(meta.rollouts.map((r) => grade(r.text)));
    if (passed.every(Boolean)) {
      skipped.passed++;
      continue;
    }
    const ancestorPassed = meta.ancestor_rollouts ? await Promise.all(meta.ancestor_rollouts.map((r) => grade(r.text))) : null;
    const signals = rowSignals(
      meta.rollouts.map((r, i) => ({ passed: passed[i]!, answer: r.answer ?? extractAnswer(r.text), summary: r.summary })),
      { withAncestor: true, ancestorPassed },
    );
    const regime = RowRecoverabilitySchema.shape.regime.safeParse((row.verdict as { regime?: unknown } | undefined)?.regime);
    const specs = modelSpecs(meta, row.where, options);
    let id = meta.row_key ? meta.row_key.slice(0, 16) : createHash('sha256').update(JSON.stringify([meta.prompt, row.testIdx, row.promptIdx, meta.seed])).digest('hex').slice(0, 16);
    const dup = seen.get(id) ?? 0;
    seen.set(id, dup + 1);
    if (dup > 0) id = `${id}-${dup}`;
    candidates.push({ row, meta, problemId: id, grade, passed, signals, estimatedRegime: regime.success ? regime.data : 'unknown', specs });
  }
  if (candidates.length === 0) {
    const why = Object.entries(skipped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ');
    throw new InputError(
      `${evalRows.path} has no failing row the probe can run on (${evalRows.rows.length} rows: ${why || 'none'}). The probe needs rows written by the RolloutProvider with token-level rollouts (an endpoint, lineage or sim specialist with an ancestor) and graded by gradeRollouts, with at least one failed rollout`,
    );
  }
  return { rows: evalRows.rows.length, candidates, skipped };
}

function modelSpecs(meta: RolloutMetadata, where: string, options: { specialist?: EndpointOverride; ancestor?: EndpointOverride }): EvalCandidate['specs'] {
  const pick = (role: 'specialist' | 'ancestor'): TokenModelSpec => {
    const override = specOverride(options[role], role);
    if (override) return override;
    const recorded = meta.models?.[role];
    if (!recorded) {
      throw new InputError(`${where}: the row does not record its ${role} (written before models were recorded, or without one): pass --${role} URL#model`);
    }
    try {
      const spec = parseWith(role === 'specialist' ? SpecialistSpecSchema : AncestorSpecSchema, recorded, `${where}: the recorded ${role}`);
      if (spec.type === 'provider') throw new InputError(`${where}: the specialist is a black-box promptfoo provider (${spec.id}): the operators need token-level access; pass --specialist URL#model`);
      return spec;
    } catch (err) {
      return contractInput(err);
    }
  };
  return { specialist: pick('specialist'), ancestor: pick('ancestor') };
}

/** Token ids found for the rows' rollouts, by row key. */
interface FoundTokens {
  prompt: Map<string, number[]>;
  rollouts: Map<string, Map<number, number[]>>;
}

const isIntArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/**
 * Reads token ids for the wanted row keys from rollout caches (`{key, response, tokens: {prompt,
 * rollouts}}` lines) and sidecars (`{row_key, index, tokens}` lines), line by line. Unreadable
 * lines are skipped (the provider's own readers do the same); a later line for a key wins.
 */
async function findTokens(files: { caches: string[]; sidecars: string[] }, wanted: ReadonlySet<string>): Promise<FoundTokens & { unreadable: string[] }> {
  const found: FoundTokens = { prompt: new Map(), rollouts: new Map() };
  const unreadable: string[] = [];
  const lines = async (path: string, each: (data: Record<string, unknown>) => void) => {
    try {
      for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
        if (line.trim() === '') continue;
        let data: unknown;
        try {
          data = JSON.parse(line);
        } catch {
          continue; // a torn or corrupt line: those rollouts are looked up elsewhere or re-sampled
        }
        if (typeof data === 'object' && data !== null) each(data as Record<string, unknown>);
      }
    } catch (err) {
      unreadable.push(`${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  for (const path of files.caches) {
    await lines(path, (d) => {
      const key = d.key;
      const tokens = (d.response as { tokens?: { prompt?: unknown; rollouts?: unknown } } | undefined)?.tokens;
      if (typeof key !== 'string' || !wanted.has(key) || !tokens) return;
      if (isIntArray(tokens.prompt)) found.prompt.set(key, tokens.prompt);
      if (Array.isArray(tokens.rollouts)) {
        const m = new Map<number, number[]>();
        tokens.rollouts.forEach((t, i) => isIntArray(t) && m.set(i, t));
        found.rollouts.set(key, m);
      }
    });
  }
  for (const path of files.sidecars) {
    await lines(path, (d) => {
      const key = d.row_key;
      if (typeof key !== 'string' || !wanted.has(key) || !Number.isInteger(d.index) || !isIntArray(d.tokens)) return;
      const m = found.rollouts.get(key) ?? new Map<number, number[]>();
      if (!m.has(d.index as number)) m.set(d.index as number, d.tokens);
      found.rollouts.set(key, m);
    });
  }
  return { ...found, unreadable };
}

/** How the failed rollouts' token ids were obtained. */
export interface TokenProvenance {
  /** Failed rollouts probed whose ids came from the rollout cache or sidecar. */
  stored: number;
  /** Re-sampled with the row's recorded seed (sample i of n = seed + i) because no file had them; the text matched. */
  resampled: number;
  /** Re-sampled but the text differed (a server that does not reproduce seeds): the recorded text was tokenized instead. */
  retokenized: number;
  /** Cache or sidecar files that could not be read. */
  unreadable: string[];
}

/**
 * Builds (once per spec) the token models the rows name; API keys come from the environment
 * variable a spec names (`apiKeyEnv`), never from the rows. Relative lineage directories resolve
 * against the row's config directory.
 */
export class ModelPool {
  private readonly factories = new Map<string, TokenModelFactory>();
  private readonly built = new Map<string, TokenModel>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get(spec: TokenModelSpec, role: 'specialist' | 'ancestor', basePath: string | null): TokenModel {
    if (spec.type === 'endpoint' && spec.apiKeyEnv && !this.env[spec.apiKeyEnv]) {
      throw new InputError(`the ${role} ${spec.model} at ${redactUrl(spec.baseUrl)} takes its API key from the environment variable ${spec.apiKeyEnv}, which is not set: set it (the key is never written anywhere)`);
    }
    const base = spec.type === 'lineage' ? (basePath ?? '.') : '.';
    const key = JSON.stringify([role, spec, base]);
    let m = this.built.get(key);
    if (!m) {
      let factory = this.factories.get(base);
      if (!factory) this.factories.set(base, (factory = new TokenModelFactory({ env: this.env, basePath: base })));
      this.built.set(key, (m = factory.build(spec, role)));
    }
    return m;
  }

  /** Every distinct model built, with its role. */
  models(): { role: string; model: TokenModel }[] {
    return [...this.built.entries()].map(([key, model]) => ({ role: JSON.parse(key)[0] as string, model }));
  }
}

/** The public form of the specs a probe used (no headers: they may carry keys), for fingerprints and summaries. */
export function publicSpecs(candidates: readonly EvalCandidate[]): Record<string, unknown>[] {
  const seen = new Map<string, Record<string, unknown>>();
  for (const c of candidates) {
    for (const role of ['specialist', 'ancestor'] as const) {
      const spec = { role, ...publicSpec(c.specs[role]) };
      seen.set(JSON.stringify(spec), spec);
    }
  }
  return [...seen.values()];
}

/**
 * The selected candidates as probe targets: prompt ids and the first `maxFailed` failed rollouts'
 * token ids (the ones the probe runs on) from
 * the rollout cache or sidecar the row names; what no file holds is re-sampled with the row's
 * recorded seed (rollout i of n was drawn with seed + i, so one request per missing rollout) and
 * checked against the recorded text. The output room is what the context leaves after the prompt
 * (prompt + output + 1 ≤ the context, as the provider keeps it), at most `maxTokens`.
 */
export async function evalTargets(
  candidates: readonly EvalCandidate[],
  pool: ModelPool,
  options: { maxTokens: number; maxFailed: number },
): Promise<{ rows: FailingRow[]; provenance: TokenProvenance }> {
  const wanted = new Set(candidates.flatMap((c) => (c.meta.row_key ? [c.meta.row_key] : [])));
  const caches = [...new Set(candidates.flatMap((c) => (c.meta.cache ? [c.meta.cache] : [])))];
  const sidecars = [...new Set(candidates.flatMap((c) => (c.meta.sidecar ? [c.meta.sidecar] : [])))];
  const found = await findTokens({ caches, sidecars }, wanted);
  const provenance: TokenProvenance = { stored: 0, resampled: 0, retokenized: 0, unreadable: found.unreadable };
  const rows: FailingRow[] = [];
  for (const c of candidates) {
    const base = c.meta.base_path;
    const specialist = pool.get(c.specs.specialist, 'specialist', base);
    const ancestor = pool.get(c.specs.ancestor, 'ancestor', base);
    const key = c.meta.row_key ?? '';
    if (c.meta.prompt === null && !found.prompt.has(key)) throw new InputError(`${c.row.where}: the row records neither its prompt text nor its prompt's token ids: rerun the eval with this version of the plugin`);
    const prompt = found.prompt.get(key) ?? (await specialist.tokenize(c.meta.prompt!));
    const window = (await specialist.contextWindow?.()) ?? null;
    const room = window === null ? options.maxTokens : Math.min(options.maxTokens, window - prompt.length - 1);
    if (room < 1) throw new InputError(`${c.row.where}: the prompt has ${prompt.length} tokens and the context ${window}: no room to generate`);
    const stored = found.rollouts.get(key);
    const failed: FailingRow['failed'] = [];
    for (const [i, r] of c.meta.rollouts.entries()) {
      if (c.passed[i] || !r.summary || failed.length >= options.maxFailed) continue;
      let tokens = stored?.get(r.index);
      if (tokens) provenance.stored++;
      else {
        const [g] = await specialist.sample(prompt, { n: 1, seed: c.meta.seed + r.index, temperature: c.meta.temperature, maxTokens: Math.max(1, r.tokens), topK: 1 });
        const again = g!.tokens.slice(0, r.tokens);
        if ((await specialist.detokenize(again)) === r.text || g!.text === r.text) {
          tokens = again;
          provenance.resampled++;
        } else {
          tokens = await specialist.tokenize(r.text);
          provenance.retokenized++;
        }
      }
      failed.push({ index: r.index, tokens, summary: r.summary as RolloutSummary });
    }
    rows.push({
      problemId: c.problemId,
      description: c.row.description ?? (c.meta.prompt ?? '').trim().slice(0, 120),
      testIdx: c.row.testIdx,
      cell: c.meta.specialist,
      model: c.meta.specialist,
      prompt,
      isCorrect: c.grade,
      nRollouts: c.meta.rollouts.length,
      nPassed: c.passed.filter(Boolean).length,
      failed,
      models: { specialist, ancestor },
      maxTokens: room,
      signals: c.signals,
      estimatedRegime: c.estimatedRegime,
      ancestorSamples: c.meta.ancestor_rollouts && c.meta.ancestor_rollouts.length > 0 ? c.meta.ancestor_rollouts.length : null,
    });
  }
  return { rows, provenance };
}

/**
 * Endpoint clients learn which token ends a generation from finished samples (`stop_reason`).
 * Step-wise operators (dense steer) decode token by token and need it before any sample finished:
 * one short sample per endpoint specialist teaches it (counted in the returned request count).
 */
export async function learnStopTokens(rows: readonly FailingRow[]): Promise<number> {
  const seen = new Set<TokenModel>();
  let requests = 0;
  for (const r of rows) {
    const m = r.models?.specialist;
    if (!m || seen.has(m) || !(m instanceof OpenAICompatibleModel)) continue;
    seen.add(m);
    await m.sample(r.prompt, { n: 1, seed: 0, temperature: 0, maxTokens: r.maxTokens ?? 64, topK: 1 });
    requests++;
  }
  return requests;
}
