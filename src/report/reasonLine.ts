/** What a row's reason line says (gradeRollouts' `reason`, shown in every cell of `promptfoo view`). */
export interface ReasonParts {
  regime: string;
  route: string | null;
  source: 'policy' | 'paper_rule';
  /** The learned policy's cross-validated precision for this regime, and on how many probed rows. */
  precision: number | null;
  precisionN?: number | null;
  nPassed: number;
  nRollouts: number;
  /** The share of passing rollouts the row needs to pass. */
  threshold: number;
  /** The first failed rollout's grader reason, e.g. `answer 70 ≠ 0`. */
  example?: string | null;
  ancestor?: { passed: number; n: number } | null;
  /** Why this regime and route (regime and route and the rollout counts already said elsewhere: see `whyOnly`). */
  why: string;
  unavailable?: readonly string[];
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

/** The estimate's origin, said plainly: measured on this model (with its precision) or the paper's rule, untested here. */
export function sourceText(p: Pick<ReasonParts, 'source' | 'precision' | 'precisionN'>): string {
  if (p.source === 'paper_rule') return "the paper's rule, untested on this model";
  if (p.precision === null) return 'learned policy';
  return `learned policy, precision ${pct(p.precision)}${p.precisionN ? ` on ${p.precisionN} probed rows` : ''}`;
}

/**
 * One line, each fact once, the verdict first:
 * `steerable → sparse_steer (the paper's rule, untested on this model) · 0/12 rollouts pass (need 50%); e.g. answer 192 ≠ 184 · ancestor 4/4 pass · best-of-3 retry ≈ 0%; concentration z=+1.42 stands out`.
 * A solved row is `solved · 12/12 rollouts pass`. White space in the parts is collapsed.
 */
export function reasonLine(p: ReasonParts): string {
  const one = (s: string) => s.replace(/\s+/g, ' ').trim();
  const counts = `${p.nPassed}/${p.nRollouts} rollouts pass`;
  if (p.regime === 'solved') return `solved · ${counts}`;
  const head = `${p.regime}${p.route ? ` → ${p.route}` : ''} (${sourceText(p)})`;
  const parts = [head, `${counts} (need ${pct(p.threshold)})${p.example ? `; e.g. ${one(p.example)}` : ''}`];
  if (p.ancestor && p.ancestor.n > 0) parts.push(`ancestor ${p.ancestor.passed}/${p.ancestor.n} pass`);
  const why = one(p.why);
  if (why) parts.push(why);
  if (p.unavailable && p.unavailable.length > 0) parts.push(`unavailable: ${p.unavailable.map(one).join('; ')}`);
  return parts.join(' · ');
}

/**
 * The explanation part of an estimate's `why`, without what the reason line already says: the
 * leading rollout count (`0/12 rollouts passed, …`), the policy's `regime (precision …) → route:`
 * head, and a trailing restatement of the route (`→ sparse_steer`, `— resample`, `— stop spending`).
 *
 * @example whyOnly('0/12 rollouts passed, best-of-3 retry ≈ 0%; concentration z=+1.42 stands out → sparse_steer', 'sparse_steer')
 * // 'best-of-3 retry ≈ 0%; concentration z=+1.42 stands out'
 */
export function whyOnly(why: string, route: string | null): string {
  let s = why.trim();
  s = s.replace(/^\d+\/\d+ rollouts passed(?:[:,;]\s*|$)/, '');
  // applyPolicy: "steerable (precision 0.71 on 34 probed rows) → dense_steer: <reason>"
  if (route) {
    const head = ` → ${route}: `;
    const at = s.indexOf(head);
    if (at >= 0 && !s.slice(0, at).includes(';')) s = s.slice(at + head.length);
    s = s.replace(new RegExp(`\\s*→ (?:fallback )?${route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), (m) => (m.includes('fallback') ? ': fallback' : ''));
  }
  s = s.replace(/\s*— (?:resample|stop spending)$/, '');
  // The counts are said first: "no rollout passed" would say them twice.
  s = s.replace(/\bno rollout passed and /, '');
  return s.trim();
}
