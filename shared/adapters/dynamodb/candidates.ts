/**
 * Claim candidates: a pool's scheduled task instances in claim order, from the `claim` index
 * (partition `POOL#<pool>`, sort key = claim order). Reading past work whose own DAG or task limit
 * is full must not become a scan, so such instances are PARKED:
 *
 *   read an instance the caller excludes      → its DAG (`dag/X`) or task (`task/X/t`,
 *     and the counter it waits on is full         `taskRun/X/r/t`) counter is at the limit it was
 *     (used ≥ lim, as the last claim wrote it)    last raised under: move its claim key to
 *                                                 `PARKED#<pool>#<counter>` (same sort key), after
 *                                                 touching the group item `PARKS#<pool>` / <counter>
 *   first page of a later listing             → for each parked group of the pool whose counter has
 *                                                 room again, move the top `room` instances back to
 *                                                 `POOL#<pool>`; delete a drained group that has not
 *                                                 been touched for SETTLE_MS
 *
 * So an instance of a saturated DAG is read at most once per saturation, whatever the backlog
 * behind it, and unparking costs one write per instance that can actually be claimed. Parking is
 * only ever an optimisation: a parked instance is still `scheduled`, a claim of it succeeds, and
 * any full rewrite of it (tiItem) lists it in its pool again. An excluded instance whose counter is
 * not full (a paused DAG, a pool too small) is filtered as before and stays listed.
 */
import type { CounterKey, TaskInstance } from '#core/model.ts';
import { counterKeyString } from '#core/model.ts';
import type { Page } from '#ports';
import { both, groupUntouched, stillListedUnder, tiStillAsRead } from './conditions.ts';
import { tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { claimPartition, keys, parkPartition } from './keys.ts';
import { ITEM_VERSION, type Item, N, num, S, str } from './marshal.ts';

/** Items read per listing at most: a listing never turns into a scan, even before anything is parked. */
const MAX_READ = 1000;
/** Instances moved back per group and listing at most. */
const MAX_UNPARK = 100;
/** A drained group is deleted only this long after it was last touched (GSI propagation, slow parkers). */
const SETTLE_MS = 60_000;
const WRITES_AT_ONCE = 25;

export interface CandidateQuery {
  pool: string;
  limit: number;
  cursor?: string | null;
  exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
}

interface CounterView {
  used: number;
  /** The limit the counter was last raised under; -1 / absent = unknown or unlimited. */
  lim: number;
}

async function countersOf(items: Items, counters: CounterKey[]): Promise<Map<string, CounterView>> {
  const read = await items.getMany(counters.map((c) => keys.counter(c)));
  return new Map(
    read.map((item) => [
      (item.pk?.S ?? '').slice('CTR#'.length),
      { used: num(item.used) ?? 0, lim: num(item.lim) ?? -1 },
    ]),
  );
}

async function inBatches<T>(list: T[], body: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < list.length; i += WRITES_AT_ONCE)
    await Promise.all(list.slice(i, i + WRITES_AT_ONCE).map(body));
}

/** Moves an instance between claim-index partitions, if it is still scheduled and listed where it was read. */
function move(items: Items, ti: TaskInstance, from: string, to: string) {
  return items.update(keys.ti(ti), 'SET #claimPk = :to', {
    condition: both(stillListedUnder, tiStillAsRead),
    values: {
      ':to': S(to),
      ':listedUnder': S(from),
      ':expectedState': S('scheduled'),
      ':expectedTry': N(ti.tryNumber),
    },
  });
}

