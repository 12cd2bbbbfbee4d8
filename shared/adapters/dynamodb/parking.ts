/**
 * Parking: scheduled instances blocked by their own DAG or task limit (maxActiveTasks,
 * maxActiveTisPerDag, maxActiveTisPerDagrun) leave their pool's partition of the `claim` index
 * while that counter is full, so a scheduling pass reads only candidates it may claim — never the
 * backlog behind a saturated DAG, never a scan. They come back when the counter falls: the try end
 * that lowers it moves them back, not a pass that polls.
 *
 *   park on write (updateTis makes an instance scheduled while its DAG's counter is full: used ≥ lim > 0,
 *   read in the same batch read as the instances)
 *     1–3 as below, with 2 being the instance's own put, written straight into PARKED#<pool>#<counter>:
 *     such work never enters the pool's partition, so no pass reads it before it can be claimed
 *   park (a listing read instances the caller excludes, and their counter is full: used ≥ lim > 0)
 *     1. flag the counter: parkedIn += pool, parkedAt = now, listed in `holding` under PARKING
 *     2. move each instance: claimPk POOL#<pool> → PARKED#<pool>#<counter> (same sort key; one
 *        waiting in a ready list, ready.ts, gets that entry of its own)
 *     3. re-read the counter: room already (a try ended meanwhile)? unpark that many now
 *   try end (after its transaction lowered the counter)
 *     4. read the DAG and task counters it lowered; each flagged one with room gets its best
 *        min(room, what this end released) instances of its flagged pools moved back to
 *        POOL#<pool> (ends in a row each see the room the others already gave back); a flag whose partitions are
 *        empty and that has not been touched for SETTLE_MS is cleared (conditional on parkedAt)
 *   sweep (reconcileCounters), the safety net
 *     5. every flagged counter with room: as 4 (a try end that ran before the index showed its
 *        parked instances misses them; the next sweep does not)
 *
 * 3 and 4 cannot both miss a release: if the release committed before 3, the parker sees the room;
 * otherwise the ender's read 4 comes after 1 and sees the flag. Parking is only ever an
 * optimisation: a parked instance is still `scheduled`, a claim of it succeeds (the counters
 * decide), and a full rewrite of it (updateTis) lists it in its pool again unless its DAG is still full.
 *
 * Parking on write uses the limit the counter was last raised under (`lim`): if the DAG's limit was
 * raised since, work is parked although the DAG has room, and comes back one for one with try ends
 * until a claim records the new limit, or at the next sweep (step 5 sees the room).
 */
import type { CounterKey, TaskInstance } from '#core/model.ts';
import { counterKeyString } from '#core/model.ts';
import {
  both,
  groupUntouched,
  itemAbsent,
  listedUnderOrUnlisted,
  stillListedUnder,
  stillScheduled,
} from './conditions.ts';
import { tiItem } from './entities.ts';
import type { Items } from './items.ts';
import { claimPartition, claimSortKey, keys, parkPartition } from './keys.ts';
import { type Item, type Key, N, num, S } from './marshal.ts';
import { forgetListed, listedCandidate } from './ready.ts';

/** Instances moved back per counter and pool at most, per try end. */
const MAX_UNPARK = 100;
/** A flag whose parked partitions are empty is cleared only this long after it was last touched. */
const SETTLE_MS = 10_000;
const WRITES_AT_ONCE = 25;
/** Counters an instance can be parked on: its own DAG's and task's, never the shared ones. */
const PARKABLE = new Set<CounterKey['kind']>(['dag', 'task', 'taskRun']);

interface CounterView {
  key: CounterKey;
  used: number;
  /** The limit the counter was last raised under; -1 = unknown or unlimited. */
  lim: number;
  /** Pools with instances parked on this counter (may be stale: empty partitions). */
  parkedIn: string[];
  parkedAt: number;
}

function viewOf(item: Item): CounterView {
  return {
    key: JSON.parse(item.counterKey?.S ?? '{}') as CounterKey,
    used: num(item.used) ?? 0,
    lim: num(item.lim) ?? -1,
    parkedIn: item.parkedIn?.SS ?? [],
    parkedAt: num(item.parkedAt) ?? 0,
  };
}

/** Strongly consistent views of the counters that exist, by counterKeyString. */
async function viewsOf(items: Items, counters: CounterKey[]): Promise<Map<string, CounterView>> {
  const read = await items.getMany(counters.map((c) => keys.counter(c)));
  return new Map(read.map((item) => [counterKeyString(viewOf(item).key), viewOf(item)]));
}

async function inBatches<T>(list: T[], body: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < list.length; i += WRITES_AT_ONCE)
    await Promise.all(list.slice(i, i + WRITES_AT_ONCE).map(body));
}

