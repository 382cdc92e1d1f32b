import { describe, expect, it, vi } from 'vitest';
import { afterAll, afterEach } from '../../src/promptfoo/hooks.js';
import { gradeRollouts } from '../../src/promptfoo/gradeRollouts.js';
import { RolloutProvider } from '../../src/promptfoo/rolloutProvider.js';

const ctx = (metadata: unknown, config: unknown = {}, vars: Record<string, unknown> = { answer: '105' }) =>
  ({ providerResponse: { metadata }, config, vars, prompt: '', test: {}, logProbs: undefined, provider: undefined }) as any;

describe('RolloutProvider', () => {
  it('config errors name the field', () => {
    expect(() => new RolloutProvider({ config: { specialist: 'sim', samples: 0 } })).toThrow(/at samples/);
    expect(() => new RolloutProvider({ config: { specialist: { type: 'gpu' } } })).toThrow(/at specialist/);
    expect(() => new RolloutProvider({ config: { specialist: 'sim', sampels: 3 } })).toThrow(/Unrecognized key: "sampels"/);
    expect(() => new RolloutProvider({ config: { specialist: { type: 'provider', id: 'echo' }, ancestor: 'sim' } })).toThrow(/needs a token-level specialist/);
  });

  it('same prompt and seed give the same rollouts; repeats differ', async () => {
    const p = new RolloutProvider({ config: { specialist: 'sim', samples: 4, seed: 2 } });
    const a = await p.callApi('Compute (17 * 4) + 45.');
    const b = await p.callApi('Compute (17 * 4) + 45.');
    const c = await p.callApi('Compute (17 * 4) + 45.', { repeatIndex: 1 } as any);
    expect(a.metadata).toEqual(b.metadata);
    expect(a.metadata!.recoverability.seed).not.toBe(c.metadata!.recoverability.seed);
    // One sampling request, one ancestor prefill per rollout, one request for the ancestor's own 4 samples.
    expect(a.tokenUsage!.numRequests).toBe(1 + 4 + 1);
    expect(a.metadata!.recoverability.ancestor_rollouts).toHaveLength(4);
    const off = await new RolloutProvider({ config: { specialist: 'sim', samples: 4, seed: 2, ancestorSamples: 0 } }).callApi('Compute (17 * 4) + 45.');
    expect(off.tokenUsage!.numRequests).toBe(5);
    expect(off.metadata!.recoverability.ancestor_rollouts).toBeNull();
    // Same rollouts either way: the ancestor's samples draw on their own seeds.
    expect(off.metadata!.recoverability.rollouts).toEqual(a.metadata!.recoverability.rollouts);
  });

  it('an unreachable endpoint is a named row error, not a crash', async () => {
    const p = new RolloutProvider({ config: { specialist: { type: 'endpoint', baseUrl: 'http://127.0.0.1:9/v1', model: 'm', maxRetries: 0, timeoutMs: 500 } } });
    const res = await p.callApi('hi');
    expect(res.error).toMatch(/^RolloutProvider: EndpointUnreachableError: /);
  });

  it('without an ancestor it says which features are unavailable', async () => {
    const p = new RolloutProvider({ config: { specialist: { type: 'sim' }, samples: 2 } });
    const meta = (await p.callApi('Compute 2 + 2.')).metadata!.recoverability;
    expect(meta.capabilities.ancestor).toBe(true); // the simulator brings its own ancestor
  });
});

describe('gradeRollouts never throws', () => {
  it('no RolloutProvider metadata → a failed assertion explaining what to use', async () => {
    const r = await gradeRollouts('x', ctx(undefined));
    expect(r).toMatchObject({ pass: false, score: 0 });
    expect(r.reason).toMatch(/use the RolloutProvider/);
  });

  it('a bad config → a failed assertion naming the field', async () => {
    const r = await gradeRollouts('x', ctx({}, { threshold: 2 }));
    expect(r.pass).toBe(false);
    expect(r.reason).toMatch(/gradeRollouts config is invalid:[\s\S]*threshold/);
  });

  it('malformed metadata → a failed assertion, not an error row', async () => {
    const r = await gradeRollouts('x', ctx({ recoverability: { version: 1 } }));
    expect(r.pass).toBe(false);
    expect(r.reason).toMatch(/RolloutProvider metadata is invalid/);
  });

  it('grades every rollout of real provider output', async () => {
    const p = new RolloutProvider({ config: { specialist: 'sim', samples: 6, seed: 1 } });
    const res = await p.callApi('Compute ((17 * 4) + 45) - 8.');
    const r = await gradeRollouts(res.output, ctx(res.metadata, { grader: { type: 'numeric' }, prefix: 'rc_' }));
    expect(r.namedScores!.rc_pass_rate).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.namedScores!).every((k) => k.startsWith('rc_'))).toBe(true);
    expect(r.metadata!.recoverability_row.passed).toHaveLength(6);
  });

  it('a function grader from a file', async () => {
    const p = new RolloutProvider({ config: { specialist: 'sim', samples: 3, seed: 1 } });
    const res = await p.callApi('Compute 2 + 2.');
    const r = await gradeRollouts(res.output, ctx(res.metadata, { grader: { type: 'function', value: 'file://test/fixtures/grader.mjs:endsWithFour' } }));
    // The grader passes exactly the rollouts that answer 4 (the simulator can slip: 2 + 2 = 5).
    const texts: string[] = res.metadata!.recoverability.rollouts.map((x: { text: string }) => x.text);
    expect(r.namedScores!.pass_rate).toBe(texts.filter((t) => /Answer: 4$/.test(t)).length / texts.length);
    expect(r.namedScores!.pass_rate).toBeGreaterThan(0);
    const missing = await gradeRollouts(res.output, ctx(res.metadata, { grader: { type: 'function', value: 'file://test/fixtures/grader.mjs:nope' } }));
    expect(missing.reason).toMatch(/has no exported function "nope"/);
  });
});

describe('hooks', () => {
  it('afterEach lifts regime, route, route_reason and route_source into the row metadata', async () => {
    const result = { metadata: { a: 1 }, gradingResult: { componentResults: [{ metadata: { recoverability_row: { regime: 'resample', route: 'retry', route_reason: 'why', n_rollouts: 2, n_passed: 1, features: null, passed: [true, false], unavailable: [], reference: null, rollout_errors: 0 } } }] } };
    const out = await afterEach({ result });
    expect(out.result.metadata).toEqual({ a: 1, regime: 'resample', route: 'retry', route_reason: 'why', route_source: 'paper_rule' });
  });

  it('afterAll with no results says so plainly and writes nothing', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await afterAll({ results: [] });
    expect(String(spy.mock.calls[0]![0])).toMatch(/promptfoo passed no results to the afterAll hook/);
    spy.mockRestore();
  });
});
