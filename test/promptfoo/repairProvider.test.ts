import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { arithProblems } from '../../src/lineage/index.js';
import { gradeRollouts } from '../../src/promptfoo/gradeRollouts.js';
import type { RepairRecord } from '../../src/promptfoo/repairMetadata.js';
import { RolloutProvider } from '../../src/promptfoo/rolloutProvider.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'recov-repair-'));
const LINEAGE = { specialist: 'lineage', samples: 8, seed: 1, maxTokens: 100 } as const;
/** Forgetting problems: two operations, which the ancestor still solves and the specialist mostly fails (MODEL_CARD.md). */
const forgetting = arithProblems({ seed: 3, operations: [2], count: 10 });
const ctxOf = (answer: number | string) => ({ vars: { answer: String(answer) } }) as any;
const repairOf = (res: { metadata?: Record<string, any> }): RepairRecord => res.metadata!.recoverability.repair;
const assertionCtx = (res: any, vars: Record<string, unknown>, config: unknown = {}) => ({ providerResponse: res, config, vars, prompt: '', test: {}, logProbs: undefined, provider: undefined }) as any;

async function runAll(config: Record<string, unknown>, problems = forgetting) {
  const p = new RolloutProvider({ config: { ...LINEAGE, ...config } });
  const out = [];
  for (const q of problems) out.push(await p.callApi(q.prompt, ctxOf(q.answer)));
  return out;
}

