import { ProbeRecordSchema, type ProbeRecord } from '../../src/core/contracts/probeRecord.js';
import { seededRandom } from '../../src/core/random/seededRandom.js';

/**
 * A planted probe of given failing rows, for tests of the report's joining and statistics — not
 * a measurement: every operator's per-rollout rescue probability is planted from the row's own
 * signals (dense steer works where the ancestor solves the problem, retry as often as the row's
 * pass rate), and each split's rate is a seeded binomial draw over `probed` failed rollouts.
 */
export interface FixtureRow {
  test_key: string;
  description?: string;
  n_rollouts: number;
  n_passed: number;
  ancestor_pass_rate: number | null;
  spread: number | null;
  concentration: number | null;
  logit_dispersion: number | null;
}

export const FIXTURE_OPERATORS = ['retry', 'sparse_steer', 'sparse_steer_random', 'local_temp', 'dense_steer'] as const;

export function plantedProbe(rows: readonly FixtureRow[], options: { seed?: number; probed?: number; reprobeEvery?: number; settings?: string | null } = {}): ProbeRecord[] {
  const random = seededRandom(options.seed ?? 1);
  const probed = options.probed ?? 4;
  const draw = (p: number) => {
    let k = 0;
    for (let i = 0; i < probed; i++) if (random.uniform() < p) k++;
    return k / probed;
  };
  return rows.map((r, i) => {
    const ancestor = r.ancestor_pass_rate ?? 0;
    const p: Record<string, number> = {
      retry: Math.min(0.95, r.n_passed / r.n_rollouts),
      sparse_steer: 0.15,
      sparse_steer_random: 0.05,
      local_temp: 0.1,
      dense_steer: ancestor >= 0.5 ? 0.7 : 0.05,
    };
    const rates = () => Object.fromEntries(FIXTURE_OPERATORS.map((op) => [op, draw(p[op]!)]));
    const label_rescue = rates();
    const eval_rescue = rates();
    const record = ProbeRecordSchema.parse({
      problem_id: r.test_key,
      description: r.description ?? null,
      cell: 'fixture',
      n_rollouts: r.n_rollouts,
      n_passed: r.n_passed,
      pass_rate: r.n_passed / r.n_rollouts,
      spread: r.spread,
      concentration: r.concentration,
      logit_dispersion: r.logit_dispersion,
      ancestor_pass_rate: r.ancestor_pass_rate,
      ancestor_samples: r.ancestor_pass_rate === null ? null : 4,
      n_probed: probed,
      label_attempts: 1,
      eval_attempts: 1,
      label_rescue,
      eval_rescue,
      split: 'disjoint',
      settings: options.settings === undefined ? 'fixture0000000000' : options.settings,
    });
    if (options.reprobeEvery && i % options.reprobeEvery === 0) {
      const again = rates();
      record.reprobe_label = ProbeRecordSchema.parse({ problem_id: 'x', label_rescue: again, eval_rescue: again, split: 'same' }).label;
    }
    return record;
  });
}

/** Journal lines (header and attempts) of a planted probe: `attempts` eval-phase attempts per operator and failed rollout, stopping at the first success. */
export function plantedJournal(records: readonly ProbeRecord[], settings: unknown, options: { seed?: number; rollouts?: number; attempts?: number } = {}): string {
  const random = seededRandom(options.seed ?? 2);
  const lines = [JSON.stringify({ probe_journal: 1, settings })];
  for (const r of records) {
    for (let rollout = 0; rollout < (options.rollouts ?? 2); rollout++) {
      for (const op of FIXTURE_OPERATORS) {
        for (const phase of ['label', 'eval'] as const) {
          const p = (phase === 'label' ? r.label_rescue : r.eval_rescue)[op]!;
          for (let attempt = 0; attempt < (options.attempts ?? 3); attempt++) {
            const success = random.uniform() < p;
            lines.push(JSON.stringify({ problem_id: r.problem_id, rollout, operator: op, attempt, phase, success, position: null, token: null, tokens: 10, prompt_tokens: 5, requests: 1 }));
            if (success) break;
          }
        }
      }
    }
  }
  return lines.join('\n') + '\n';
}
