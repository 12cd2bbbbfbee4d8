/**
 * The reconciler on the DynamoDB store: recount the slots held by the queued and running instances
 * (their recorded holds), compare every counter with them (`findPartDrift`, shared/core), report
 * every drift, and with `repair` correct it.
 *
 * Counters and holders cannot be read in one snapshot, and the `holding` index may lag the items,
 * so a counter is judged only when nothing can be in flight for it:
 *
 *   list counter ids (CTRS) ─▶ read #1 (strong) ─▶ holders: index, then re-read each (strong) ─▶ read #2 (strong)
 *
 *   judged    ver #1 = ver #2 (no claim or try end touched it while the holders were read) and it last
 *             changed ≥ settleMs before read #1 (every claim of it is visible in the index by then);
 *   unsettled otherwise: counted, not judged (a busy counter is judged when it is quiet).
 *
 * A repair sets `used` to what is held only under `ver = ver #1`: a counter that moved since is left
 * for the next run. A counter found quiet at zero with no holders leaves the `CTRS` list (its next
 * raise lists it again) once it has been idle for IDLE_MS, so the list stays about as short as the
counters in use rather than one per run ever claimed.
 */
import { type CounterKey, counterKeyString } from '#core/model.ts';
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
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { S } from './marshal.ts';
import { unparkFlagged } from './parking.ts';

/** How long a counter must have been still before it is judged: longer than the `holding` index can lag. */
const SETTLE_MS = 10_000;
/** How long a counter must have sat at zero before it leaves the list (a busy one would only churn). */
const IDLE_MS = 10 * 60_000;

/** The parts of the holds of every instance that holds slots now (strongly consistent re-reads). */
async function holderParts(items: Items): Promise<HoldPart[]> {
  const listed = await items.queryAll(
    { IndexName: 'holding', KeyConditionExpression: 'holdPk = :holding' },
    { ':holding': S('HOLD') },
  );
  const tis = (await items.getMany(listed.map((i) => ({ pk: i.pk!.S!, sk: i.sk!.S! })))).map(tiOf);
  return tis.filter((ti) => holdsSlot(ti.state)).flatMap((ti) => ti.holds);
}

async function reconcile(
  items: Items,
  opts: { now: number; repair: boolean; settleMs?: number },
): Promise<Reconciliation> {
  const settleMs = opts.settleMs ?? SETTLE_MS;
  const listed = await readCounterItems(items);
  const ids = new Map<string, CounterKey>(listed.map((c) => [counterKeyString(c.key), c.key]));
  const first = await rereadCounters(items, [...ids.values()]);
  const parts = await holderParts(items);
  for (const part of parts) ids.set(counterKeyString(part.counter), part.counter);
  const second = await rereadCounters(items, [...ids.values()]);

  const judged = new Map<string, { key: CounterKey; read: CounterRead | null }>();
  let unsettled = 0;
  for (const [id, key] of ids) {
    const pk = keys.counter(key).pk;
    const a = first.get(pk) ?? null;
    const b = second.get(pk) ?? null;
    // Absent both times: no claim raised it in between (a claim writes its counter and holder together).
    const still = (a === null && b === null) || (a !== null && b !== null && a.ver === b.ver);
    if (!still || (a !== null && a.changedAt > opts.now - settleMs)) unsettled += 1;
    else judged.set(id, { key, read: a });
  }
  const drift = findPartDrift(
    [...judged.values()].map(({ key, read }) => ({ key, used: read?.used ?? 0 })),
    parts.filter((p) => judged.has(counterKeyString(p.counter))),
  );
  const repaired = [];
  if (opts.repair) {
    for (const d of drift) {
      const read = judged.get(counterKeyString(d.counter))?.read ?? null;
      if (await correctCounter(items, d.counter, read?.ver ?? null, d.held, opts.now)) repaired.push(d);
    }
  }
  const drifted = new Set(drift.map((d) => counterKeyString(d.counter)));
  const listedIds = new Set(listed.map((c) => counterKeyString(c.key)));
  for (const [id, { key, read }] of judged) {
    if (
      read &&
      read.used === 0 &&
      read.changedAt < opts.now - IDLE_MS &&
      !drifted.has(id) &&
      listedIds.has(id)
    )
      await delistIdleCounter(items, key, read.ver);
  }
  // The safety net of parking: work parked on a counter with room comes back (parking.ts, step 5).
  await unparkFlagged(items, opts.now);
  return { drift, repaired, unsettled };
}

export { IDLE_MS, reconcile, SETTLE_MS };
