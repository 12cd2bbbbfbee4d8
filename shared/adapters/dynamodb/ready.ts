/**
 * Ready lists: work that waits scheduled without an item or a `claim` index entry of its own.
 *
 * A pass that schedules many instances of one run that cannot all be claimed at once (a full pool)
 * writes no item for them: one small item per (run, pool, ≤ 256 instances), the ready list, in the
 * run's partition (`TI#~RDY#…`, after every instance item and before the pending blocks), names
 * them and carries each one's scheduling change; the `claim` index lists the list (`claimPk` = the
 * pool's, `claimSk` = the claim order of its first instance not yet done). An instance waiting this
 * way costs its share of the list (≈ 0.01 unit) instead of the scheduled put (1), its index entry
 * (1) and that entry's removal at the claim (1).
 *
 *   truth   an instance's item, where it has one; else, named by a list of its run, scheduled as
 *           the list's change says; else its run's pending block (state none). An item always wins:
 *           every write that takes an instance out of a list creates its item `if absent`.
 *   write   the list only (first writes only: instances still in their run's pending block)
 *   list    candidates.ts merges the lists' instances with the pool's own entries in claim order,
 *           reading each instance's item (eventually consistent, by a query of their range): no item
 *           → a candidate, the block's record with the list's change; any item → done (claimed,
 *           ended, cleared, parked, given a reason of its own: each listed by itself if scheduled)
 *   claim   of a listed candidate: the claim's `schedule` form (claim.ts), which creates the item as
 *           queued `if absent` — the same write as an instance scheduled and claimed at once
 *   advance the listing that reads a list from its head moves the head past the instances it found
 *           done (`head` and `claimSk`, under the head it read); a list with none left is deleted
 *
 * What it rests on: items are never deleted, so an instance found done (with an item) never again
 * depends on a list, and the head moves only past done entries; an eventually consistent read can
 * only show an older image, and the only older image of an item is another item or none: a stale
 * read never makes the head pass a candidate. Two passes that both read an instance in none may
 * both list it: it is then a candidate of both and returned once, and its first claim makes it done
 * for both. A writer that read the instance in none before a list named it and writes it `if
 * absent` (a skip, a mark) wins over the list, as the later of two writes.
 *
 * Lists written before 2026-12-03 (`RDY#…`) named instances whose items were written scheduled
 * after them: for those an instance with no item is not written yet, skipped but keeping the head,
 * until the list is older than any pass can live (DELIST_AFTER_MS).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { type TaskInstance, type TiKey, tiKeyString } from '#core/model.ts';
import type { TiChange } from '#ports';
import { DELIST_AFTER_MS } from './holders.ts';
import type { Items } from './items.ts';
import { claimPartition, claimSortKey, pad } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, type Key, keyOf, N, num, S } from './marshal.ts';

/** Instances per list: ≈ 1 KB gzipped for short task ids, so moving its head costs a few units. */
const READY_MAX = 256;
/** Done entries from a list's head a listing passes before it moves the head (unless none is left). */
const ADVANCE_MIN = 32;
/** Fewer scheduled at once in one run and pool are written one by one, each listed itself. */
const READY_MIN = 8;
/** Sort-key prefix of the lists that mark their instances scheduled (after `TI#<task>…`, before `TIS#`). */
const LIST_PREFIX = 'TI#~RDY#';
/** Sort-key prefix of the lists written before 2026-12-03, whose instances had items of their own. */
const LEGACY_PREFIX = 'RDY#';

/** The scheduling change a list applies to an instance's pending record. */
type Change = TiChange['set'];

/** One instance of a list: task id, map index, priority weight, index of its change (legacy: none). */
type Entry = [string, number, number, number?];

export interface ReadyList {
  key: Key;
  pool: string;
  dagId: string;
  runId: string;
  logicalDate: number;
  createdAt: number;
  head: number;
  entries: Entry[];
  /** The distinct scheduling changes of the entries (empty for a legacy list). */
  changes: Change[];
  /** Whether the list itself marks its instances scheduled (false: a legacy list). */
  marks: boolean;
}

let sequence = 0;

/**
 * The list items for instances of one run and pool, each with the record it is scheduled as
 * (`ti`) and the change that made it so (`set`), `READY_MAX` each, in claim order.
 */
