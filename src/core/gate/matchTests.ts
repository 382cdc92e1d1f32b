import type { EvalReport, EvalReportRow, ErrorRow } from '../contracts/evalReport.js';

/** A test as the gate names it: its position in its eval and a readable name. */
export interface TestRef {
  test_idx: number;
  prompt_idx: number;
  description: string;
}

/** A test present in both evals that errored in at least one of them: not compared. */
export interface ErroredTest extends TestRef {
  in: 'baseline' | 'candidate' | 'both';
  /** Error kinds, e.g. `EndpointTimeoutError` (baseline's, then candidate's). */
  kinds: string[];
}

/** Several tests of one eval with the same identity (identical vars and assertions, or --repeat). */
export interface DuplicateTest extends TestRef {
  eval: 'baseline' | 'candidate';
  count: number;
}

export interface TestMatching {
  /** Graded in both evals, in the baseline's test order: the pairs every comparison uses. */
  pairs: { baseline: EvalReportRow; candidate: EvalReportRow }[];
  onlyBaseline: TestRef[];
  onlyCandidate: TestRef[];
  errored: ErroredTest[];
  duplicates: DuplicateTest[];
}

type Item = { ref: TestRef; row: EvalReportRow | null; error: ErrorRow | null; group: string };

/**
 * Matches the tests of two evals of one suite by a stable identity — the test's key (a hash of
 * its vars and assertions; promptfoo's `Row #N` descriptions shift when a row is inserted, so
 * descriptions are only labels) and its prompt — never by position or description. Tests sharing
 * an identity within an eval (duplicates, --repeat) are matched in test order and reported.
 * Lists are sorted by test index.
 */
export function matchTests(
  baseline: Pick<EvalReport, 'rows' | 'errors'>,
  candidate: Pick<EvalReport, 'rows' | 'errors'>,
  /** inOrderOnce(baseline), when it was found before (the gate finds it while the candidate is read). */
  baselineInOrder: boolean = inOrderOnce(baseline),
): TestMatching {
  return sameTestsInOrder(baseline, candidate, baselineInOrder) ?? matchTestsByGroups(baseline, candidate);
}

/** matchTests by grouping each eval's tests by identity: the general way (matchTests tries a shortcut first). */
export function matchTestsByGroups(baseline: Pick<EvalReport, 'rows' | 'errors'>, candidate: Pick<EvalReport, 'rows' | 'errors'>): TestMatching {
  const duplicates: DuplicateTest[] = [];
  /** The eval's tests grouped by identity, each group in test order; groups in order of their first test. */
  const index = (report: Pick<EvalReport, 'rows' | 'errors'>, which: 'baseline' | 'candidate') => {
    const items: Item[] = [
      ...report.rows.map((row) => ({ ref: refOf(row), row, error: null, group: `${row.test_key}\u0000${row.prompt_idx}` })),
      ...report.errors.rows.map((error) => ({ ref: refOf(error), row: null, error, group: `${error.test_key}\u0000${error.prompt_idx}` })),
    ].sort((a, b) => a.ref.test_idx - b.ref.test_idx || a.ref.prompt_idx - b.ref.prompt_idx);
    const groups = new Map<string, Item[]>();
    for (const item of items) {
      const list = groups.get(item.group);
      if (list) list.push(item);
      else groups.set(item.group, [item]);
    }
    for (const list of groups.values()) if (list.length > 1) duplicates.push({ ...list[0]!.ref, eval: which, count: list.length });
    return groups;
  };
  const b = index(baseline, 'baseline');
  const c = index(candidate, 'candidate');

  // The k-th test of a group in one eval is matched with the k-th of that group in the other.
  const pairs: TestMatching['pairs'] = [];
  const errored: ErroredTest[] = [];
  const onlyBaseline: TestRef[] = [];
  for (const [group, list] of b) {
    const others = c.get(group);
    list.forEach((item, k) => {
      const other = others?.[k];
      if (!other) onlyBaseline.push(item.ref);
      else if (item.row && other.row) pairs.push({ baseline: item.row, candidate: other.row });
      else {
        errored.push({
          ...(item.error ? item.ref : other.ref),
          in: item.error && other.error ? 'both' : item.error ? 'baseline' : 'candidate',
          kinds: [item.error?.kind, other.error?.kind].filter((kind): kind is string => kind !== undefined),
        });
      }
    });
  }
  const onlyCandidate: TestRef[] = [];
  for (const [group, list] of c) for (let k = b.get(group)?.length ?? 0; k < list.length; k++) onlyCandidate.push(list[k]!.ref);
  const order = (x: TestRef, y: TestRef) => x.test_idx - y.test_idx || x.prompt_idx - y.prompt_idx;
  pairs.sort((x, y) => order(x.baseline, y.baseline));
  return {
    pairs,
    onlyBaseline: onlyBaseline.sort(order),
    onlyCandidate: onlyCandidate.sort(order),
    errored: errored.sort(order),
    duplicates: duplicates.sort((x, y) => (x.eval === y.eval ? order(x, y) : x.eval === 'baseline' ? -1 : 1)),
  };
}

/**
 * Whether an eval has no error rows and its tests in test order, each identity (key and prompt)
 * once: what the shortcut (sameTestsInOrder) needs of the baseline alone.
 */
export function inOrderOnce(report: Pick<EvalReport, 'rows' | 'errors'>): boolean {
  const B = report.rows;
  if (report.errors.rows.length > 0) return false;
  const keys = new Set<string>();
  for (let i = 0; i < B.length; i++) {
    const b = B[i]!;
    if (i > 0 && (B[i - 1]!.test_idx > b.test_idx || (B[i - 1]!.test_idx === b.test_idx && B[i - 1]!.prompt_idx >= b.prompt_idx))) return false;
    // The test's identity (a key that could collide with another key's only sends this down the general way).
    const identity = b.prompt_idx === 0 ? b.test_key : `${b.test_key}\u0000${b.prompt_idx}`;
    if (keys.has(identity)) return false;
    keys.add(identity);
  }
  return true;
}

/**
 * The common case, matched without grouping: no error rows, and the same tests (key and prompt)
 * at the same positions of both evals, each once, the baseline's in test order
 * (`baselineInOrder`: inOrderOnce(baseline)). Then every test pairs with the one at its position
 * and nothing else is listed, exactly as the grouping finds. Null otherwise.
 */
function sameTestsInOrder(baseline: Pick<EvalReport, 'rows' | 'errors'>, candidate: Pick<EvalReport, 'rows' | 'errors'>, baselineInOrder: boolean): TestMatching | null {
  const B = baseline.rows;
  const C = candidate.rows;
  if (!baselineInOrder || B.length !== C.length || candidate.errors.rows.length > 0) return null;
  for (let i = 0; i < B.length; i++) if (B[i]!.test_key !== C[i]!.test_key || B[i]!.prompt_idx !== C[i]!.prompt_idx) return null;
  return { pairs: B.map((b, i) => ({ baseline: b, candidate: C[i]! })), onlyBaseline: [], onlyCandidate: [], errored: [], duplicates: [] };
}

function refOf(r: { test_idx: number; prompt_idx: number; description: string }): TestRef {
  return { test_idx: r.test_idx, prompt_idx: r.prompt_idx, description: r.description };
}
