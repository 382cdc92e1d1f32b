import { z } from 'zod';
import { eq2Label } from '../labels/eq2Label.js';
import { LabelSchema, OperatorNameSchema, RETRY } from './operators.js';

/**
 * The prospective signals of a failing row: what is known before any repair is tried, and what
 * a policy may read. Null means "not measured" (no log-probs, no ancestor, no ancestor samples).
 * - pass_rate: n_passed / n_rollouts of the specialist on the prompt;
 * - spread, concentration, logit_dispersion: the trajectory features (need log-probs and an ancestor);
 * - ancestor_pass_rate: the ancestor's own pass rate on the prompt (over ancestor_samples samples);
 * - answer_entropy, wrong_mode_share: the failed rollouts' answer distribution (black-box);
 * - mean_token_entropy, mean_logprob, min_window_confidence, dispersion_at_min_confidence:
 *   specialist-only signals over the failed rollouts.
 */
export const PROBE_SIGNALS = [
  'pass_rate',
  'spread',
  'concentration',
  'logit_dispersion',
  'ancestor_pass_rate',
  'answer_entropy',
  'wrong_mode_share',
  'mean_token_entropy',
  'mean_logprob',
  'min_window_confidence',
  'dispersion_at_min_confidence',
] as const;
export type ProbeSignal = (typeof PROBE_SIGNALS)[number];

/**
 * How the two rescue rates of a row relate:
 * - disjoint: `label_rescue` and `eval_rescue` come from disjoint attempts (the probe's contract);
 * - same: one set of attempts gives both (the paper's table, the old `probe --sim` CSV), so any
 *   rescue reported on rows selected by their label carries the selection bias.
 */
export const PROBE_SPLITS = ['disjoint', 'same'] as const;
export const ProbeSplitSchema = z.enum(PROBE_SPLITS);
export type ProbeSplit = z.infer<typeof ProbeSplitSchema>;

const signal = z.number({ error: 'expected a finite number (or null: not measured)' }).nullable().default(null);
const share = z.number({ error: 'expected a share from 0 to 1 (or null: not measured)' }).min(0, 'a share is ≥ 0').max(1, 'a share is ≤ 1').nullable().default(null);
const count = (min: number) => z.number({ error: `expected a whole number ≥ ${min} (or null: unknown)` }).int('expected a whole number').min(min).nullable().default(null);
const rate = z.number({ error: 'expected a rescue rate from 0 to 1' }).min(0, 'a rescue rate is ≥ 0').max(1, 'a rescue rate is ≤ 1');
const rates = z.record(OperatorNameSchema, rate);

const ProbeRecordObject = z.object({
  /** A stable key of the test (the same prompt always gives the same id). */
  problem_id: z.string().min(1, 'expected a problem id'),
  /** promptfoo's test description, for people. */
  description: z.string().nullable().default(null),
  /** Model × task cell (e.g. `my-fine-tune|gsm8k`). */
  cell: z.string().min(1, 'expected a cell name').default('all'),
  model: z.string().nullable().default(null),
  task: z.string().nullable().default(null),

  n_rollouts: count(1),
  n_passed: count(0),
  pass_rate: share,
  spread: share,
  concentration: signal,
  logit_dispersion: signal,
  ancestor_pass_rate: share,
  ancestor_samples: count(1),
  answer_entropy: z.number({ error: 'expected an entropy ≥ 0 (or null)' }).min(0, 'an entropy is ≥ 0').nullable().default(null),
  wrong_mode_share: share,
  mean_token_entropy: z.number({ error: 'expected an entropy ≥ 0 (or null)' }).min(0, 'an entropy is ≥ 0').nullable().default(null),
  mean_logprob: z.number({ error: 'expected a log-prob ≤ 0 (or null)' }).max(0, 'a log-prob is ≤ 0').nullable().default(null),
  min_window_confidence: signal,
  dispersion_at_min_confidence: signal,

  /** Failed rollouts probed (null only for tables that never said: the paper's, the old sim probe). */
  n_probed: count(1),
  /** Attempts per probed rollout per operator in each split (best-of-n). */
  label_attempts: count(1),
  eval_attempts: count(1),
  /** Rescue rate per operator from the attempts that decide the Eq. 2 label. */
  label_rescue: rates,
  /** Rescue rate per operator from fresh attempts: the rescue that gets reported. */
  eval_rescue: rates,
  /** Tokens spent per operator on this row (both splits); operators not listed were not counted. */
  tokens: z.record(OperatorNameSchema, z.number().int('expected a whole number of tokens').nonnegative()).default({}),
  /** Eq. 2 on `label_rescue`; computed when absent, refused when it disagrees. */
  label: LabelSchema.optional(),
  /** Eq. 2 label of an independent re-probe of this row (a subset), for the noise ceiling. */
  reprobe_label: LabelSchema.nullable().default(null),
  split: ProbeSplitSchema,
  /** Fingerprint of the probe's settings (models, temperature, attempts, junction mode, seed). */
  settings: z.string().nullable().default(null),
});

