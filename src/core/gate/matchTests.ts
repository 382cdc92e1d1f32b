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
export function matchTests(baseline: Pick<EvalReport, 'rows' | 'errors'>, candidate: Pick<EvalReport, 'rows' | 'errors'>): TestMatching {
  const duplicates: DuplicateTest[] = [];
  const index = (report: Pick<EvalReport, 'rows' | 'errors'>, which: 'baseline' | 'candidate') => {
    const items: Item[] = [
      ...report.rows.map((row) => ({ ref: refOf(row), row, error: null, group: `${row.test_key}\u0000${row.prompt_idx}` })),
      ...report.errors.rows.map((error) => ({ ref: refOf(error), row: null, error, group: `${error.test_key}\u0000${error.prompt_idx}` })),
    ].sort((a, b) => a.ref.test_idx - b.ref.test_idx || a.ref.prompt_idx - b.ref.prompt_idx);
    const seen = new Map<string, Item[]>();
    for (const item of items) {
      const list = seen.get(item.group);
      if (list) list.push(item);
      else seen.set(item.group, [item]);
    }
    const byId = new Map<string, Item>();
    for (const [group, list] of seen) {
      if (list.length > 1) duplicates.push({ ...list[0]!.ref, eval: which, count: list.length });
      list.forEach((item, k) => byId.set(`${group}\u0000${k}`, item));
    }
    return { items, byId };
  };
  const b = index(baseline, 'baseline');
  const c = index(candidate, 'candidate');

  const pairs: TestMatching['pairs'] = [];
  const errored: ErroredTest[] = [];
  const onlyBaseline: TestRef[] = [];
  for (const [id, item] of b.byId) {
    const other = c.byId.get(id);
    if (!other) onlyBaseline.push(item.ref);
    else if (item.row && other.row) pairs.push({ baseline: item.row, candidate: other.row });
    else {
      errored.push({
        ...(item.error ? item.ref : other.ref),
        in: item.error && other.error ? 'both' : item.error ? 'baseline' : 'candidate',
        kinds: [item.error?.kind, other.error?.kind].filter((k): k is string => k !== undefined),
      });
    }
  }
  const onlyCandidate = [...c.byId].filter(([id]) => !b.byId.has(id)).map(([, item]) => item.ref);
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

function refOf(r: { test_idx: number; prompt_idx: number; description: string }): TestRef {
  return { test_idx: r.test_idx, prompt_idx: r.prompt_idx, description: r.description };
}
