import type { GateResult } from '../core/gate/compareEvals.js';
import { cell } from './renderMarkdown.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** A few lines for the terminal. */
export function renderGateSummary(g: GateResult): string {
  const lines = [`recoverability gate: ${g.pass ? 'PASS' : 'FAIL'} (${g.suite.shared} shared tests)`];
  for (const r of g.regressions) lines.push(`  ✗ ${r}`);
  if (g.suite.onlyBaseline.length + g.suite.onlyCandidate.length > 0) {
    lines.push(`  ! suites differ: ${g.suite.onlyBaseline.length} tests only in the baseline, ${g.suite.onlyCandidate.length} only in the candidate (not compared)`);
  }
  lines.push(`  regime shares: ${g.regimes.filter((r) => r.baseline.n + r.candidate.n > 0).map((r) => `${r.regime} ${pct(r.baseline.share)}→${pct(r.candidate.share)}`).join(', ')}`);
  lines.push(`  chi-square homogeneity: χ²=${g.chiSquare.statistic.toFixed(2)}, df=${g.chiSquare.df}, p=${g.chiSquare.p.toFixed(3)}`);
  lines.push(`  pass rate: ${pct(g.passRate.baseline)} → ${pct(g.passRate.candidate)} (${pts(g.passRate.diff)} points)`);
  if (g.topography) {
    lines.push(`  failure topography: told apart with ${pct(g.topography.accuracy)} accuracy vs majority ${pct(g.topography.majority)} (p=${g.topography.p.toFixed(3)})`);
  }
  return lines.join('\n');
}

/** Markdown for a CI job summary or a PR comment. */
export function renderGateMarkdown(g: GateResult): string {
  const out = [`# Recoverability gate: ${g.pass ? '✅ pass' : '❌ fail'}`, ''];
  if (g.regressions.length > 0) {
    out.push('**Regressions**', '', ...g.regressions.map((r) => `- ${cell(r, 300)}`), '');
  }
  const ci = `${100 * (1 - g.policy.alpha)}% CI`;
  out.push(`Compared on ${g.suite.shared} shared tests.`);
  if (g.suite.onlyBaseline.length + g.suite.onlyCandidate.length > 0) {
    out.push('', `> The suites differ: ${g.suite.onlyBaseline.length} tests only in the baseline, ${g.suite.onlyCandidate.length} only in the candidate. They are listed here and not compared.`);
    for (const t of g.suite.onlyBaseline.slice(0, 10)) out.push(`> - baseline only: ${cell(t, 100)}`);
    for (const t of g.suite.onlyCandidate.slice(0, 10)) out.push(`> - candidate only: ${cell(t, 100)}`);
  }
  out.push('', '| regime | baseline | candidate | change (points) | ' + ci + ' |', '|---|---|---|---|---|');
  for (const r of g.regimes) {
    if (r.baseline.n + r.candidate.n === 0) continue;
    out.push(`| ${r.regime} | ${r.baseline.n} (${pct(r.baseline.share)}) | ${r.candidate.n} (${pct(r.candidate.share)}) | ${pts(r.diff)} | ${pts(r.ci[0])} … ${pts(r.ci[1])} |`);
  }
  out.push('', `Chi-square test of homogeneity: χ² = ${g.chiSquare.statistic.toFixed(2)}, df = ${g.chiSquare.df}, p = ${g.chiSquare.p.toFixed(4)}.`);
  out.push('', `Pass rate ${pct(g.passRate.baseline)} → ${pct(g.passRate.candidate)} (${pts(g.passRate.diff)} points, paired ${ci} ${pts(g.passRate.ci[0])} … ${pts(g.passRate.ci[1])}).`);
  const ks = Object.entries(g.passAt);
  if (ks.length > 0) out.push('', ks.map(([k, v]) => `pass@${k} ${pct(v.baseline)} → ${pct(v.candidate)}`).join(' · '));
  if (g.topography) {
    const t = g.topography;
    out.push('', `Failure topography: a nearest-centroid classifier tells baseline failures (${t.nA}) from candidate failures (${t.nB}) with ${pct(t.accuracy)} cross-validated accuracy (${t.folds} folds) against ${pct(t.majority)} for the majority class; permutation p = ${t.p.toFixed(3)} (${t.permutations} permutations).`);
  }
  const moves = Object.entries(g.transitions).flatMap(([from, tos]) => Object.entries(tos).filter(([to]) => to !== from).map(([to, n]) => ({ from, to, n })));
  if (moves.length > 0) {
    out.push('', '**Per-test transitions**', '', '| from | to | tests |', '|---|---|---|');
    for (const m of moves.sort((a, b) => b.n - a.n)) out.push(`| ${m.from} | ${m.to} | ${m.n} |`);
  }
  if (g.notable.length > 0) {
    out.push('', '**Notable**', '', ...g.notable.slice(0, 20).map((n) => `- ${cell(n.test, 100)}: ${n.from} → ${n.to}`));
  }
  return out.join('\n') + '\n';
}
