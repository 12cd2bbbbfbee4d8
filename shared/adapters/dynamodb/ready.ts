/**
 * Ready lists: work that waits scheduled without a `claim` index entry of its own.
 *
 * A pass that schedules many instances of one run that cannot all be claimed at once (a full pool)
 * writes each one's item scheduled as before — the item stays the truth, read by every other path —
 * but without `claimPk`/`claimSk`, and lists them instead in one small item per (run, pool, ≤ 256
 * instances), the ready list, in the run's partition (`RDY#…`), which is what the `claim` index
 * lists (`claimPk` = the pool's, `claimSk` = the claim order of its first instance not yet done).
 * An instance waiting this way costs its put (1 unit) and its share of the list, instead of the put,
 * its index entry and that entry's removal at the claim (3).
 *
 *   write   the list first (its instances in claim order, gzipped), then the instances' puts
 *           `if absent` (first writes only: instances still in their run's pending block)
 *   list    candidates.ts merges the lists' instances with the pool's own entries in claim order,
 *           reading each instance's item (eventually consistent, by a query of their range): scheduled and not
 *           listed itself → a candidate; any other item → done; no item yet → skipped, not done
 *   advance the listing that reads a list from its head moves the head past the instances it found
 *           done (`head` and `claimSk`, under the head it read); a list with none left is deleted
 *
 * What it rests on: only these puts write a scheduled item without a `claim` entry, and only `if
 * absent`, so an instance found done for a list (its item exists and is not scheduled-unlisted)
 * never again depends on that list; every other write that makes an instance scheduled lists it
 * itself (tiIndexes). An instance with no item is skipped but keeps the list's head where it is,
 * since its put may still be in flight — until the list is older than any pass can live
 * (DELIST_AFTER_MS): then no put of it can still come, and absent counts as done. An eventually
 * consistent read can only show an older image, and the only older image of a scheduled-unlisted
 * item is no item: so a stale read never makes the head pass a candidate.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TaskInstance } from '#core/model.ts';
import { DELIST_AFTER_MS } from './holders.ts';
import type { Items } from './items.ts';
import { claimPartition, claimSortKey, pad } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, type Key, keyOf, N, num, S } from './marshal.ts';

/** Instances per list: ≈ 1 KB gzipped for short task ids, so moving its head costs a few units. */
const READY_MAX = 256;
/** Fewer scheduled at once in one run and pool are listed one by one, as before. */
const READY_MIN = 8;

/** One instance of a list: task id, map index, priority weight (the rest is the run's). */
type Entry = [string, number, number];

export interface ReadyList {
  key: Key;
  pool: string;
  dagId: string;
  runId: string;
  logicalDate: number;
  createdAt: number;
  head: number;
  entries: Entry[];
}

let sequence = 0;

/** The list items for `tis` (scheduled, one run, one pool), `READY_MAX` each, in claim order. */
function readyListItems(tis: TaskInstance[], now: number): Item[] {
  const sorted = [...tis].sort((a, b) => (claimSortKey(a) < claimSortKey(b) ? -1 : 1));
  const out: Item[] = [];
  for (let i = 0; i < sorted.length; i += READY_MAX) {
    const part = sorted.slice(i, i + READY_MAX);
    const first = part[0]!;
    sequence = (sequence + 1) % 1e6;
    const id = `${pad(now, 15)}#${pad(sequence, 6)}${Math.random().toString(36).slice(2, 8)}`;
    const entries: Entry[] = part.map((ti) => [ti.taskId, ti.mapIndex, ti.priorityWeight]);
    out.push({
      ...keyOf({ pk: `RUN#${first.dagId}#${first.runId}`, sk: `RDY#${id}` }),
      type: S('readyList'),
      v: N(ITEM_VERSION),
      pool: S(first.pool),
      dagId: S(first.dagId),
      runId: S(first.runId),
      logicalDate: N(first.logicalDate),
      createdAt: N(now),
      head: N(0),
      count: N(entries.length),
      data: { B: gzipSync(JSON.stringify(entries)) },
      claimPk: S(claimPartition(first.pool)),
      claimSk: S(claimSortKey(first)),
    });
  }
  return out;
}

const isReadyList = (item: Item) => item.type?.S === 'readyList';

function readyListOf(item: Item): ReadyList {
  checkItem(item, 'readyList');
  const bytes = item.data?.B;
  return {
    key: { pk: item.pk!.S!, sk: item.sk!.S! },
    pool: item.pool!.S!,
    dagId: item.dagId!.S!,
    runId: item.runId!.S!,
    logicalDate: num(item.logicalDate) ?? 0,
    createdAt: num(item.createdAt) ?? 0,
    head: num(item.head) ?? 0,
    entries: bytes ? (JSON.parse(gunzipSync(Buffer.from(bytes)).toString()) as Entry[]) : [],
  };
}

/** The claim order of a list's entry `i`. */
function entryOrder(list: ReadyList, i: number): string {
  const [taskId, mapIndex, priorityWeight] = list.entries[i]!;
  return claimSortKey({
    dagId: list.dagId,
    runId: list.runId,
    taskId,
    mapIndex,
    priorityWeight,
    logicalDate: list.logicalDate,
  });
}

const entryKey = (list: ReadyList, i: number): Key => {
  const [taskId, mapIndex] = list.entries[i]!;
  return { pk: list.key.pk, sk: `TI#${taskId}#${mapIndex}` };
};

/** What an instance's item (or its absence) says for a list: a candidate, done, or not written yet. */
function judgeEntry(
  list: ReadyList,
  item: Item | undefined,
  now: number,
): 'candidate' | 'done' | 'unwritten' {
  if (!item) return now - list.createdAt > DELIST_AFTER_MS ? 'done' : 'unwritten';
  return item.state?.S === 'scheduled' && item.claimPk === undefined ? 'candidate' : 'done';
}

/**
 * Moves a list's head past `done` entries it was read with (`head`), or deletes it when none is
 * left; lost (another listing moved it first) is fine: that one saw at least as much.
 */
async function advance(items: Items, list: ReadyList, done: number): Promise<void> {
  if (done <= 0) return;
  const next = list.head + done;
  const condition = { condition: '#head = :seenHead', values: { ':seenHead': N(list.head) } };
  if (next >= list.entries.length) {
    await items.delete(list.key, condition);
    return;
  }
  await items.update(list.key, 'SET #head = :head, #claimSk = :claimSk', {
    condition: condition.condition,
    values: { ...condition.values, ':head': N(next), ':claimSk': S(entryOrder(list, next)) },
  });
}

export {
  advance,
  entryKey,
  entryOrder,
  isReadyList,
  judgeEntry,
  READY_MAX,
  READY_MIN,
  readyListItems,
  readyListOf,
};
