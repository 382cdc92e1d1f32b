/**
 * Normalizes a final answer so equivalent spellings count as one mode: trims, lower-cases,
 * folds white space, drops a trailing period and thousands separators, and writes numbers
 * canonically ("391.0" → "391"). A missing or empty answer is the mode "<none>".
 */
export function normalizeAnswer(answer: string | null | undefined): string {
  if (answer === null || answer === undefined) return '<none>';
  let s = answer.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
  if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) s = String(n);
  }
  return s === '' ? '<none>' : s;
}

export interface AnswerDistribution {
  /** Number of answers looked at. */
  n: number;
  /** Distinct normalized answers. */
  modes: number;
  /** Shannon entropy of the normalized answers, in nats (0 when all agree). */
  entropy: number;
  /** Share of the most common answer (a confident wrong mode resists resampling). */
  topShare: number;
  /** The most common normalized answer (ties: the first seen). */
  topAnswer: string | null;
}

/**
 * The answer distribution of a set of rollouts (method.md, black-box signals), meant for the
 * failed rollouts: H = −Σ_a p_a ln p_a over normalized answers, and the share of the
 * commonest one (the wrong-mode share). Empty input gives n = 0 and NaN entropy and share.
 */
export function answerDistribution(answers: readonly (string | null | undefined)[]): AnswerDistribution {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = normalizeAnswer(a);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const n = answers.length;
  if (n === 0) return { n: 0, modes: 0, entropy: NaN, topShare: NaN, topAnswer: null };
  let entropy = 0;
  let topAnswer: string | null = null;
  let topCount = 0;
  for (const [answer, count] of counts) {
    const p = count / n;
    entropy -= p * Math.log(p);
    if (count > topCount) {
      topCount = count;
      topAnswer = answer;
    }
  }
  return { n, modes: counts.size, entropy: Math.abs(entropy), topShare: topCount / n, topAnswer };
}