function readyListItems(scheduled: { ti: TaskInstance; set: Change }[], now: number): Item[] {
  const sorted = [...scheduled].sort((a, b) => (claimSortKey(a.ti) < claimSortKey(b.ti) ? -1 : 1));
  const out: Item[] = [];
  for (let i = 0; i < sorted.length; i += READY_MAX) {
    const part = sorted.slice(i, i + READY_MAX);
    const first = part[0]!.ti;
    sequence = (sequence + 1) % 1e6;
    const id = `${pad(now, 15)}#${pad(sequence, 6)}${Math.random().toString(36).slice(2, 8)}`;
    // Changes are mostly one and the same (one pass, one reason): each distinct one is stored once.
    const changes: Change[] = [];
    const index = new Map<string, number>();
    const entries: Entry[] = part.map(({ ti, set }) => {
      const json = JSON.stringify(set);
      let at = index.get(json);
      if (at === undefined) {
        at = changes.push(set) - 1;
        index.set(json, at);
      }
      return [ti.taskId, ti.mapIndex, ti.priorityWeight, at];
    });
    out.push({
      ...keyOf({ pk: `RUN#${first.dagId}#${first.runId}`, sk: `${LIST_PREFIX}${id}` }),
      type: S('readyList'),
      v: N(ITEM_VERSION),
      pool: S(first.pool),
      dagId: S(first.dagId),
      runId: S(first.runId),
      logicalDate: N(first.logicalDate),
      createdAt: N(now),
      head: N(0),
      count: N(entries.length),
      data: { B: gzipSync(JSON.stringify({ e: entries, c: changes })) },
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
  const sk = item.sk!.S!;
  const data: unknown = bytes ? JSON.parse(gunzipSync(Buffer.from(bytes)).toString()) : [];
  const marks = sk.startsWith(LIST_PREFIX);
  const { e, c } = Array.isArray(data)
    ? { e: data as Entry[], c: [] as Change[] }
    : (data as { e: Entry[]; c: Change[] });
  return {
    key: { pk: item.pk!.S!, sk },
    pool: item.pool!.S!,
    dagId: item.dagId!.S!,
    runId: item.runId!.S!,
    logicalDate: num(item.logicalDate) ?? 0,
    createdAt: num(item.createdAt) ?? 0,
    head: num(item.head) ?? 0,
    entries: e,
    changes: c,
    marks,
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

/** The scheduling change of a marking list's entry `i`. */
function entryChange(list: ReadyList, i: number): Change {
  return list.changes[list.entries[i]![3] ?? 0] ?? {};
}

/**
 * What an instance's item (or its absence) says for a list: a candidate read from its item, one
 * the list itself marks scheduled (no item: `listed`), done, or (legacy lists) not written yet.
 */
function judgeEntry(
  list: ReadyList,
  item: Item | undefined,
  now: number,
): 'candidate' | 'listed' | 'done' | 'unwritten' {
  if (!item) {
    if (list.marks) return 'listed';
    return now - list.createdAt > DELIST_AFTER_MS ? 'done' : 'unwritten';
  }
  return item.state?.S === 'scheduled' && item.claimPk === undefined ? 'candidate' : 'done';
}

/**
 * Moves a list's head past `done` entries it was read with (`head`), or deletes it when none is
 * left; lost (another listing moved it first) is fine: that one saw at least as much.
 */
async function advance(items: Items, list: ReadyList, done: number): Promise<void> {
  const next = list.head + done;
  // A head move rewrites the list and its `claim` entry (≈ 2 units); a head behind by fewer than
  // ADVANCE_MIN done entries costs a listing ≈ 0.1 read unit each to pass: move it only past many.
  if (done <= 0 || (done < ADVANCE_MIN && next < list.entries.length)) return;
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

/**
 * Candidates this store read from a list with no item (`listed`), by instance: what a claim or a
 * park of one must write — the pending record and the list's change, created `if absent`, as a
 * pass that schedules and claims at once writes it. Bounded; the oldest goes first.
 */
const MAX_LISTED = 20_000;
const listedCaches = new WeakMap<Items, Map<string, { read: TaskInstance; set: Change }>>();

function rememberListed(items: Items, read: TaskInstance, set: Change): void {
  let cache = listedCaches.get(items);
  if (!cache) {
    cache = new Map();
    listedCaches.set(items, cache);
  }
  const id = tiKeyString(read);
  cache.delete(id);
  cache.set(id, { read, set });
  if (cache.size > MAX_LISTED) cache.delete(cache.keys().next().value!);
}

/** A listed candidate's pending record and change, if this store read it in the try `tryNumber`. */
function listedCandidate(
  items: Items,
  key: TiKey,
  tryNumber: number,
): { read: TaskInstance; set: Change } | undefined {
  const found = listedCaches.get(items)?.get(tiKeyString(key));
  if (!found) return undefined;
  return (found.set.tryNumber ?? found.read.tryNumber) === tryNumber ? found : undefined;
}

/** Forgets a listed candidate once it has an item (claimed or parked). */
function forgetListed(items: Items, key: TiKey): void {
  listedCaches.get(items)?.delete(tiKeyString(key));
}

export {
  ADVANCE_MIN,
  advance,
  entryChange,
  entryKey,
  entryOrder,
  forgetListed,
  isReadyList,
  judgeEntry,
  LEGACY_PREFIX,
  LIST_PREFIX,
  listedCandidate,
  READY_MAX,
  READY_MIN,
  readyListItems,
  readyListOf,
  rememberListed,
};
