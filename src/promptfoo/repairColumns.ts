import { extractAnswer } from '../core/grading/extractAnswer.js';
import type { RepairRecord } from './repairMetadata.js';
import type { RolloutCheck } from './rolloutGrader.js';

/** What gradeRollouts adds to a row for the provider's repair: named scores and one sentence for the reason. */
export interface RepairColumns {
  /**
   * `rescued` (1/0): the repaired text passes the assertion's own grader — on every row with a
   * failed rollout whose route ran or was `stop` (0, nothing spent), so its eval-level average is
   * the rescue rate of the recommendation; `repair_attempts`, `repair_tokens` (generated): what
   * it spent. None when nothing failed or the route could not run; no `rescued` after an error.
   */
  scores: Record<string, number>;
  /** Starts with a space, ends with a full stop (or is empty). */
  reason: string;
}

/**
 * The repair's columns for one row. The repaired text is graded again with the assertion's
 * grader (`check`), so `rescued` means what the row's other columns mean; where the provider's
 * repair grader judged it otherwise, the reason says so.
 */
export async function repairColumns(record: RepairRecord, check: RolloutCheck, vars: Record<string, unknown>): Promise<RepairColumns> {
  const { route } = record;
  const spent = `${record.tokens} tokens, ${record.requests} requests`;
  if (route === null) {
    return { scores: {}, reason: record.error ? ` Repair could not start: ${record.error}.` : '' };
  }
  if (record.note) return { scores: {}, reason: ` Repair: ${route} could not run here: ${record.note}.` };
  const cost = { repair_attempts: record.attempts, repair_tokens: record.tokens };
  if (record.error) {
    return { scores: cost, reason: ` Repair (${route}) ended after ${record.attempts} of ${record.budget} attempts by an error: ${record.error}; the original rollouts are kept (${spent}).` };
  }
  if (record.attempts === 0) return { scores: { rescued: 0, ...cost }, reason: ` Repair: ${route} — nothing spent.` };
  const passes = record.text !== null && (await check({ text: record.text, answer: extractAnswer(record.text), index: record.rescued_rollout ?? 0 }, vars)).pass;
  const disagree =
    passes === record.rescued
      ? ''
      : ` (the provider's repair grader judged it ${record.rescued ? 'a pass' : 'a fail'}: give repair.grader the assertion's grader)`;
  const what = passes
    ? record.rescued
      ? `${route} rescued the row on attempt ${record.attempts} of ${record.budget}, acting on rollout #${record.rescued_rollout}`
      : `${route}'s last attempt passes this assertion's grader`
    : `${route} did not rescue the row in ${record.attempts} attempt${record.attempts === 1 ? '' : 's'} (budget ${record.budget})`;
  return { scores: { rescued: passes ? 1 : 0, ...cost }, reason: ` Repair: ${what} (${spent})${disagree}.` };
}
