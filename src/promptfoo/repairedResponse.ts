import type { ProviderResponse } from 'promptfoo';
import { redactSecrets } from '../http/redact.js';
import type { RepairRecord } from './repairMetadata.js';
import type { CachedResponse, RolloutCache } from './rolloutCache.js';
import { METADATA_KEY, type RolloutMetadata } from './rolloutMetadata.js';
import type { RepairBackend, RowRepairer } from './rowRepairer.js';

type Usage = NonNullable<CachedResponse['tokenUsage']>;

/**
 * A captured row (fresh, or from the rollout cache) with its repair, as the provider returns it:
 * - a cached row already repaired under the same identity comes back as it is (cached, free);
 * - else the repairer repairs the captured rollouts. A fresh row's rollouts go to the cache
 *   before any attempt is paid for, then the repaired row does, so a resumed eval pays for
 *   neither twice; a repair that ended in an error is not cached (a rerun tries it again), and
 *   the original rollouts are kept either way;
 * - `output` is the original rollout unless `repair.output: repaired` and the repair rescued the
 *   row; token usage adds what the repair spent (a cached row's rollouts count as cached).
 */
export async function repairedResponse(args: {
  repairer: RowRepairer;
  entry: CachedResponse;
  cacheKey: string;
  cache: RolloutCache | null;
  vars: Record<string, unknown>;
  /** True when the rollouts were sampled for this call (not read from the cache). */
  fresh: boolean;
  models: () => Promise<RepairBackend>;
  say: (key: string, message: string) => void;
}): Promise<ProviderResponse> {
  const { repairer, cacheKey, cache, vars, fresh } = args;
  const meta = args.entry.metadata[METADATA_KEY] as RolloutMetadata;
  const respond = (repair: RepairRecord, tokenUsage: ProviderResponse['tokenUsage'], cost: number): ProviderResponse => {
    const output = repair.output === 'repaired' && repair.rescued && repair.text !== null ? repair.text : args.entry.output;
    return { output, metadata: { ...args.entry.metadata, [METADATA_KEY]: { ...meta, repair } }, tokenUsage, cost };
  };
  if (meta.repair && meta.repair.identity === repairer.identity(meta, vars)) {
    const total = args.entry.tokenUsage?.total ?? 0;
    return { ...respond(meta.repair, { cached: total, total, numRequests: 0 }, 0), cached: true };
  }

  const original: RolloutMetadata = { ...meta, repair: null };
  // What the rollouts alone cost (a cached row repaired under another identity also counts that repair).
  const entry: CachedResponse = { ...args.entry, metadata: { ...args.entry.metadata, [METADATA_KEY]: original }, tokenUsage: withoutRepair(args.entry.tokenUsage, meta.repair) };
  let wrote = false;
  const keepRollouts = async () => {
    if (!fresh || wrote) return;
    wrote = true;
    await cache?.put(cacheKey, entry);
  };
  const raw = await repairer.repair(original, vars, args.models, keepRollouts);
  const record: RepairRecord = { ...raw, error: raw.error === null ? null : redactSecrets(raw.error) };
  const captured = entry.tokenUsage!;
  const usage: Usage = {
    prompt: (captured.prompt ?? 0) + record.prompt_tokens,
    completion: (captured.completion ?? 0) + record.tokens,
    total: (captured.total ?? 0) + record.prompt_tokens + record.tokens,
    numRequests: (captured.numRequests ?? 0) + record.requests,
  };
  if (record.error) {
    args.say(`repair-error:${record.error.split(':')[0]}`, `a repair ended in an error (${record.error}); the row keeps its original rollouts and says so under metadata.recoverability.repair.error`);
    await keepRollouts();
  } else {
    await cache?.put(cacheKey, { ...entry, metadata: { ...entry.metadata, [METADATA_KEY]: { ...original, repair: record } }, tokenUsage: usage });
  }
  if (fresh) return respond(record, usage, entry.cost ?? 0);
  // The rollouts came from the cache; only the repair was paid for now.
  return respond(record, { prompt: record.prompt_tokens, completion: record.tokens, cached: captured.total ?? 0, total: usage.total, numRequests: record.requests }, 0);
}

/** A cached row's token usage without what its earlier repair spent. */
function withoutRepair(usage: CachedResponse['tokenUsage'], repair: RepairRecord | null | undefined): Usage {
  return {
    prompt: (usage?.prompt ?? 0) - (repair?.prompt_tokens ?? 0),
    completion: (usage?.completion ?? 0) - (repair?.tokens ?? 0),
    total: (usage?.total ?? 0) - (repair ? repair.prompt_tokens + repair.tokens : 0),
    numRequests: (usage?.numRequests ?? 0) - (repair?.requests ?? 0),
  };
}
