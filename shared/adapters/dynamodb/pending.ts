/**
 * Instances not written yet: a run's instances in state none are not written one item each when
 * the run is created, but packed into a few block items of the run's partition (`TIS#nnnn`, the
 * records' JSON gzipped: 1,000 instances of one DAG in ≈ 4–30 KB), so creating an instance costs a share of one
 * write instead of a write. An instance gets its own item (`TI#…`) at its first change — becoming
 * scheduled, skipped, upstream_failed, removed, or a wait reason — written `if absent`, so two
 * writers that both read it from the block cannot both win. Where an item exists it is the truth;
 * a block is never rewritten (a run's instances are fixed when it is created).
 *
 * An instance with no item may also be named by a ready list of its run (ready.ts): it is then
 * scheduled, its record the block's with the list's change. So a key without an item is resolved
 * from the run's blocks and its lists (`TI#~RDY#…`, which sort just before the blocks: one query
 * reads both).
 *
 *   createRun   run + blocks (+ the instances not in state none, as items), as before
 *   listTis     one query of the partition's `TI` prefix: items, lists and blocks, merged (items
 *               win, then lists)
 *   getTi       the item; if there is none, the run's lists and blocks (one query; the lists only
 *               when the blocks are cached)
 *   updateTis   the items; for a key without one, its record as above, put `if absent`
 *   wait reason an update of the item; for a key without one, its record as above with the
 *               reason, put `if absent` (lost to a writer that put it first: the update again)
 *
 * Lists, unlike blocks, come and go, so what a store knows of them may miss a list another store
 * wrote since. A caller that reads an instance listed scheduled as none may only write it `if
 * absent` as scheduled again (harmless: an item wins over a list), so `pendingOf` reads the lists
 * again (`fresh`) for every caller but those: the task_finished pass's probes (`getTis`) and
 * `updateTis` changes that only schedule.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DagRun, TaskInstance, TiKey } from '#core/model.ts';
import type { TiChange } from '#ports';
import { tiItem, tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, keyOf, N, S } from './marshal.ts';
import { entryChange, entryKey, isReadyList, LIST_PREFIX, readyListOf } from './ready.ts';

/** Instances per block: 1,000 records of one run gzip to ≈ 4–30 KB (they differ in little but the task), far below the item limit. */
const BLOCK_TIS = 1000;

/** An instance that may stay in a block until it first changes: state none, never tried, holding nothing. */
function isPending(ti: TaskInstance): boolean {
  return ti.state === 'none' && ti.tryNumber === 0 && ti.holds.length === 0 && ti.waitReason === null;
}

/** The block items of a run's pending instances (records as tiOf(tiItem(ti)) would read them back). */
function blockItems(run: Pick<DagRun, 'dagId' | 'runId'>, tis: TaskInstance[], first = 0): Item[] {
  const out: Item[] = [];
  for (let i = 0, n = first; i < tis.length; i += BLOCK_TIS, n += 1) {
    const records = tis.slice(i, i + BLOCK_TIS).map((ti) => tiOf(tiItem(ti)));
    out.push({
      ...keyOf(keys.tiBlock(run.dagId, run.runId, n)),
      type: S('tiBlock'),
      v: N(ITEM_VERSION),
      count: N(records.length),
      data: { B: gzipSync(JSON.stringify(records)) },
    });
  }
  return out;
}

function tisOfBlock(item: Item): TaskInstance[] {
  checkItem(item, 'tiBlock');
  const bytes = item.data?.B;
  if (!bytes) return [];
  return JSON.parse(gunzipSync(Buffer.from(bytes)).toString()) as TaskInstance[];
}

const isBlock = (item: Item) => item.sk?.S?.startsWith('TIS#') === true;

type Change = TiChange['set'];

/** The scheduling changes the marking lists among `read` give their instances, by sort key (the oldest list's first). */
function listedChanges(read: Item[], into = new Map<string, Change>()): Map<string, Change> {
  for (const item of read) {
    if (!isReadyList(item) || !item.sk!.S!.startsWith(LIST_PREFIX)) continue;
    const list = readyListOf(item);
    for (let i = list.head; i < list.entries.length; i += 1) {
      const { sk } = entryKey(list, i);
      if (!into.has(sk)) into.set(sk, entryChange(list, i));
    }
  }
  return into;
}

/** A run's pending records and the changes its lists give them, both by sort key. */
interface RunPending {
  tis: Map<string, TaskInstance>;
  listed: Map<string, Change>;
}

/** The pending records of one run and its lists' changes (one strongly consistent query of `TI#~…` to `TIS#…`). */
async function pendingOfRun(items: Items, dagId: string, runId: string): Promise<RunPending> {
  const read = await items.queryAll(
    { KeyConditionExpression: 'pk = :run AND sk BETWEEN :lists AND :blocksEnd', ConsistentRead: true },
    { ':run': S(keys.run(dagId, runId).pk), ':lists': S('TI#~'), ':blocksEnd': S('TIS$') },
  );
  const tis = new Map<string, TaskInstance>();
  for (const item of read) if (isBlock(item)) for (const ti of tisOfBlock(item)) tis.set(keys.ti(ti).sk, ti);
  return { tis, listed: listedChanges(read) };
}

/** A run's lists' changes alone (one strongly consistent query of `TI#~…`). */
async function listedOfRun(items: Items, runPk: string): Promise<Map<string, Change>> {
  const read = await items.queryAll(
    { KeyConditionExpression: 'pk = :run AND begins_with(sk, :lists)', ConsistentRead: true },
    { ':run': S(runPk), ':lists': S(LIST_PREFIX) },
  );
  return listedChanges(read);
}

