import { PROSPECTIVE_REGIMES, type ProspectiveRegime } from '../core/regimes/prospectiveRegime.js';
import type { ReportVerdict } from './reportInputs.js';

/**
 * ReportVerdictSchema's parse written out, for a verdict as JSON.parse gives it (no `undefined`
 * values): the same output — only the schema's members, in its order, `unavailable` and
 * `reference` defaulted, arrays and objects copied — for every verdict the schema accepts, and
 * null for every other value (the caller then asks zod, which names what is wrong). The reader
 * checks 100k verdicts a report; zod took about a twentieth of the reading.
 * test/report/reportVerdictFast.test.ts pins it to the schema.
 */
export function reportVerdictFast(raw: unknown): ReportVerdict | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const v = raw as Record<string, unknown>;
  const { n_rollouts, n_passed, features, passed, unavailable, reference } = v;
  if (!isCount(n_rollouts) || !isCount(n_passed) || n_passed > n_rollouts) return null;
  let featuresOut: ReportVerdict['features'];
  if (features === null) featuresOut = null;
  else {
    if (typeof features !== 'object' || Array.isArray(features)) return null;
    const { spread, concentration, logit_dispersion } = features as Record<string, unknown>;
    if (!isNumberOrNull(spread) || !isNumberOrNull(concentration) || !isNumberOrNull(logit_dispersion)) return null;
    featuresOut = { spread, concentration, logit_dispersion };
  }
  // Members are added in the schema's order, as zod adds them.
  const out = { n_rollouts, n_passed, features: featuresOut } as ReportVerdict;
  if (passed !== undefined) {
    if (!Array.isArray(passed) || passed.length !== n_rollouts) return null;
    let trues = 0;
    for (const p of passed) {
      if (typeof p !== 'boolean') return null;
      if (p) trues++;
    }
    if (trues !== n_passed) return null;
    out.passed = passed.slice() as boolean[];
  }
  if (unavailable === undefined) out.unavailable = [];
  else {
    if (!Array.isArray(unavailable)) return null;
    for (const u of unavailable) if (typeof u !== 'string') return null;
    out.unavailable = unavailable.slice() as string[];
  }
  if (reference === undefined) out.reference = null;
  else {
    if (!isStringOrNull(reference)) return null;
    out.reference = reference;
  }
  // The optional members, each kept only when present.
  const { answer_entropy, wrong_mode_share, regime, route, route_reason, route_source, precision, policy, signals, ancestor_passed, row_key } = v;
  if (answer_entropy !== undefined) {
    if (!isNumberOrNull(answer_entropy)) return null;
    out.answer_entropy = answer_entropy;
  }
  if (wrong_mode_share !== undefined) {
    if (!isNumberOrNull(wrong_mode_share)) return null;
    out.wrong_mode_share = wrong_mode_share;
  }
  if (regime !== undefined) {
    if (!(PROSPECTIVE_REGIMES as readonly unknown[]).includes(regime)) return null;
    out.regime = regime as ProspectiveRegime;
  }
  if (route !== undefined) {
    if (!isStringOrNull(route)) return null;
    out.route = route;
  }
  if (route_reason !== undefined) {
    if (typeof route_reason !== 'string') return null;
    out.route_reason = route_reason;
  }
  if (route_source !== undefined) {
    if (route_source !== 'policy' && route_source !== 'paper_rule') return null;
    out.route_source = route_source;
  }
  if (precision !== undefined) {
    if (!(precision === null || isShare(precision))) return null;
    out.precision = precision;
  }
  if (policy !== undefined) {
    if (!isStringOrNull(policy)) return null;
    out.policy = policy;
  }
  if (signals !== undefined) {
    if (signals === null) out.signals = null;
    else {
      if (typeof signals !== 'object' || Array.isArray(signals)) return null;
      const rate = (signals as Record<string, unknown>).ancestor_pass_rate;
      if (rate === undefined) out.signals = {};
      else if (rate === null || isShare(rate)) out.signals = { ancestor_pass_rate: rate };
      else return null;
    }
  }
  if (ancestor_passed !== undefined) {
    if (ancestor_passed === null) out.ancestor_passed = null;
    else {
      if (!Array.isArray(ancestor_passed)) return null;
      for (const p of ancestor_passed) if (typeof p !== 'boolean') return null;
      out.ancestor_passed = ancestor_passed.slice() as boolean[];
    }
  }
  if (row_key !== undefined) {
    if (!isStringOrNull(row_key)) return null;
    out.row_key = row_key;
  }
  return out;
}

/** A whole number ≥ 0 that is exactly representable (zod's `.int().nonnegative()`). */
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
/** A finite number (zod's `z.number()`), or null. */
const isNumberOrNull = (x: unknown): x is number | null => x === null || (typeof x === 'number' && Number.isFinite(x));
const isStringOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
/** A number in [0, 1] (zod's `z.number().min(0).max(1)`). */
const isShare = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
