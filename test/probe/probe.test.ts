import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TokenModel } from '../../src/models/tokenModel.js';
import { INTERVENTION_DEFAULTS } from '../../src/interventions/applyIntervention.js';
import { JournalMismatchError, ProbeJournal } from '../../src/probe/probeJournal.js';
import { simulatedTargets } from '../../src/probe/probeSimulated.js';
import { runProbe } from '../../src/probe/rescueProbe.js';

/** Wraps a model so that calls fail while `failing()` says so, counting every call. */
function flaky(model: TokenModel, failing: () => boolean) {
  const counter = { calls: 0 };
  const wrap = <T>(f: () => Promise<T>) => {
    counter.calls++;
    return failing() ? Promise.reject(new Error('endpoint down (injected)')) : f();
  };
  const m: TokenModel = {
    name: model.name,
    tokenize: (t) => model.tokenize(t),
    detokenize: (ids) => model.detokenize(ids),
    sample: (p, o) => wrap(() => model.sample(p, o)),
    score: (p, c, k) => wrap(() => model.score(p, c, k)),
    nextTopK: (p, k) => wrap(() => model.nextTopK(p, k)),
    isStop: (t) => model.isStop(t),
  };
  return { model: m, counter };
}

describe('rescue probe: durable and resumable', () => {
  it('loses no finished attempt when the endpoint fails mid-run, and resumes without redoing them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recov-probe-'));
    const path = join(dir, 'journal.jsonl');
    const { simulator, targets } = await simulatedTargets({ problems: 12, seed: 8, samples: 6, attempts: 3 });
    expect(targets.length).toBeGreaterThan(3);
    let down = false;
    const s = flaky(simulator.specialist, () => down);
    const ctx = { ...INTERVENTION_DEFAULTS, specialist: s.model, ancestor: simulator.ancestor, maxTokens: 128 };
    let progress = 0;
    const first = await runProbe(targets, ctx, {
      seed: 8,
      concurrency: 1,
      journal: await ProbeJournal.open(path, { run: 'x' }),
      onProgress: (done) => {
        progress = done;
        if (done === 15) down = true; // the endpoint dies a third of the way in
      },
    });
    expect(first.errors.length).toBeGreaterThan(0);
    expect(first.errors[0]!.message).toMatch(/endpoint down/);
    expect(first.records.length).toBeLessThan(targets.length);
    const journalled = readFileSync(path, 'utf8').trim().split('\n').length - 1;
    expect(journalled).toBeGreaterThan(0);

    // Reference: the same probe with a healthy endpoint and no journal.
    const reference = await runProbe(targets, { ...ctx, specialist: simulator.specialist }, { seed: 8 });

    down = false;
    const before = s.counter.calls;
    const resumed = await runProbe(targets, ctx, { seed: 8, journal: await ProbeJournal.open(path, { run: 'x' }) });
    expect(resumed.errors).toEqual([]);
    expect(resumed.records).toEqual(reference.records);
    // Journalled attempts were not repeated: the resume made fewer calls than a full run.
    const fresh = flaky(simulator.specialist, () => false);
    await runProbe(targets, { ...ctx, specialist: fresh.model }, { seed: 8 });
    expect(s.counter.calls - before).toBeLessThan(fresh.counter.calls);
    expect(progress).toBeGreaterThan(15);
  });

  it('refuses a journal written with other settings', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recov-probe-')), 'j.jsonl');
    await ProbeJournal.open(path, { mix: 'a' });
    await expect(ProbeJournal.open(path, { mix: 'b' })).rejects.toBeInstanceOf(JournalMismatchError);
  });

  it('ignores a torn last line (a kill mid-write) and rejects corruption elsewhere', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recov-probe-')), 'j.jsonl');
    const j = await ProbeJournal.open(path, {});
    await j.record({ problem_id: 'p', rollout: 0, operator: 'retry', attempt: 0, success: true, position: null, token: null });
    appendFileSync(path, '{"problem_id":"p","rollo');
    const again = await ProbeJournal.open(path, {});
    expect(again.size).toBe(1);
    await again.record({ problem_id: 'p', rollout: 1, operator: 'retry', attempt: 0, success: false, position: null, token: null });
    expect((await ProbeJournal.open(path, {})).size).toBe(2);
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [lines[0], 'garbage', ...lines.slice(1)].join('\n'));
    await expect(ProbeJournal.open(path, {})).rejects.toThrow(/line 2: not a probe journal entry/);
  });
});