/**
 * Blocks read lately, decoded, per store (its Items): a block never changes once written, so a
 * record found in one is still what the block says. It is consulted only for a key whose item a
 * strongly consistent read just found absent, so the record is then the instance's state (unless a
 * list names it); a key not found in the cached blocks (a block added by a repeated createRun)
 * reads the blocks again. With each run, the lists read with its blocks and those this store wrote
 * since (`noteListed`). Bounded by records held; the least recently used run goes first.
 */
const MAX_CACHED = 20_000;
const caches = new WeakMap<Items, { runs: Map<string, RunPending>; size: number }>();

function cacheOf(items: Items) {
  let cache = caches.get(items);
  if (!cache) {
    cache = { runs: new Map(), size: 0 };
    caches.set(items, cache);
  }
  return cache;
}

/** The run's blocks, cached or read (with its lists); `read` says whether they were read just now. */
async function blocksOf(
  items: Items,
  key: Pick<TiKey, 'dagId' | 'runId'>,
  wanted: string[],
): Promise<{ run: RunPending; read: boolean }> {
  const cache = cacheOf(items);
  const runPk = keys.run(key.dagId, key.runId).pk;
  const cached = cache.runs.get(runPk);
  if (cached && wanted.every((sk) => cached.tis.has(sk))) {
    cache.runs.delete(runPk);
    cache.runs.set(runPk, cached);
    return { run: cached, read: false };
  }
  const read = await pendingOfRun(items, key.dagId, key.runId);
  if (cached) {
    cache.runs.delete(runPk);
    cache.size -= cached.tis.size;
  }
  if (read.tis.size > 0 && read.tis.size <= MAX_CACHED) {
    cache.runs.set(runPk, read);
    cache.size += read.tis.size;
    for (const [pk, run] of cache.runs) {
      if (cache.size <= MAX_CACHED) break;
      cache.runs.delete(pk);
      cache.size -= run.tis.size;
    }
  }
  return { run: read, read: true };
}

/** Records what a list this store just wrote gives its instances, for its later reads of them. */
function noteListed(items: Items, runPk: string, changes: [string, Change][]): void {
  const run = cacheOf(items).runs.get(runPk);
  if (!run) return;
  for (const [sk, change] of changes) if (!run.listed.has(sk)) run.listed.set(sk, change);
}

/**
 * Records of the given keys, whose items a strongly consistent read found absent: from their
 * runs' blocks (cached: see above), scheduled where a list names them, as copies. `fresh` reads
 * the lists again when the blocks come from the cache (see the top of this file for who may not).
 */
async function pendingOf(
  items: Items,
  missing: TiKey[],
  opts: { fresh: boolean } = { fresh: true },
): Promise<Map<string, TaskInstance>> {
  const runs = new Map<string, { key: Pick<TiKey, 'dagId' | 'runId'>; sks: string[] }>();
  for (const key of missing) {
    const { pk, sk } = keys.ti(key);
    const entry = runs.get(pk) ?? { key, sks: [] };
    entry.sks.push(sk);
    runs.set(pk, entry);
  }
  const out = new Map<string, TaskInstance>();
  await Promise.all(
    [...runs.entries()].map(async ([pk, { key, sks }]) => {
      const { run, read } = await blocksOf(items, key, sks);
      const listed = opts.fresh && !read ? await listedOfRun(items, pk) : run.listed;
      if (opts.fresh && !read)
        for (const [sk, change] of listed) if (!run.listed.has(sk)) run.listed.set(sk, change);
      for (const sk of sks) {
        const ti = run.tis.get(sk);
        if (!ti) continue;
        const change = listed.get(sk);
        out.set(`${pk}/${sk}`, structuredClone(change ? { ...ti, ...change } : ti));
      }
    }),
  );
  return out;
}

/**
 * For keys whose items a strongly consistent read found absent, those a list of their run marks
 * scheduled (lists read now): the block's record and the list's change, by `pk/sk`.
 */
async function listedRecords(
  items: Items,
  missing: TiKey[],
): Promise<Map<string, { read: TaskInstance; set: Change }>> {
  const out = new Map<string, { read: TaskInstance; set: Change }>();
  const runs = new Map<string, TiKey[]>();
  for (const key of missing) {
    const { pk } = keys.ti(key);
    runs.set(pk, [...(runs.get(pk) ?? []), key]);
  }
  await Promise.all(
    [...runs.entries()].map(async ([pk, runKeys]) => {
      const sks = runKeys.map((k) => keys.ti(k).sk);
      const { run, read } = await blocksOf(items, runKeys[0]!, sks);
      const listed = read ? run.listed : await listedOfRun(items, pk);
      for (const sk of sks) {
        const ti = run.tis.get(sk);
        const set = listed.get(sk);
        if (ti && set) out.set(`${pk}/${sk}`, { read: structuredClone(ti), set: structuredClone(set) });
      }
    }),
  );
  return out;
}

/** Pending records of keys of one run from its blocks alone (cached), as copies: for a list's own entries. */
async function blockRecords(
  items: Items,
  key: Pick<TiKey, 'dagId' | 'runId'>,
  sks: string[],
): Promise<Map<string, TaskInstance>> {
  const { run } = await blocksOf(items, key, sks);
  const out = new Map<string, TaskInstance>();
  for (const sk of sks) {
    const ti = run.tis.get(sk);
    if (ti) out.set(sk, structuredClone(ti));
  }
  return out;
}

export {
  BLOCK_TIS,
  blockItems,
  blockRecords,
  isBlock,
  isPending,
  listedChanges,
  listedRecords,
  noteListed,
  pendingOf,
  pendingOfRun,
  tisOfBlock,
};
