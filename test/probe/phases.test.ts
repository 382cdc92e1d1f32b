import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTERVENTION_DEFAULTS } from '../../src/interventions/applyIntervention.js';
import { ProbeJournal } from '../../src/probe/probeJournal.js';
import { simulatedTargets } from '../../src/probe/probeSimulated.js';
import { runProbe } from '../../src/probe/rescueProbe.js';

describe('rescue probe phases: label, fresh eval attempts, re-probe', async () => {
  const { simulator, targets } = await simulatedTargets({ problems: 16, seed: 3, samples: 6, attempts: 3 });
  const ctx = { ...INTERVENTION_DEFAULTS, specialist: simulator.specialist, ancestor: simulator.ancestor, maxTokens: 128 };
  const subset = new Set(targets.slice(0, 3).map((t) => t.problemId));
  const phases = [
    { phase: 'label' as const, attempts: 3 },
    { phase: 'eval' as const, attempts: 3 },
    { phase: 'reprobe' as const, attempts: 3, problems: subset },
  ];

  it('the label phase alone reproduces the single-phase probe exactly', async () => {
    const single = await runProbe(targets, ctx, { seed: 3 });
    const phased = await runProbe(targets, ctx, { seed: 3, phases });
    expect(phased.records).toEqual(single.records);
  });

  it('eval and re-probe attempts are fresh draws: their journal entries never reuse a label attempt', async () => {
    const journal = ProbeJournal.inMemory();
    const r = await runProbe(targets, ctx, { seed: 3, phases, journal });
    const byPhase = (p: string) => journal.entries().filter((e) => (e.phase ?? 'label') === p);
    expect(byPhase('eval').length).toBeGreaterThan(0);
    // The re-probe ran on the subset only, and every probed problem has its label and eval rates.
    expect(new Set(byPhase('reprobe').map((e) => e.problem_id))).toEqual(subset);
    for (const p of r.problems) {
      expect(Object.keys(p.rescue.eval ?? {})).toEqual(Object.keys(p.rescue.label ?? {}));
      expect(p.reprobeLabel === null).toBe(!subset.has(p.record.problem_id));
    }
    // Fresh seeds: somewhere the eval phase's outcome differs from the label phase's on the same unit.
    const outcome = (p: string) => new Map(byPhase(p).map((e) => [`${e.problem_id}/${e.rollout}/${e.operator}/${e.attempt}`, e.success]));
    const label = outcome('label');
    const differs = [...outcome('eval')].some(([k, v]) => label.has(k) && label.get(k) !== v);
    expect(differs).toBe(true);
  });

  it('costs are journalled per attempt and a resume neither repeats nor forgets them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'recov-phases-')), 'j.jsonl');
    const first = await runProbe(targets, ctx, { seed: 3, phases, journal: await ProbeJournal.open(path, { s: 1 }) });
    const dense = first.cost.dense_steer!;
    // Dense steer asks each model for one next-token distribution per position: one request per
    // decoded position per model, where a retry is one request for a whole continuation.
    expect(dense.requests).toBe(dense.generatedTokens);
    expect(dense.requests).toBeGreaterThan(10 * first.cost.retry!.requests);
    expect(first.cost.retry!.requests).toBeGreaterThan(0);
    const lines = readFileSync(path, 'utf8').trim().split('\n').length;
    const again = await runProbe(targets, ctx, { seed: 3, phases, journal: await ProbeJournal.open(path, { s: 1 }) });
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBe(lines);
    expect(again.cost).toEqual(first.cost);
    expect(again.problems).toEqual(first.problems);
  });
});