describe('repairs on the embedded lineage', () => {
  let plain: Awaited<ReturnType<typeof runAll>>;
  let dense: Awaited<ReturnType<typeof runAll>>;
  let retry: Awaited<ReturnType<typeof runAll>>;
  beforeAll(async () => {
    plain = await runAll({});
    dense = await runAll({ repair: { route: 'dense_steer', budget: 3 } });
    retry = await runAll({ repair: { route: 'retry', budget: 3 } });
  }, 120_000);

  it('where the ancestor still solves the problem, dense steer rescues more than retry at the same budget', () => {
    const able = forgetting.map((q, i) => ({ q, i })).filter(({ q, i }) => {
      const meta = dense[i]!.metadata!.recoverability;
      const ancestorPass = meta.ancestor_rollouts.filter((a: { answer: string }) => a.answer === String(q.answer)).length;
      return ancestorPass >= 3 && repairOf(dense[i]!).route !== null;
    });
    expect(able.length).toBeGreaterThanOrEqual(6);
    const rescued = (rows: typeof dense) => able.filter(({ i }) => repairOf(rows[i]!).rescued).length;
    // method.md, "measure, then route": steering toward an ancestor that can do the problem is what helps.
    expect(rescued(dense)).toBeGreaterThanOrEqual(Math.ceil(able.length / 2));
    expect(rescued(dense)).toBeGreaterThan(rescued(retry) + 2);
  });

  it('a rescued row: the last attempt passed and is the repaired text; the original rollouts and output are untouched', () => {
    const i = dense.findIndex((r) => repairOf(r).rescued);
    const r = repairOf(dense[i]!);
    const q = forgetting[i]!;
    expect(r.attempt_log.at(-1)!.passed).toBe(true);
    expect(r.attempt_log.slice(0, -1).every((a) => !a.passed)).toBe(true);
    expect(r.answer).toBe(String(q.answer));
    expect(r.text).toMatch(new RegExp(`Answer: ${q.answer}\\s*$`));
    expect(r.passed[r.rescued_rollout!]).toBe(false);
    expect(dense[i]!.output).toBe(plain[i]!.output);
    expect(dense[i]!.metadata!.recoverability.rollouts).toEqual(plain[i]!.metadata!.recoverability.rollouts);
  });

  it('budget: never exceeded; an unrescued row spends all of it; the row counts what the repair spent, to the request', () => {
    for (const [i, res] of dense.entries()) {
      const r = repairOf(res);
      expect(r.attempts).toBeLessThanOrEqual(3);
      if (r.route === null) {
        expect(r.attempts).toBe(0);
        continue;
      }
      if (!r.rescued) expect(r.attempts).toBe(3);
      expect(r.tokens).toBe(r.attempt_log.reduce((t, a) => t + a.tokens, 0));
      expect(r.requests).toBe(r.attempt_log.reduce((t, a) => t + a.requests, 0));
      // Dense steer asks both models for the next top-K at every position it decodes.
      expect(r.requests).toBe(r.tokens);
      expect(res.tokenUsage!.numRequests).toBe(plain[i]!.tokenUsage!.numRequests! + r.requests);
      expect(res.tokenUsage!.total).toBe(plain[i]!.tokenUsage!.total! + r.tokens + r.prompt_tokens);
    }
  });

  it('deterministic for a seed: a new provider repeats every attempt; another seed does not', async () => {
    const again = await runAll({ repair: { route: 'dense_steer', budget: 3 } }, forgetting.slice(0, 4));
    expect(again.map(repairOf)).toEqual(dense.slice(0, 4).map(repairOf));
    const other = await runAll({ seed: 2, repair: { route: 'dense_steer', budget: 3 } }, forgetting.slice(0, 4));
    expect(other.map((r) => repairOf(r).attempt_log)).not.toEqual(dense.slice(0, 4).map((r) => repairOf(r).attempt_log));
  }, 60_000);

  it('stop spends nothing; output: repaired shows the rescue, the original otherwise', async () => {
    const stop = await runAll({ repair: { route: 'stop', budget: 5 } }, forgetting.slice(0, 3));
    for (const [i, res] of stop.entries()) {
      const r = repairOf(res);
      expect(r.attempts).toBe(0);
      expect(r.rescued).toBe(r.route === null ? null : false);
      expect(res.tokenUsage).toEqual(plain[i]!.tokenUsage);
    }
    const shown = await runAll({ repair: { route: 'dense_steer', budget: 3, output: 'repaired' } }, forgetting.slice(0, 4));
    for (const [i, res] of shown.entries()) {
      const r = repairOf(res);
      expect(r.output).toBe('repaired');
      expect(res.output).toBe(r.rescued ? r.text : plain[i]!.output);
    }
    expect(shown.some((r) => repairOf(r).rescued)).toBe(true);
  }, 60_000);

  it('gradeRollouts: rescued, repair_attempts, repair_tokens, and a reason that says what the repair did', async () => {
    for (const [i, res] of dense.entries()) {
      const q = forgetting[i]!;
      const g = await gradeRollouts(res.output as string, assertionCtx(res, { answer: String(q.answer) }, { grader: { type: 'numeric' }, prefix: 'x_', columns: 'all' }));
      const r = repairOf(res);
      if (r.route === null) {
        expect(g.namedScores).not.toHaveProperty('x_rescued');
        continue;
      }
      expect(g.namedScores).toMatchObject({ x_rescued: r.rescued ? 1 : 0, x_repair_attempts: r.attempts, x_repair_tokens: r.tokens });
      expect(g.reason).toMatch(r.rescued ? /Repair: dense_steer rescued the row on attempt \d of 3, acting on rollout #\d+ \(\d+ tokens, \d+ requests\)\./ : /Repair: dense_steer did not rescue the row in 3 attempts \(budget 3\)/);
      // The row's own pass/fail is the rollouts', not the repair's.
      expect(g.pass).toBe(r.passed.filter(Boolean).length / r.passed.length >= 0.5);
    }
    const stopped = await runAll({ repair: { route: 'stop', budget: 2 } }, forgetting.slice(0, 1));
    const g = await gradeRollouts('', assertionCtx(stopped[0], { answer: String(forgetting[0]!.answer) }, { columns: 'all' }));
    expect(g.namedScores).toMatchObject({ rescued: 0, repair_attempts: 0, repair_tokens: 0 });
    // By default only `rescued` is a column (promptfoo's view shows 10 pills a row); the cost is in the metadata.
    const lean = await gradeRollouts('', assertionCtx(stopped[0], { answer: String(forgetting[0]!.answer) }));
    expect(lean.namedScores?.rescued).toBe(0);
    expect(lean.namedScores).not.toHaveProperty('repair_attempts');
    expect(g.reason).toMatch(/Repair: stop — nothing spent\./);
  }, 60_000);
});

describe('repairs with a calibrated policy', () => {
  const policyPath = resolve('examples/lineage/policy.json');
  const problems = arithProblems({ seed: 4, operations: [2, 4, 5], count: 3 });

  it('each row takes the route applyPolicy gives it, which the assertion (without a policy of its own) shows as the row\'s route', async () => {
    const rows = await runAll({ repair: { policy: policyPath, budget: 2 } }, problems);
    let failing = 0;
    for (const [i, res] of rows.entries()) {
      const r = repairOf(res);
      expect(r).toMatchObject({ source: 'policy', policy: policyPath });
      const g = await gradeRollouts('', assertionCtx(res, { answer: String(problems[i]!.answer) }));
      const verdict = g.metadata!.recoverability_row;
      expect(verdict.policy).toBe(policyPath);
      expect(verdict.route).toBe(r.route);
      expect(verdict.route_reason).toBe(r.route_reason);
      if (r.route !== null) failing++;
    }
    expect(failing).toBeGreaterThan(0);
  }, 60_000);
});

describe('repair config errors fail the eval at once, naming the field', () => {
  const make = (repair: unknown, extra: Record<string, unknown> = {}) => () => new RolloutProvider({ config: { specialist: 'lineage', ...extra, repair } });
  it.each([
    ['neither policy nor route', { budget: 2 }, /at repair\.policy: repair needs a route/],
    ['an unknown route', { route: 'dense_stear', budget: 2 }, /at repair\.route: no operator is named "dense_stear"/],
    ['a missing policy file', { policy: 'nope/policy.json', budget: 2 }, /at repair\.policy: cannot read .*nope\/policy\.json \(ENOENT\): write one with "recoverability calibrate/],
  ])('%s', (_name, repair, message) => {
    expect(make(repair)).toThrow(message);
  });

  it('a policy file that is not one, and a policy routing to an operator without a spec', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.json'), '{"format": "x"}');
    expect(make({ policy: 'bad.json', budget: 1 }, { basePath: dir })).toThrow(/at repair\.policy: .*bad\.json is not a policy file/);
    const policy = JSON.parse(readFileSync('examples/lineage/policy.json', 'utf8'));
    writeFileSync(join(dir, 'more.json'), JSON.stringify({ ...policy, operators: [...policy.operators, 'sparse_steer_m'] }));
    expect(make({ policy: 'more.json', budget: 1 }, { basePath: dir })).toThrow(/at repair\.operators: the policy .*more\.json routes to sparse_steer_m, which has no operator spec/);
    expect(make({ policy: 'more.json', budget: 1, operators: [{ kind: 'sparse_steer', geometry: 'm' }] }, { basePath: dir })()).toBeInstanceOf(RolloutProvider);
  });

  it('a steer without an ancestor', () => {
    const endpoint = { type: 'endpoint', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' };
    expect(() => new RolloutProvider({ config: { specialist: endpoint, repair: { route: 'sparse_steer', budget: 1 } } })).toThrow(/at repair\.route: sparse_steer mixes the specialist with its ancestor: configure an ancestor/);
  });
});

describe('black-box specialists can only retry', () => {
  const dir = tmp();
  const provider = join(dir, 'scripted.mjs');
  // Rollouts (repeat index < 4) answer 7; the repair's fresh samples (repeat index ≥ 4) answer 5, then 4.
  writeFileSync(
    provider,
    `export default class Scripted {
  constructor(o) { this.o = o; }
  id() { return 'scripted'; }
  async callApi(prompt, ctx) {
    const i = ctx?.repeatIndex ?? 0;
    const output = i < 4 ? 'Answer: 7' : i === 4 ? 'Answer: 5' : 'Answer: 4';
    return { output, tokenUsage: { prompt: 3, completion: 2, total: 5, numRequests: 1 } };
  }
}
`,
  );
  const spec = { type: 'provider', id: `file://${provider}` };
  const ctx = { vars: { answer: '4' }, prompt: { raw: 'q', label: 'q' } } as any;

  it('retry calls the wrapped provider afresh, past the rollouts\' repeat indices, and counts its usage', async () => {
    const p = new RolloutProvider({ config: { specialist: spec, samples: 4, repair: { route: 'retry', budget: 3 } } });
    const res = await p.callApi('What is 2 + 2?', ctx);
    const r = repairOf(res);
    expect(r).toMatchObject({ route: 'retry', rescued: true, attempts: 2, requests: 2, prompt_tokens: 6, tokens: 4, answer: '4', error: null });
    expect(res.tokenUsage).toMatchObject({ numRequests: 4 + 2, total: 4 * 5 + 10 });
    const g = await gradeRollouts('', assertionCtx(res, { answer: '4' }, { columns: 'all' }));
    expect(g.namedScores).toMatchObject({ rescued: 1, repair_attempts: 2, repair_tokens: 4 });
  });

  it('any other route is refused up front', () => {
    expect(() => new RolloutProvider({ config: { specialist: spec, repair: { route: 'dense_steer', budget: 1 } } })).toThrow(
      /at repair\.route: dense_steer needs token-level access to the specialist; a black-box specialist \(type: provider\) can only retry/,
    );
  });

  it('rescued is the assertion\'s own verdict on the repaired text; a grader that disagrees is named', async () => {
    const p = new RolloutProvider({ config: { specialist: spec, samples: 4, repair: { route: 'retry', budget: 3, grader: { type: 'regex', pattern: 'Answer: [45]' } } } });
    const res = await p.callApi('What is 2 + 2?', ctx);
    expect(repairOf(res)).toMatchObject({ rescued: true, attempts: 1, answer: '5' });
    const g = await gradeRollouts('', assertionCtx(res, { answer: '4' }));
    expect(g.namedScores!.rescued).toBe(0);
    expect(g.reason).toMatch(/retry did not rescue the row in 1 attempt \(budget 3\) .*\(the provider's repair grader judged it a pass: give repair\.grader the assertion's grader\)\./);
  });
});

describe('the rollout cache keeps repaired rows', () => {
  const problems = forgetting.slice(0, 4);

  it('a resumed eval pays for neither the rollouts nor the repairs again; a changed repair reuses the rollouts', async () => {
    const cache = join(tmp(), 'rollouts.jsonl');
    const config = { cache, repair: { route: 'dense_steer', budget: 2 } };
    const first = await runAll(config, problems);
    const spending = first.filter((r) => repairOf(r).attempts > 0).length;
    expect(spending).toBeGreaterThan(0);
    // The captured rollouts are written before a repair spends anything, then the repaired row.
    expect(readFileSync(cache, 'utf8').trim().split('\n')).toHaveLength(problems.length + spending);

    const resumed = await runAll(config, problems);
    for (const [i, res] of resumed.entries()) {
      expect(res).toMatchObject({ cached: true, tokenUsage: { numRequests: 0 } });
      expect(res.metadata).toEqual(first[i]!.metadata);
    }

    const more = await runAll({ ...config, repair: { route: 'dense_steer', budget: 3 } }, problems);
    for (const [i, res] of more.entries()) {
      const r = repairOf(res);
      expect(r.identity).not.toBe(repairOf(first[i]!).identity);
      expect(res.metadata!.recoverability.rollouts).toEqual(first[i]!.metadata!.recoverability.rollouts);
      // Only the repair was paid for now.
      expect(res.tokenUsage).toMatchObject({ numRequests: r.requests, prompt: r.prompt_tokens, completion: r.tokens, cached: first[i]!.tokenUsage!.total! - repairOf(first[i]!).tokens - repairOf(first[i]!).prompt_tokens });
    }
  }, 60_000);
});
