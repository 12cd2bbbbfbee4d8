/**
 * Instances not written yet: a run's instances in state none are not written one item each when
 * the run is created, but packed into a few block items of the run's partition (`TIS#nnnn`, the
 * records' JSON gzipped: 1,000 instances of one DAG in ≈ 4–30 KB), so creating an instance costs a share of one
 * write instead of a write. An instance gets its own item (`TI#…`) at its first change — becoming
 * scheduled, skipped, upstream_failed, removed, or a wait reason — written `if absent`, so two
 * writers that both read it from the block cannot both win. Where an item exists it is the truth;
 * a block is never rewritten (a run's instances are fixed when it is created).
 *
 *   createRun   run + blocks (+ the instances not in state none, as items), as before
 *   listTis     one query of the partition's `TI` prefix: items and blocks, merged (items win)
 *   getTi       the item; if there is none, the run's blocks (one query, or none when cached)
 *   updateTis   the items; for a key without one, its record from the blocks, put `if absent`
 *   wait reason an update of the item; for a key without one, its record from the blocks with the
 *               reason, put `if absent` (lost to a writer that put it first: the update again)
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DagRun, TaskInstance, TiKey } from '#core/model.ts';
import { tiItem, tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, keyOf, N, S } from './marshal.ts';

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

/** The pending records of one run, by their item's sort key (one strongly consistent query). */
async function pendingOfRun(items: Items, dagId: string, runId: string): Promise<Map<string, TaskInstance>> {
  const blocks = await items.queryAll(
    { KeyConditionExpression: 'pk = :run AND begins_with(sk, :blocks)', ConsistentRead: true },
    { ':run': S(keys.run(dagId, runId).pk), ':blocks': S('TIS#') },
  );
  const out = new Map<string, TaskInstance>();
  for (const block of blocks) for (const ti of tisOfBlock(block)) out.set(keys.ti(ti).sk, ti);
  return out;
}

/**
 * Blocks read lately, decoded, per store (its Items): a block never changes once written, so a
 * record found in one is still what the block says. It is consulted only for a key whose item a
 * strongly consistent read just found absent, so the record is then the instance's state; a key
 * not found in the cached blocks (a block added by a repeated createRun) reads the blocks again.
 * Bounded by records held; the least recently used run goes first.
 */
const MAX_CACHED = 20_000;
const caches = new WeakMap<Items, { runs: Map<string, Map<string, TaskInstance>>; size: number }>();

function cacheOf(items: Items) {
  let cache = caches.get(items);
  if (!cache) {
    cache = { runs: new Map(), size: 0 };
    caches.set(items, cache);
  }
  return cache;
}

async function blocksOf(items: Items, key: TiKey, wanted: string[]): Promise<Map<string, TaskInstance>> {
  const cache = cacheOf(items);
  const runPk = keys.run(key.dagId, key.runId).pk;
  const cached = cache.runs.get(runPk);
  if (cached && wanted.every((sk) => cached.has(sk))) {
    cache.runs.delete(runPk);
    cache.runs.set(runPk, cached);
    return cached;
  }
  const read = await pendingOfRun(items, key.dagId, key.runId);
  if (cached) {
    cache.runs.delete(runPk);
    cache.size -= cached.size;
  }
  if (read.size > 0 && read.size <= MAX_CACHED) {
    cache.runs.set(runPk, read);
    cache.size += read.size;
    for (const [pk, run] of cache.runs) {
      if (cache.size <= MAX_CACHED) break;
      cache.runs.delete(pk);
      cache.size -= run.size;
    }
  }
  return read;
}

/**
 * Pending records of the given keys, whose items a strongly consistent read found absent, from
 * their runs' blocks (cached: see above), as copies.
 */
async function pendingOf(items: Items, missing: TiKey[]): Promise<Map<string, TaskInstance>> {
  const runs = new Map<string, { key: TiKey; sks: string[] }>();
  for (const key of missing) {
    const { pk, sk } = keys.ti(key);
    const entry = runs.get(pk) ?? { key, sks: [] };
    entry.sks.push(sk);
    runs.set(pk, entry);
  }
  const out = new Map<string, TaskInstance>();
  await Promise.all(
    [...runs.entries()].map(async ([pk, { key, sks }]) => {
      const blocks = await blocksOf(items, key, sks);
      for (const sk of sks) {
        const ti = blocks.get(sk);
        if (ti) out.set(`${pk}/${sk}`, structuredClone(ti));
      }
    }),
  );
  return out;
}

export { BLOCK_TIS, blockItems, isBlock, isPending, pendingOf, pendingOfRun, tisOfBlock };
