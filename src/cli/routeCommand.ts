import { parseArgs } from 'node:util';
import type { ProblemRecord } from '../core/contracts/problemRecord.js';
import { analyzeFeatureTable, type FeatureTableAnalysis } from '../core/analysis/analyzeFeatureTable.js';
import { loadProblemRecords } from '../io/loadProblemRecords.js';
import { ContractError } from '../core/contracts/validate.js';
import { InputError, withInputErrors } from '../io/inputError.js';
import { terminalSafe } from '../report/terminalText.js';
import { formatRouteText } from './formatRoute.js';

export const ROUTE_USAGE = `Usage: recoverability route <profiles.csv|records.json> [--cell CELL] [--by-cell] [--json]

Labels every failure by Eq. 2 (resample / steerable / beyond reach) from its measured rescue
rates, then evaluates the routing rule on the steerable failures: routed count per operator,
mean z-scores per routed group, and routed rescue vs every fixed operator vs retry.

  --cell CELL   only the failures of one model|task cell (e.g. sft0p6b|gsm8k)
  --by-cell     z-score features within each cell (default: over the pooled steerable set),
                and add a per-cell breakdown
  --json        print one JSON object instead of tables`;

/** The JSON contract of `route --json` (rates as fractions). */
export function analysisToJson(a: FeatureTableAnalysis) {
  const r = a.routing;
  return {
    n: a.taxonomy.n,
    counts: a.taxonomy.counts,
    shares: a.taxonomy.shares,
    routing: r && {
      n: r.n,
      counts: r.counts,
      mean_z: r.meanZ,
      routed_rescue: r.routed_rescue,
      fixed_rescue: r.fixed_rescue,
      retry_rescue: r.retry_rescue,
    },
    ...(a.routingSkipped ? { routing_skipped: a.routingSkipped } : {}),
  };
}

export async function routeCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cell: { type: 'string' },
      'by-cell': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(ROUTE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`route takes one file, got ${positionals.length}\n\n${ROUTE_USAGE}`);
  const file = positionals[0]!;
  return withInputErrors('route', async () => {
    let records: ProblemRecord[] = await loadProblemRecords(file);
    const cells = [...new Set(records.map((r) => r.cell))].sort();
    if (values.cell !== undefined) {
      if (!cells.includes(values.cell)) {
        throw new InputError(`no failures in cell "${values.cell}"; cells in this file: ${cells.join(', ')}`);
      }
      records = records.filter((r) => r.cell === values.cell);
    }
    const byCell = values['by-cell'];
    // Records the analysis cannot use (no rescue rates and no label, a missing feature) are bad input.
    const analyze = (rs: ProblemRecord[], options: { byCell?: boolean } = {}) => {
      try {
        return analyzeFeatureTable(rs, options);
      } catch (err) {
        if (err instanceof ContractError || err instanceof RangeError) throw new InputError(`${file}: ${err.message.split('\n').join(' ')}`);
        throw err;
      }
    };
    const analysis = analyze(records, { byCell });
    const perCell = byCell ? Object.fromEntries([...new Set(records.map((r) => r.cell))].sort().map((c) => [c, analyze(records.filter((r) => r.cell === c))])) : undefined;

    const scope = { cell: values.cell ?? null, z_scope: byCell ? 'within-cell' : 'pooled' };
    if (values.json) {
      const json = {
        ...analysisToJson(analysis),
        ...scope,
        ...(perCell ? { cells: Object.fromEntries(Object.entries(perCell).map(([c, a]) => [c, analysisToJson(a)])) } : {}),
      };
      out(JSON.stringify(json, null, 2));
    } else {
      // Cell names come from the file: printed terminal-safe (no escape sequence acts).
      out(terminalSafe(formatRouteText(analysis, { title: values.cell ?? 'all cells', zScope: scope.z_scope })));
      for (const [cell, a] of Object.entries(perCell ?? {})) out(terminalSafe('\n' + formatRouteText(a, { title: cell, zScope: 'within-cell' })));
    }
    return 0;
  });
}
