import { LABELS, type Label } from '../contracts/operators.js';
import { probeOperators, type ProbeRecord, type ProbeSplit } from '../contracts/probeRecord.js';
import { seedOf } from '../random/seededRandom.js';
import { accuracy, balancedAccuracy } from './balancedAccuracy.js';
import { bootstrapInterval, type Estimate } from './bootstrapInterval.js';
import { cohenKappa } from './cohenKappa.js';
import { confusionMatrix } from './confusionMatrix.js';
import { crossValidate, crossValidationFolds } from './crossValidation.js';
import { landOn, treeSignals } from './decisionTree.js';
import { fitPaperRule, paperRuleDecision } from './paperRule.js';
import { fitPolicyTree, STOP, type PolicyNode } from './policyTree.js';
import {
  POLICY_FORMAT,
  POLICY_VERSION,
  type EstimateJson,
  type Policy,
  type RegimeCandidate,
  type RegimeModel,
  type RouteCandidate,
  type RouteModel,
} from './policySchema.js';
import { fitRegimeTree, type RegimeNode } from './regimeTree.js';
import { recordSignals, usableSignals, type ProbeSignal, type RowSignals } from './signals.js';

/** Where the probe came from (read by the caller; the core does no I/O). */
export interface ProbeSource {
  path: string;
  sha256: string;
}

export interface CalibrateOptions {
  /** Cross-validation folds (default 5). */
  folds?: number;
  /** Seed of the fold assignment and every bootstrap (default 0). */
  seed?: number;
  /** Bootstrap resamples per interval (default 2000). */
  resamples?: number;
  /** Depth of the learned trees, 0–2 (default 2). */
  maxDepth?: number;
  /** Fewest training rows per leaf (default max(5, 5% of the rows)). */
  minLeaf?: number;
  /** Candidate thresholds per signal (default 24). */
  thresholds?: number;
  /** A policy leaf whose best operator rescues under this share routes to stop (default 0.05). */
  stopBelow?: number;
  /** Fewest probed rows to calibrate on (default 40). */
  minRows?: number;
}

/** A probe too small or inconsistent to calibrate on; the message says what to do. */
export class CalibrationError extends Error {
  override readonly name = 'CalibrationError';
}

/** The fewest probed failing rows `calibrate` fits on by default. */
export const MIN_PROBED_ROWS = 40;