/**
 * Moves an instance between claim-index partitions, if it is still scheduled and listed where it
 * was read (whatever its try: a scheduled instance belongs in its pool's partition or a parking one).
 */
function move(items: Items, key: Key, from: string, to: string) {
  return items.update(key, 'SET #claimPk = :to', {
    condition: both(stillListedUnder, stillScheduled),
    values: { ':to': S(to), ':listedUnder': S(from), ':scheduled': S('scheduled') },
  });
}

/**
 * Parks an instance read as a candidate: moved from its pool's partition as above, or, waiting in
 * a ready list (ready.ts: scheduled, listed nowhere itself), listed under the parking partition by
 * its own entry — after which the list counts it done.
 */
async function parkMove(items: Items, ti: TaskInstance, from: string, to: string) {
  // One a ready list itself marks scheduled has no item yet: it gets one, parked, if still absent.
  const listed = listedCandidate(items, ti, ti.tryNumber);
  if (listed) {
    const item = tiItem({ ...listed.read, ...listed.set });
    item.claimPk = S(to);
    item.claimSk = S(claimSortKey(ti));
    const put = await items.put(item, { condition: itemAbsent });
    forgetListed(items, ti);
    if (put) return true;
  }
  return items.update(keys.ti(ti), 'SET #claimPk = :to, #claimSk = :claimSk', {
    condition: both(listedUnderOrUnlisted, stillScheduled),
    values: {
      ':to': S(to),
      ':claimSk': S(claimSortKey(ti)),
      ':listedUnder': S(from),
      ':scheduled': S('scheduled'),
    },
  });
}

/** The flag a parker sets on the counter before it moves anything (step 1). */
function flag(items: Items, counter: CounterKey, pool: string, now: number) {
  return items.update(
    keys.counter(counter),
    'SET #parkedAt = :now, #holdPk = :parking, #holdSk = :counterId ADD #parkedIn :pools',
    {
      values: {
        ':now': N(now),
        ':parking': S('PARKING'),
        ':counterId': S(counterKeyString(counter)),
        ':pools': { SS: [pool] },
      },
    },
  );
}

/** Moves back, best first, up to `room` instances of `pool` parked on `counter`. */
async function unpark(
  items: Items,
  pool: string,
  counter: CounterKey,
  room: number,
): Promise<{ moved: number; drained: boolean }> {
  const from = parkPartition(pool, counter);
  const limit = Math.min(MAX_UNPARK, room);
  if (limit <= 0) return { moved: 0, drained: false };
  const page = await items.query(
    { IndexName: 'claim', KeyConditionExpression: '#claimPk = :parked', Limit: limit },
    { ':parked': S(from) },
  );
  await inBatches(
    page.items.map((item) => ({ pk: item.pk!.S!, sk: item.sk!.S! })),
    (key) => move(items, key, from, claimPartition(pool)),
  );
  return { moved: page.items.length, drained: page.items.length < limit && page.next === null };
}

/**
 * Steps 4 and 5: each flagged counter with room gets its parked instances back, as many as fit —
 * after a release (`released`, by counter id) no more than it freed, since the room it sees may
 * already have been given back by the releases before it (each try end sees the counter after
 * its own release, not what earlier ends moved back and no pass has claimed yet).
 */
async function unparkWithRoom(
  items: Items,
  views: CounterView[],
  now: number,
  released?: Map<string, number>,
): Promise<void> {
  for (const view of views) {
    if (view.parkedIn.length === 0) continue;
    let room = view.lim <= 0 ? MAX_UNPARK : view.lim - view.used;
    const freed = released?.get(counterKeyString(view.key));
    if (freed !== undefined) room = Math.min(room, freed);
    if (room <= 0) continue;
    let drained = true;
    for (const pool of view.parkedIn) {
      if (room <= 0) {
        drained = false;
        break;
      }
      const out = await unpark(items, pool, view.key, room);
      room -= out.moved;
      drained = drained && out.drained;
    }
    if (drained && view.parkedAt < now - SETTLE_MS) {
      await items.update(keys.counter(view.key), 'REMOVE #parkedIn, #holdPk, #holdSk', {
        condition: groupUntouched,
        values: { ':seenTouchedAt': N(view.parkedAt) },
      });
    }
  }
}

/**
 * Step 4, after a try end lowered `counters` (each by `amount`): the parkable ones are read and as
 * much of their parked work let back as the release freed.
 */
