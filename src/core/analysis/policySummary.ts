import type { PolicySummary } from '../contracts/evalReport.js';
import type { Policy } from '../policy/policySchema.js';

/**
 * The evidence behind a learned policy, from policy.json, as the report shows it: the probe it
 * was calibrated on, what was chosen and why, every routing candidate (the learned policy, the
 * paper's rule, every fixed operator) with its cross-validated rescue over all probed rows and over
 * the steerable ones, and its paired difference against the best fixed operator — each a mean with
 * its 95% bootstrap interval — and the regime estimate's candidates by balanced accuracy.
 */
export function policySummary(path: string, policy: Policy): PolicySummary {
  return {
    path,
    probe: { path: policy.probe.path, rows: policy.probe.rows, settings: policy.probe.settings, split: policy.probe.split },
    choice: { ...policy.choice },
    candidates: policy.candidates.map((c) => ({
      name: c.name,
      kind: c.kind,
      operator: c.operator,
      available: c.available,
      note: c.note,
      rescue_all: { ...c.rescue_all },
      rescue_steerable: { ...c.rescue_steerable },
      vs_best_fixed: c.vs_best_fixed ? { ...c.vs_best_fixed } : null,
    })),
    regime_estimate: {
      chosen: policy.regime_estimate.chosen,
      why: policy.regime_estimate.why,
      candidates: policy.regime_estimate.candidates.map((c) => ({ name: c.name, available: c.available, balanced_accuracy: c.balanced_accuracy, accuracy: c.accuracy, note: c.note })),
      ceiling: policy.regime_estimate.ceiling ? { ...policy.regime_estimate.ceiling } : null,
    },
    warnings: [...policy.warnings],
  };
}