interface Row {
  record: ProbeRecord;
  signals: RowSignals;
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
const points = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`);
const interval = (e: EstimateJson) => `${pct(e.mean)} [${pct(e.lo)}, ${pct(e.hi)}]`;
const orNull = (x: number) => (Number.isFinite(x) ? x : null);
const toJson = (e: Estimate): EstimateJson => ({ mean: orNull(e.mean), lo: orNull(e.lo), hi: orNull(e.hi), n: e.n });

/**
 * Measure, then route: from probed failing rows, fit and choose the routing policy and the regime
 * estimate, honestly.
 * - Candidates for routing: a learned policy tree (fitPolicyTree, on the label-split rescue),
 *   the paper's rule (z over the training fold's failures), and every fixed operator. Learned
 *   and paper's rule are scored out of fold (k-fold by problem, stratified by label); every
 *   score is the EVAL-split rescue of the route taken (stop rescues 0), over all rows and over
 *   the rows labelled steerable, with seeded bootstrap intervals, and as a paired difference
 *   against the best fixed operator (the one with the best eval rescue over all rows — a choice
 *   made on the evaluation data, which favours it).
 * - Choice: the learned policy or the paper's rule when its paired difference's interval lies
 *   above 0 (the better of them if both), else the best fixed operator.
 * - Regime: a learned regime tree (fitRegimeTree) vs the paper's estimate vs the majority class,
 *   by out-of-fold balanced accuracy against the label split's Eq. 2 label; the best is kept
 *   with its out-of-fold precision per regime. Rows with `reprobe_label` give the ceiling:
 *   probe-vs-re-probe agreement, Cohen's κ and balanced accuracy.
 * The chosen models are then refitted on all rows. Throws a CalibrationError when there are too
 * few rows or the rows disagree on the operators measured.
 */
export function calibratePolicy(records: readonly ProbeRecord[], source: ProbeSource, options: CalibrateOptions = {}): Policy {
  const n = records.length;
  const { folds = 5, seed = 0, resamples = 2000, maxDepth = 2, thresholds = 24, stopBelow = 0.05, minRows = MIN_PROBED_ROWS } = options;
  const minLeaf = options.minLeaf ?? Math.max(5, Math.round(0.05 * n));
  if (n < minRows) {
    throw new CalibrationError(
      `calibrate needs at least ${minRows} probed failing rows to cross-validate a policy, got ${n}: probe more failing rows (fitting on fewer would fit noise)`,
    );
  }
  const operators = probeOperators(records[0]!);
  records.forEach((r, i) => {
    const ops = probeOperators(r);
    if (ops.length !== operators.length || ops.some((op) => !operators.includes(op))) {
      throw new CalibrationError(`row #${i + 1} (${r.problem_id}) measured ${ops.join(', ')} but row #1 measured ${operators.join(', ')}: every row needs the same operators`);
    }
  });
  const splits = new Set(records.map((r) => r.split));
  const split: ProbeSplit = splits.has('same') ? 'same' : 'disjoint';
  const settingsSeen = [...new Set(records.map((r) => r.settings))];
  if (settingsSeen.length > 1) {
    throw new CalibrationError(`the rows come from probes with different settings (${settingsSeen.map((s) => s ?? '(none)').join(', ')}): calibrate on one probe's rows at a time`);
  }

  const rows: Row[] = records.map((record) => ({ record, signals: recordSignals(record) }));
  const labels = records.map((r) => r.label);
  const groups = records.map((r) => `${r.task ?? r.cell}\u241f${r.problem_id}`);
  let fold: number[];
  try {
    fold = crossValidationFolds(groups, labels, folds, seed);
  } catch (err) {
    throw new CalibrationError(`${(err as Error).message}: use fewer --folds or probe more problems`);
  }
  const { usable, skipped } = usableSignals(rows.map((r) => r.signals));
  const treeOptions = { maxDepth, minLeaf, thresholds, stopBelow };
  const warnings: string[] = [];
  if (split === 'same') {
    warnings.push(
      'label and eval rescue rates coincide (one set of attempts per row, as in the paper\'s table): rescue on the rows labelled steerable carries the selection bias (retry is low there by construction)',
    );
  }
  if (usable.length === 0) warnings.push('no signal was measured on every row: the learned policy can only pick one operator');

  // Routing candidates, out of fold.
  const fitTree = (train: Row[]) => fitPolicyTree(train.map((r) => ({ signals: r.signals, rescue: r.record.label_rescue })), usable, operators, treeOptions);
  const routeByTree = (tree: PolicyNode, row: Row) => {
    const landing = landOn(tree, row.signals);
    if ('missing' in landing) throw new Error(`row ${row.record.problem_id} lacks ${landing.missing}, a signal measured on every row`);
    return landing.leaf.route;
  };
  const learnedRoutes = crossValidate(rows, fold, fitTree, routeByTree);
  const paperDecisions = crossValidate(
    rows,
    fold,
    (train) => fitPaperRule(train.map((r) => r.signals)),
    (scale, row) => paperRuleDecision(scale, row.signals),
  );

  const steerable = records.map((r) => r.label === 'steerable');
  const rescueOf = (route: string, r: ProbeRecord) => (route === STOP ? 0 : r.eval_rescue[route]!);
  const estimate = (values: number[], what: string): EstimateJson => toJson(bootstrapInterval(values, { resamples, seed: seedOf(seed, what) }));
  const countRoutes = (routes: string[]) => routes.reduce<Record<string, number>>((acc, op) => ((acc[op] = (acc[op] ?? 0) + 1), acc), {});

  const fixedMeans = operators.map((op) => records.reduce((s, r) => s + r.eval_rescue[op]!, 0) / n);
  let bestIdx = 0;
  fixedMeans.forEach((m, i) => {
    if (m > fixedMeans[bestIdx]! + 1e-12) bestIdx = i;
  });
  const bestFixed = operators[bestIdx]!;
  const bestFixedValues = records.map((r) => r.eval_rescue[bestFixed]!);

  const candidate = (name: string, kind: RouteCandidate['kind'], operator: string | null, routes: string[]): RouteCandidate => {
    const unmeasured = [...new Set(routes)].filter((op) => op !== STOP && !operators.includes(op));
    if (unmeasured.length > 0) {
      const empty = { mean: null, lo: null, hi: null, n: 0 };
      return { name, kind, operator, available: false, note: `routes to ${unmeasured.join(', ')}, which the probe did not measure`, rescue_all: empty, rescue_steerable: empty, vs_best_fixed: null, routes: countRoutes(routes) };
    }
    const values = records.map((r, i) => rescueOf(routes[i]!, r));
    return {
      name,
      kind,
      operator,
      available: true,
      note: null,
      rescue_all: estimate(values, `${name}/all`),
      rescue_steerable: estimate(values.filter((_, i) => steerable[i]), `${name}/steerable`),
      vs_best_fixed: operator === bestFixed ? null : estimate(values.map((v, i) => v - bestFixedValues[i]!), `${name}/diff`),
      routes: countRoutes(routes),
    };
  };
  const learned = candidate('learned policy', 'learned', null, learnedRoutes);
  const paper = candidate("paper's rule", 'paper_rule', null, paperDecisions.map((d) => d.route));
  const fixed = operators.map((op) => candidate(`always ${op}`, 'fixed', op, records.map(() => op)));
  const candidates = [learned, paper, ...fixed];

  // The choice.
  const best = fixed.find((c) => c.operator === bestFixed)!;
  const beats = (c: RouteCandidate) => c.available && c.vs_best_fixed !== null && (c.vs_best_fixed.lo ?? -Infinity) > 0;
  const winners = [learned, paper].filter(beats).sort((a, b) => (b.rescue_all.mean ?? 0) - (a.rescue_all.mean ?? 0));
  const chosen = winners[0] ?? best;
  const describe = (c: RouteCandidate) =>
    c.available ? `${c.name} ${interval(c.rescue_all)} (${points(c.vs_best_fixed?.mean ?? null)} points vs always ${bestFixed}, 95% [${points(c.vs_best_fixed?.lo ?? null)}, ${points(c.vs_best_fixed?.hi ?? null)}])` : `${c.name}: ${c.note}`;
  const why =
    chosen === best
      ? `no candidate beats always ${bestFixed} ${interval(best.rescue_all)} with a paired 95% interval above 0 — ${[learned, paper].map(describe).join('; ')} — so every failing row gets ${bestFixed}`
      : `${describe(chosen)}: its paired 95% interval lies above 0`;

  // The regime estimate.
  const regimeTree = (train: Row[]) => fitRegimeTree(train.map((r) => ({ signals: r.signals, label: r.record.label })), usable, { maxDepth, minLeaf });
  const regimeByTree = (tree: RegimeNode, row: Row): Label => {
    const landing = landOn(tree, row.signals);
    if ('missing' in landing) throw new Error(`row ${row.record.problem_id} lacks ${landing.missing}, a signal measured on every row`);
    return landing.leaf.regime;
  };
  const majorityOf = (train: Row[]): Label => {
    const counts = LABELS.map((l) => train.filter((r) => r.record.label === l).length);
    return LABELS[counts.indexOf(Math.max(...counts))]!;
  };
  const learnedRegimes = crossValidate(rows, fold, regimeTree, regimeByTree);
  const majorityRegimes = crossValidate(rows, fold, majorityOf, (m) => m);
  const paperRegimes = paperDecisions.map((d) => d.regime);
  const countsKnown = records.every((r) => r.n_rollouts !== null);
  const regimeCandidate = (name: RegimeCandidate['name'], predicted: string[], available: boolean, note: string | null): RegimeCandidate => ({
    name,
    available,
    note,
    balanced_accuracy: available ? orNull(balancedAccuracy(labels, predicted)) : null,
    accuracy: available ? orNull(accuracy(labels, predicted)) : null,
    confusion: available ? confusionMatrix<Label, string>(labels, predicted, LABELS, [...LABELS, ...(predicted.includes('unjudged') ? ['unjudged'] : [])]) : emptyConfusion(),
  });
  const regimeCandidates = [
    regimeCandidate('learned', learnedRegimes, true, usable.length === 0 ? 'no usable signal: one regime for every row' : null),
    regimeCandidate('paper_rule', paperRegimes, countsKnown, countsKnown ? null : 'needs n_rollouts and n_passed on every row (the paper\'s table has neither)'),
    regimeCandidate('majority', majorityRegimes, true, null),
  ];
  const regimeOrder: RegimeCandidate['name'][] = ['majority', 'paper_rule', 'learned'];
  let regimeChoice = regimeCandidates.find((c) => c.name === 'majority')!;
  for (const name of regimeOrder) {
    const c = regimeCandidates.find((x) => x.name === name)!;
    if (c.available && (c.balanced_accuracy ?? -1) > (regimeChoice.balanced_accuracy ?? -1) + 1e-12) regimeChoice = c;
  }
  const chosenRegimes = regimeChoice.name === 'learned' ? learnedRegimes : regimeChoice.name === 'paper_rule' ? paperRegimes : majorityRegimes;
  const precision = Object.fromEntries(
    LABELS.map((l) => {
      const predicted = chosenRegimes.map((p, i) => (p === l ? i : -1)).filter((i) => i >= 0);
      const correct = predicted.filter((i) => labels[i] === l).length;
      return [l, { precision: predicted.length > 0 ? correct / predicted.length : null, n: predicted.length }];
    }),
  ) as Policy['regime']['precision'];
  const reprobed = records.filter((r) => r.reprobe_label !== null);
  const ceiling =
    reprobed.length === 0
      ? null
      : {
          n: reprobed.length,
          agreement: orNull(accuracy(reprobed.map((r) => r.label), reprobed.map((r) => r.reprobe_label!))),
          kappa: orNull(cohenKappa(reprobed.map((r) => r.label), reprobed.map((r) => r.reprobe_label!))),
          balanced_accuracy: orNull(balancedAccuracy(reprobed.map((r) => r.label), reprobed.map((r) => r.reprobe_label!))),
        };
  const ba = (c: RegimeCandidate) => (c.balanced_accuracy === null ? '—' : c.balanced_accuracy.toFixed(3));
  const regimeWhy =
    `${regimeChoice.name} has the best cross-validated balanced accuracy (${regimeCandidates.filter((c) => c.available).map((c) => `${c.name} ${ba(c)}`).join(', ')})` +
    (ceiling ? `; probe vs re-probe on ${ceiling.n} rows: ${ceiling.balanced_accuracy?.toFixed(3) ?? '—'}` : '; no re-probed rows, so no ceiling');

  // Refit the chosen models on every row.
  const route: RouteModel =
    chosen.kind === 'learned'
      ? { kind: 'tree', tree: fitTree(rows), fallback: bestFixed }
      : chosen.kind === 'paper_rule'
        ? { kind: 'paper_rule', scale: fitPaperRule(rows.map((r) => r.signals))! }
        : { kind: 'fixed', operator: bestFixed };
  const regimeModel: RegimeModel =
    regimeChoice.name === 'learned'
      ? { kind: 'tree', tree: regimeTree(rows) }
      : regimeChoice.name === 'paper_rule'
        ? { kind: 'paper_rule', scale: fitPaperRule(rows.map((r) => r.signals))! }
        : { kind: 'majority', regime: majorityOf(rows) };
  const needs = new Set<ProbeSignal>();
  if (route.kind === 'tree') treeSignals(route.tree).forEach((s) => needs.add(s));
  if (regimeModel.kind === 'tree') treeSignals(regimeModel.tree).forEach((s) => needs.add(s));
  if (route.kind === 'paper_rule' || regimeModel.kind === 'paper_rule') ['spread', 'concentration', 'logit_dispersion'].forEach((s) => needs.add(s as ProbeSignal));

  return {
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    probe: { path: source.path, rows: n, sha256: source.sha256, settings: settingsSeen[0] ?? null, split },
    settings: { folds, seed, resamples, max_depth: maxDepth, min_leaf: minLeaf, thresholds, stop_below: stopBelow },
    operators,
    label_counts: Object.fromEntries(LABELS.map((l) => [l, labels.filter((x) => x === l).length])) as Policy['label_counts'],
    signals: { usable, skipped: skipped as Record<string, string> },
    needs: [...needs],
    route,
    regime: { name: regimeChoice.name, model: regimeModel, precision },
    choice: { name: chosen.name, kind: chosen.kind, best_fixed: bestFixed, why },
    candidates,
    regime_estimate: { chosen: regimeChoice.name, why: regimeWhy, candidates: regimeCandidates, ceiling },
    warnings,
  };
}

function emptyConfusion(): Record<Label, Record<string, number>> {
  return Object.fromEntries(LABELS.map((l) => [l, {}])) as Record<Label, Record<string, number>>;
}
