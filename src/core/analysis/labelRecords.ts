import type { Eq2Thresholds } from '../defaults.js';
import type { Label } from '../contracts/operators.js';
import type { ProblemRecord } from '../contracts/problemRecord.js';
import { eq2Label } from '../labels/eq2Label.js';
import { ContractError } from '../contracts/validate.js';

export type LabelledRecord = ProblemRecord & { label: Label };

/**
 * Gives every record its Eq. 2 label: computed from its rescue rates when it has them (a
 * label that came with the record is then only a cross-check, and the computed one wins),
 * otherwise the label it came with. Throws a ContractError (bad input, not a bug), naming the
 * record, when it has neither or its rescue rates cannot be labelled.
 */
export function labelRecords(records: readonly ProblemRecord[], thresholds: Partial<Eq2Thresholds> = {}): LabelledRecord[] {
  return records.map((r, i) => {
    if (r.rescue && Object.keys(r.rescue).length > 0) {
      try {
        return { ...r, label: eq2Label(r.rescue, thresholds) };
      } catch (err) {
        throw new ContractError(`record #${i} (${r.problem_id}): ${(err as Error).message}`, [{ path: `[${i}].rescue`, message: (err as Error).message }]);
      }
    }
    if (r.label) return { ...r, label: r.label };
    throw new ContractError(
      `record #${i} (${r.problem_id}) has neither rescue rates nor a label: run the rescue probe, or add a "label" (resample, steerable, beyond_reach)`,
      [{ path: `[${i}]`, message: 'needs "rescue" rates or a "label"' }],
    );
  });
}
