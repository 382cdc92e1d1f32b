import type { GateCheck, GateResult } from '../core/gate/compareEvals.js';
import type { TestRef } from '../core/gate/matchTests.js';
import { mdText } from './markdownText.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const SYMBOL: Record<GateCheck['status'], string> = { fail: '✗', inconclusive: '?', pass: '✓', report: '·' };
const needed = (c: GateCheck) => (c.testsNeeded ? ` (${c.testsNeeded.formula}, z = Φ⁻¹(1 − α/2))` : '');

/** "PASS (40 tests compared; 1 check inconclusive)". */
function headline(g: GateResult): string {
  const inconclusive = g.checks.filter((c) => c.status === 'inconclusive').length;
  const failed = g.checks.filter((c) => c.status === 'fail').length;
  const notes = [`${g.suite.shared} tests compared`];
  if (failed > 0) notes.push(`${failed} check${failed === 1 ? '' : 's'} failed`);
  if (inconclusive > 0) notes.push(`${inconclusive} check${inconclusive === 1 ? '' : 's'} inconclusive`);
  return `${g.pass ? 'PASS' : 'FAIL'} (${notes.join('; ')})`;
}

function kinds(g: GateResult): string {
  const byWhere = new Map<string, number>();
  for (const e of g.suite.errored) for (const k of new Set(e.kinds)) byWhere.set(k, (byWhere.get(k) ?? 0) + 1);
  return [...byWhere].map(([k, n]) => `${n} ${k}`).join(', ');
}

const name = (t: TestRef) => `#${t.test_idx + 1} ${t.description}`;

/** Where the regimes came from, in words. */
function estimatorLine(g: GateResult): string {
  const e = g.estimator;
  return e.source === 'policy'
    ? `estimated by the learned policy ${e.policy} that routed both evals (as their reports show)`
    : `estimated by the paper's rule on the baseline's z-scale, untested on this model (${e.why})`;
}

/** A few lines for the terminal (the command makes them terminal-safe). */
export function renderGateSummary(g: GateResult): string {
  const lines = [`recoverability gate: ${headline(g)}`];
  const order: GateCheck['status'][] = ['fail', 'inconclusive', 'pass', 'report'];
  for (const status of order) for (const c of g.checks.filter((x) => x.status === status)) lines.push(`  ${SYMBOL[status]} ${status}: ${c.why}${needed(c)}`);
  const { onlyBaseline, onlyCandidate, errored, duplicates } = g.suite;
  if (onlyBaseline.length + onlyCandidate.length > 0) {
    lines.push(`  ! suites differ: ${onlyBaseline.length} tests only in the baseline, ${onlyCandidate.length} only in the candidate (not compared)`);
    for (const t of onlyBaseline.slice(0, 5)) lines.push(`      baseline only: ${name(t).slice(0, 100)}`);
    for (const t of onlyCandidate.slice(0, 5)) lines.push(`      candidate only: ${name(t).slice(0, 100)}`);
  }
  if (errored.length > 0) {
    const where = (w: string) => errored.filter((e) => e.in === w).length;
    lines.push(`  ! ${errored.length} tests errored and were not compared (${where('baseline')} in the baseline, ${where('candidate')} in the candidate, ${where('both')} in both: ${kinds(g)})`);
  }
  if (duplicates.length > 0) {
    lines.push(`  ! ${duplicates.length} tests appear more than once in an eval (identical vars and assertions, or --repeat): matched in order`);
  }
  lines.push(`  regimes: ${estimatorLine(g)}`);
  lines.push(`  regime share of tests: ${g.regimes.filter((r) => r.baseline.n + r.candidate.n > 0).map((r) => `${r.regime} ${pct(r.baseline.share)}→${pct(r.candidate.share)}`).join(', ')}`);
  lines.push(`  chi-square homogeneity: χ²=${g.chiSquare.statistic.toFixed(2)}, df=${g.chiSquare.df}, p=${g.chiSquare.p.toFixed(3)}`);
  lines.push(`  rollout pass rate (mean over compared tests): ${pct(g.passRate.baseline)} → ${pct(g.passRate.candidate)} (${pts(g.passRate.diff)} points)`);
  return lines.join('\n');
}

