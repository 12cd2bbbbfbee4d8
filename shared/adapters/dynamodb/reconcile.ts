/**
 * The reconciler on the DynamoDB store: recount the slots held by the queued and running instances
 * (their recorded holds), compare every counter with them (`findPartDrift`, shared/core), report
 * every drift, and with `repair` correct it.
 *
 * Counters and holders cannot be read in one snapshot, and the holders are found through the
 * unfinished-runs list of the `active` index, which may lag its items (holders.ts), so a counter is
 * judged only when nothing can be in flight for it:
 *
 *   list counter ids (CTRS) ─▶ read #1 (strong) ─▶ holders: listed runs, each one's instances (strong query) ─▶ read #2 (strong)
 *
 *   judged    ver #1 = ver #2 (no claim or try end touched it while the holders were read) and it last
 *             changed ≥ settleMs before read #1 (the run of every claim of it, listed before the
 *             claim, is visible in the index by then);
 *   unsettled otherwise: counted, not judged (a busy counter is judged when it is quiet).
 *
 * A repair sets `used` to what is held only under `ver = ver #1`: a counter that moved since is left
 * for the next run. A counter found quiet at zero with no holders leaves the `CTRS` list (its next
 * raise lists it again) once it has been idle for IDLE_MS, so the list stays about as short as the
counters in use rather than one per run ever claimed.
 */
import type { CounterKey } from '#core/model.ts';
import { findPartDrift, type HoldPart, type Reconciliation } from '#core/reconcile.ts';
import { holdsSlot } from '#core/states.ts';
import {
  type CounterRead,
  correctCounter,
  delistIdleCounter,
  readCounterItems,
  rereadCounters,
} from './counters.ts';
import { tiOf } from './entities.ts';
import { allHolderItems, DELIST_AFTER_MS } from './holders.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { unparkFlagged } from './parking.ts';
import { partsHeld } from './tries.ts';

/** How long a counter must have been still before it is judged: longer than the `active` index can lag. */
const SETTLE_MS = 10_000;
/** How long a counter must have sat at zero before it leaves the list (a busy one would only churn). */
const IDLE_MS = 10 * 60_000;

/**
 * The parts of the holds of every instance that holds slots now: the listed runs' instance items,
 * read strongly (holders.ts), which also delists the finished runs with nothing live left.
 */
async function holderParts(items: Items, delistBefore: number): Promise<HoldPart[]> {
  const read = await allHolderItems(items, delistBefore);
  return read.flatMap((item) => {
    const ti = tiOf(item);
    return holdsSlot(ti.state) ? [...partsHeld(item, ti.holds).values()] : [];
  });
}

async function reconcile(
  items: Items,
  opts: { now: number; repair: boolean; settleMs?: number; delistAfterMs?: number },
): Promise<Reconciliation> {
  const settleMs = opts.settleMs ?? SETTLE_MS;
  const listed = await readCounterItems(items);
  const pkOf = (counter: CounterKey, shard: number | undefined) => keys.counterShard(counter, shard ?? 0).pk;
  const ids = new Map<string, { key: CounterKey; shard: number }>(
    listed.map((c) => [pkOf(c.key, c.shard), { key: c.key, shard: c.shard }]),
  );
  // Read #1 is the listing itself: the listed counters are read by key, strongly (counters.ts).
  const first = new Map(listed.map((c) => [pkOf(c.key, c.shard), c]));
  const parts = await holderParts(items, opts.now - (opts.delistAfterMs ?? DELIST_AFTER_MS));
  for (const part of parts)
    ids.set(pkOf(part.counter, part.shard), { key: part.counter, shard: part.shard ?? 0 });
  const second = await rereadCounters(items, [...ids.keys()]);

  const judged = new Map<string, { key: CounterKey; shard: number; read: CounterRead | null }>();
  let unsettled = 0;
  for (const [pk, { key, shard }] of ids) {
    const a = first.get(pk) ?? null;
    const b = second.get(pk) ?? null;
    // Absent both times: no claim raised it in between (a claim writes its counter and holder together).
    const still = (a === null && b === null) || (a !== null && b !== null && a.ver === b.ver);
    if (!still || (a !== null && a.changedAt > opts.now - settleMs)) unsettled += 1;
    else judged.set(pk, { key, shard, read: a });
  }
  const drift = findPartDrift(
    [...judged.values()].map(({ key, shard, read }) => ({ key, shard, used: read?.used ?? 0 })),
    parts.filter((p) => judged.has(pkOf(p.counter, p.shard))),
  );
  const repaired = [];
  if (opts.repair) {
    for (const d of drift) {
      const read = judged.get(pkOf(d.counter, d.shard))?.read ?? null;
      if (await correctCounter(items, d.counter, read?.ver ?? null, d.held, opts.now, d.shard ?? 0))
        repaired.push(d);
    }
  }
  const drifted = new Set(drift.map((d) => pkOf(d.counter, d.shard)));
  const listedPks = new Set(listed.map((c) => pkOf(c.key, c.shard)));
  for (const [pk, { key, shard, read }] of judged) {
    if (
      read &&
      read.used === 0 &&
      read.changedAt < opts.now - IDLE_MS &&
      !drifted.has(pk) &&
      listedPks.has(pk)
    )
      await delistIdleCounter(items, key, read.ver, shard);
  }
  // The safety net of parking: work parked on a counter with room comes back (parking.ts, step 5).
  await unparkFlagged(items, opts.now);
  return { drift, repaired, unsettled };
}

export { IDLE_MS, reconcile, SETTLE_MS };
