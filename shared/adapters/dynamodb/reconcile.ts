/**
 * The reconciler on the DynamoDB store: recount the slots held by the queued and running instances
 * (their recorded `holds`), compare with every counter (`findDrift`, shared/core/reconcile.ts), and
 * optionally repair. The holders and the counters are not read in one snapshot, so a claim or a
 * try end in flight looks like drift: only drift seen identically in two consecutive reads is
 * reported, and a repair is conditional on the counter still saying what was read — a counter that
 * moved meanwhile is left alone and reported unrepaired (the next run looks again).
 *
 * Drift means a bug (or a lost write the store could not see); repairs are reported, never silent.
 */
import { counterKeyString, type TaskInstance } from '#core/model.ts';
import { type Drift, findDrift } from '#core/reconcile.ts';
import type { DynamoDbStateStore } from './dynamodb-store.ts';

export interface ReconcileReport {
  /** Every counter whose value differs from what its holders add up to (stable across two reads). */
  drift: Drift[];
  /** The drift that was corrected (with `repair`). */
  repaired: Drift[];
}

async function measure(store: DynamoDbStateStore): Promise<Drift[]> {
  const holders: TaskInstance[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: TaskInstance[]; next: string | null } = await store.listHoldingTis({ cursor });
    holders.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return findDrift(await store.listCounters(), holders);
}

const id = (d: Drift) => `${counterKeyString(d.counter)}:${d.used}:${d.held}`;

async function reconcile(
  store: DynamoDbStateStore,
  opts: { repair?: boolean } = {},
): Promise<ReconcileReport> {
  const first = await measure(store);
  if (first.length === 0) return { drift: [], repaired: [] };
  const second = new Set((await measure(store)).map(id));
  const drift = first.filter((d) => second.has(id(d)));
  const repaired: Drift[] = [];
  if (opts.repair) {
    for (const d of drift) if (await store.correctCounter(d.counter, d.used, d.held)) repaired.push(d);
  }
  return { drift, repaired };
}

export { reconcile };