/** Markdown for a CI job summary or a PR comment; every test name and message goes through mdText. */
export function renderGateMarkdown(g: GateResult): string {
  const out = [`# Recoverability gate: ${g.pass ? '✅ pass' : '❌ fail'}`, ''];
  const ci = `${100 * (1 - g.policy.alpha)}% CI`;
  out.push(`${mdText(headline(g))}.`, '', '**Checks**', '');
  const label: Record<GateCheck['status'], string> = { fail: '❌ fail', inconclusive: '⚠️ inconclusive', pass: '✅ pass', report: 'ℹ️ reported' };
  for (const c of g.checks) out.push(`- ${label[c.status]} — ${mdText(c.why + needed(c), 600)}`);
  const { onlyBaseline, onlyCandidate, errored, duplicates } = g.suite;
  out.push('', `Compared on the ${g.suite.shared} tests graded in both evals (matched by their vars and assertions, not by name or position).`);
  if (onlyBaseline.length + onlyCandidate.length > 0) {
    out.push('', `> The suites differ: ${onlyBaseline.length} tests only in the baseline, ${onlyCandidate.length} only in the candidate. They are listed here and not compared.`);
    for (const t of onlyBaseline.slice(0, 10)) out.push(`> - baseline only: ${mdText(name(t), 100)}`);
    for (const t of onlyCandidate.slice(0, 10)) out.push(`> - candidate only: ${mdText(name(t), 100)}`);
  }
  if (errored.length > 0) {
    out.push('', `> ${errored.length} tests errored in an eval and were not compared (${mdText(kinds(g))}).`);
    for (const e of errored.slice(0, 10)) out.push(`> - ${mdText(name(e), 100)}: errored in the ${e.in === 'both' ? 'baseline and the candidate' : e.in} (${mdText([...new Set(e.kinds)].join(', '), 100)})`);
  }
  if (duplicates.length > 0) {
    out.push('', `> ${duplicates.length} tests appear more than once in an eval (identical vars and assertions, or --repeat); their copies are matched in order.`);
    for (const d of duplicates.slice(0, 10)) out.push(`> - ${d.eval}: ${mdText(name(d), 100)} ×${d.count}`);
  }
  out.push('', `Regimes: ${mdText(estimatorLine(g), 600)}.`);
  out.push('', `| regime | baseline | candidate | change (points) | ${ci} |`, '|---|---|---|---|---|');
  for (const r of g.regimes) {
    if (r.baseline.n + r.candidate.n === 0) continue;
    out.push(`| ${r.regime} | ${r.baseline.n} (${pct(r.baseline.share)}) | ${r.candidate.n} (${pct(r.candidate.share)}) | ${pts(r.diff)} | ${pts(r.ci[0])} … ${pts(r.ci[1])} |`);
  }
  out.push('', `Shares are of the ${g.suite.shared} compared tests. Chi-square test of homogeneity: χ² = ${g.chiSquare.statistic.toFixed(2)}, df = ${g.chiSquare.df}, p = ${g.chiSquare.p.toFixed(4)}.`);
  out.push('', `Rollout pass rate (mean over compared tests) ${pct(g.passRate.baseline)} → ${pct(g.passRate.candidate)} (${pts(g.passRate.diff)} points, paired ${ci} ${pts(g.passRate.ci[0])} … ${pts(g.passRate.ci[1])}).`);
  const ks = Object.entries(g.passAt);
  if (ks.length > 0) out.push('', ks.map(([k, v]) => `pass@${k} ${pct(v.baseline)} → ${pct(v.candidate)}`).join(' · '));
  if (g.topography) {
    const t = g.topography;
    const sub = t.nA < t.totalA || t.nB < t.totalB ? ` (a subsample of ${t.nA} of ${t.totalA} and ${t.nB} of ${t.totalB})` : '';
    out.push(
      '',
      `Failure topography: a nearest-centroid classifier tells baseline failures (${t.nA}) from candidate failures (${t.nB})${sub} with ${pct(t.balancedAccuracy)} cross-validated balanced accuracy (${t.folds} folds; chance 50.0%; plain accuracy ${pct(t.accuracy)} against ${pct(t.majority)} for the majority class); permutation p = ${t.p.toFixed(3)} (${t.permutations} permutations).`,
    );
  }
  const moves = Object.entries(g.transitions).flatMap(([from, tos]) => Object.entries(tos).filter(([to]) => to !== from).map(([to, n]) => ({ from, to, n })));
  if (moves.length > 0) {
    out.push('', '**Per-test transitions**', '', '| from | to | tests |', '|---|---|---|');
    for (const m of moves.sort((a, b) => b.n - a.n)) out.push(`| ${m.from} | ${m.to} | ${m.n} |`);
  }
  if (g.notable.length > 0) {
    out.push('', '**Notable**', '', ...g.notable.slice(0, 20).map((n) => `- ${mdText(name(n), 100)}: ${n.from} → ${n.to}`));
  }
  return out.join('\n') + '\n';
}