const sameKeys = (a: Record<string, number>, b: Record<string, number>) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
};

/**
 * One probed failing row: who it is, its prospective signals, and the measurement — rescue rates
 * of every operator from two disjoint sets of attempts (label / eval), the Eq. 2 label of the
 * label split, an optional independent re-probe label, and tokens spent. The contract between
 * the rescue probe (which writes it, as probe.csv or JSONL) and `recoverability calibrate`.
 */
export const ProbeRecordSchema = ProbeRecordObject.superRefine((r, ctx) => {
  if (r.n_rollouts !== null && r.n_passed !== null) {
    if (r.n_passed >= r.n_rollouts) {
      ctx.addIssue({ code: 'custom', path: ['n_passed'], message: `a probed row must have failed rollouts: n_passed (${r.n_passed}) must be below n_rollouts (${r.n_rollouts})` });
    } else if (r.pass_rate !== null && Math.abs(r.pass_rate - r.n_passed / r.n_rollouts) > 1e-6) {
      ctx.addIssue({ code: 'custom', path: ['pass_rate'], message: `pass_rate ${r.pass_rate} is not n_passed / n_rollouts = ${r.n_passed}/${r.n_rollouts}` });
    }
  } else if ((r.n_rollouts === null) !== (r.n_passed === null)) {
    ctx.addIssue({ code: 'custom', path: [r.n_rollouts === null ? 'n_rollouts' : 'n_passed'], message: 'give n_rollouts and n_passed together (or neither)' });
  }
  if ((r.ancestor_pass_rate === null) !== (r.ancestor_samples === null)) {
    ctx.addIssue({ code: 'custom', path: [r.ancestor_pass_rate === null ? 'ancestor_pass_rate' : 'ancestor_samples'], message: 'give ancestor_pass_rate and ancestor_samples together (or neither)' });
  }
  if (r.label_rescue[RETRY] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['label_rescue', RETRY], message: 'Eq. 2 needs the retry rescue rate' });
  }
  if (Object.keys(r.label_rescue).filter((op) => op !== RETRY).length === 0) {
    ctx.addIssue({ code: 'custom', path: ['label_rescue'], message: 'needs at least one intervention besides retry' });
  }
  if (!sameKeys(r.label_rescue, r.eval_rescue)) {
    ctx.addIssue({ code: 'custom', path: ['eval_rescue'], message: `must name the same operators as label_rescue (${Object.keys(r.label_rescue).join(', ')})` });
  }
  if (r.split === 'same' && Object.entries(r.label_rescue).some(([op, v]) => r.eval_rescue[op] !== v)) {
    ctx.addIssue({ code: 'custom', path: ['split'], message: 'split "same" means label and eval rates come from the same attempts, but they differ: use "disjoint"' });
  }
  for (const op of Object.keys(r.tokens)) {
    if (r.label_rescue[op] === undefined) ctx.addIssue({ code: 'custom', path: ['tokens', op], message: `tokens for an operator with no rescue rates ("${op}")` });
  }
  if (r.label !== undefined && r.label_rescue[RETRY] !== undefined && Object.keys(r.label_rescue).length > 1) {
    const computed = eq2Label(r.label_rescue);
    if (computed !== r.label) {
      ctx.addIssue({ code: 'custom', path: ['label'], message: `says "${r.label}" but Eq. 2 on the label-split rates gives "${computed}": leave it blank to compute it` });
    }
  }
}).transform((r) => ({ ...r, label: r.label ?? eq2Label(r.label_rescue) }));

export type ProbeRecord = z.output<typeof ProbeRecordSchema>;
export type ProbeRecordInput = z.input<typeof ProbeRecordSchema>;

/** The operators a record measured, retry first, then in the record's order. */
export function probeOperators(record: Pick<ProbeRecord, 'label_rescue'>): string[] {
  const ops = Object.keys(record.label_rescue);
  return [RETRY, ...ops.filter((op) => op !== RETRY)].filter((op) => ops.includes(op));
}
