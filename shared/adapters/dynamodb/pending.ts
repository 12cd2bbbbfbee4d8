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
 *   getTi       the item; if there is none, the run's blocks (one query)
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

/** Pending records of the given keys that have no item, read from their runs' blocks. */
async function pendingOf(items: Items, missing: TiKey[]): Promise<Map<string, TaskInstance>> {
  const runs = new Map<string, TiKey>();
  for (const key of missing) runs.set(keys.run(key.dagId, key.runId).pk, key);
  const out = new Map<string, TaskInstance>();
  await Promise.all(
    [...runs.values()].map(async (key) => {
      for (const [sk, ti] of await pendingOfRun(items, key.dagId, key.runId))
        out.set(`${keys.run(key.dagId, key.runId).pk}/${sk}`, ti);
    }),
  );
  return out;
}

export { BLOCK_TIS, blockItems, isBlock, isPending, pendingOf, pendingOfRun, tisOfBlock };