function touchGroup(items: Items, pool: string, counter: CounterKey, now: number) {
  return items.update(
    keys.parkGroup(pool, counter),
    'SET #type = :groupType, #v = :v, #counterKey = :counterKey, #touchedAt = :now',
    {
      upsert: true,
      values: {
        ':groupType': S('parkGroup'),
        ':v': N(ITEM_VERSION),
        ':counterKey': S(JSON.stringify(counter)),
        ':now': N(now),
      },
    },
  );
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

/** Parks the excluded instances whose counter is full; the others stay listed. */
async function park(
  items: Items,
  pool: string,
  excluded: { ti: TaskInstance; blockers: CounterKey[] }[],
  now: number,
): Promise<void> {
  if (excluded.length === 0) return;
  const counters = await countersOf(
    items,
    excluded.flatMap((e) => e.blockers),
  );
  const groups = new Map<string, { counter: CounterKey; tis: TaskInstance[] }>();
  for (const { ti, blockers } of excluded) {
    const full = blockers.find((c) => {
      const view = counters.get(counterKeyString(c));
      return view !== undefined && view.lim > 0 && view.used >= view.lim;
    });
    if (!full) continue;
    const group = groups.get(counterKeyString(full)) ?? { counter: full, tis: [] };
    group.tis.push(ti);
    groups.set(counterKeyString(full), group);
  }
  for (const { counter, tis } of groups.values()) {
    // Touched before and after: a group is never deleted while instances are being parked in it.
    await touchGroup(items, pool, counter, now);
    await inBatches(tis, (ti) => move(items, ti, claimPartition(pool), parkPartition(pool, counter)));
    await touchGroup(items, pool, counter, now);
  }
}

/** Lists again, best first, as many parked instances of each group as its counter has room for. */
async function unparkReady(items: Items, pool: string, now: number): Promise<void> {
  const groups = await items.queryAll(
    { KeyConditionExpression: 'pk = :groups', ConsistentRead: true },
    { ':groups': S(`PARKS#${pool}`) },
  );
  if (groups.length === 0) return;
  const keyed = groups.map((g) => ({
    item: g,
    counter: JSON.parse(str(g.counterKey) ?? '{}') as CounterKey,
  }));
  const counters = await countersOf(
    items,
    keyed.map((g) => g.counter),
  );
  for (const { item, counter } of keyed) {
    const view = counters.get(counterKeyString(counter));
    const room = !view || view.lim <= 0 ? MAX_UNPARK : Math.min(MAX_UNPARK, view.lim - view.used);
    if (room <= 0) continue;
    const from = parkPartition(pool, counter);
    const page = await items.query(
      { IndexName: 'claim', KeyConditionExpression: '#claimPk = :parked', Limit: room },
      { ':parked': S(from) },
    );
    await inBatches(page.items.map(tiOf), (ti) => move(items, ti, from, claimPartition(pool)));
    const touchedAt = num(item.touchedAt) ?? 0;
    if (page.items.length < room && touchedAt < now - SETTLE_MS) {
      await items.delete(keys.parkGroup(pool, counter), {
        condition: groupUntouched,
        values: { ':seenTouchedAt': N(touchedAt) },
      });
    }
  }
}

/**
 * One page of candidates in claim order, leaving out (and parking, when their counter is full) the
 * excluded DAGs and tasks. Reads at most MAX_READ items; a short page with a cursor means "more".
 */
async function listClaimCandidates(
  items: Items,
  query: CandidateQuery,
  now: number,
): Promise<Page<TaskInstance>> {
  if (!query.cursor) await unparkReady(items, query.pool, now);
  const dagIds = new Set(query.exclude?.dagIds ?? []);
  const tasks = new Set((query.exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
  const out: TaskInstance[] = [];
  const excluded: { ti: TaskInstance; blockers: CounterKey[] }[] = [];
  let cursor = query.cursor ?? null;
  let read = 0;
  do {
    const page: { items: Item[]; next: string | null } = await items.query(
      {
        IndexName: 'claim',
        KeyConditionExpression: '#claimPk = :pool',
        Limit: Math.min(query.limit - out.length, MAX_READ - read),
      },
      { ':pool': S(claimPartition(query.pool)) },
      cursor,
    );
    read += page.items.length;
    for (const ti of page.items.map(tiOf)) {
      const blockers = blockersOf(ti, dagIds, tasks);
      if (blockers.length > 0) excluded.push({ ti, blockers });
      else out.push(ti);
    }
    cursor = page.next;
  } while (cursor && out.length < query.limit && read < MAX_READ);
  await park(items, query.pool, excluded, now);
  return { items: out, next: cursor };
}

export { listClaimCandidates, MAX_READ, MAX_UNPARK, SETTLE_MS };
