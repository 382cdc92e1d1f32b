/**
 * Cohen's κ between two raters of the same rows: (p_o − p_e) / (1 − p_e), with p_o the share of
 * rows they agree on and p_e = Σ_k p_a(k)·p_b(k) the agreement expected by chance from each
 * rater's own label shares. 1 is perfect agreement, 0 chance level. NaN when p_e = 1 (both
 * raters give one and the same label to every row: κ is undefined) or for empty input.
 *
 * @example cohenKappa(['x','x','y','y'], ['x','y','y','y']) // (0.75 − 0.5) / (1 − 0.5) = 0.5
 */
export function cohenKappa(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) throw new RangeError(`rater a has ${a.length} labels but rater b has ${b.length}`);
  const n = a.length;
  if (n === 0) return NaN;
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  let agree = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x === y) agree++;
    countA.set(x, (countA.get(x) ?? 0) + 1);
    countB.set(y, (countB.get(y) ?? 0) + 1);
  });
  let pe = 0;
  for (const [k, ca] of countA) pe += (ca / n) * ((countB.get(k) ?? 0) / n);
  const po = agree / n;
  return pe >= 1 ? NaN : (po - pe) / (1 - pe);
}