async function unparkAfterRelease(
  items: Items,
  counters: { counter: CounterKey; amount: number }[],
  now: number,
): Promise<void> {
  const parkable = counters.filter((c) => PARKABLE.has(c.counter.kind));
  if (parkable.length === 0) return;
  const released = new Map<string, number>();
  for (const { counter, amount } of parkable) {
    const id = counterKeyString(counter);
    released.set(id, (released.get(id) ?? 0) + amount);
  }
  const views = await viewsOf(
    items,
    parkable.map((c) => c.counter),
  );
  await unparkWithRoom(items, [...views.values()], now, released);
}

/** Step 5 (the sweep): every flagged counter with room (listed in the KEYS_ONLY `holding` index, read by key). */
async function unparkFlagged(items: Items, now: number): Promise<void> {
  const flagged = await items.queryAll(
    { IndexName: 'holding', KeyConditionExpression: '#holdPk = :parking' },
    { ':parking': S('PARKING') },
  );
  if (flagged.length === 0) return;
  const read = await items.getMany(flagged.map((item) => ({ pk: item.pk!.S!, sk: item.sk!.S! })));
  await unparkWithRoom(items, read.map(viewOf), now);
}

/** The counters an excluded instance may be waiting on, most specific last. */
function blockersOf(ti: TaskInstance, dagIds: Set<string>, tasks: Set<string>): CounterKey[] {
  const out: CounterKey[] = [];
  if (dagIds.has(ti.dagId)) out.push({ kind: 'dag', dagId: ti.dagId });
  if (tasks.has(`${ti.dagId}/${ti.taskId}`)) {
    out.push({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId });
    out.push({ kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId });
  }
  return out;
}

/** A DAG's counter, the one updateTis parks on when it is full as an instance becomes scheduled. */
const dagCounter = (dagId: string): CounterKey => ({ kind: 'dag', dagId });

/** A counter item read with the instances it may block: full (used ≥ lim > 0), so they are written parked. */
function isFull(item: Item): boolean {
  const view = viewOf(item);
  return view.lim > 0 && view.used >= view.lim;
}

/**
 * Park on write, steps 1 and 3 around the caller's puts (step 2): each (counter, pool) in `groups`
 * is flagged first; `write` puts the instances into the parking partitions of the groups flagged
 * (a group whose flag failed is not in the set: its instances must be listed in their pool); then
 * each counter is read again and, if a try ended meanwhile, that much work comes back at once.
 */
async function parkOnWrite<T>(
  items: Items,
  groups: { counter: CounterKey; pool: string }[],
  now: number,
  write: (flagged: Set<string>) => Promise<T>,
): Promise<T> {
  const flagged = new Set<string>();
  await inBatches(groups, async ({ counter, pool }) => {
    if (await flag(items, counter, pool, now)) flagged.add(parkPartition(pool, counter));
  });
  const out = await write(flagged);
  if (flagged.size === 0) return out;
  const after = await viewsOf(
    items,
    groups.map((g) => g.counter),
  );
  for (const { counter, pool } of groups) {
    const view = after.get(counterKeyString(counter));
    if (flagged.has(parkPartition(pool, counter)) && view && view.used < view.lim)
      await unpark(items, pool, counter, view.lim - view.used);
  }
  return out;
}

/** Steps 1–3: parks the excluded instances whose counter is full; the others stay listed. */
async function park(
  items: Items,
  pool: string,
  excluded: { ti: TaskInstance; blockers: CounterKey[] }[],
  now: number,
): Promise<void> {
  if (excluded.length === 0) return;
  const views = await viewsOf(
    items,
    excluded.flatMap((e) => e.blockers),
  );
  const groups = new Map<string, { counter: CounterKey; tis: TaskInstance[] }>();
  for (const { ti, blockers } of excluded) {
    const full = blockers.find((c) => {
      const view = views.get(counterKeyString(c));
      return view !== undefined && view.lim > 0 && view.used >= view.lim;
    });
    if (!full) continue;
    const group = groups.get(counterKeyString(full)) ?? { counter: full, tis: [] };
    group.tis.push(ti);
    groups.set(counterKeyString(full), group);
  }
  for (const { counter, tis } of groups.values()) {
    if (!(await flag(items, counter, pool, now))) continue;
    await inBatches(tis, (ti) => parkMove(items, ti, claimPartition(pool), parkPartition(pool, counter)));
    const after = (await viewsOf(items, [counter])).get(counterKeyString(counter));
    if (after && after.used < after.lim) await unpark(items, pool, counter, after.lim - after.used);
  }
}

export {
  blockersOf,
  dagCounter,
  isFull,
  MAX_UNPARK,
  park,
  parkOnWrite,
  SETTLE_MS,
  unparkAfterRelease,
  unparkFlagged,
};
