/**
 * Reading instances of one run by key, by a query of the range of its partition they span. A query
 * costs the items it reads by their total size (≈ 0.65 KB each: six to a 4 KB read unit), a read by
 * key at least a whole unit per item; the instances a pass reads together (a batch of ended tries,
 * a ready list's next entries) are mostly neighbours in task order, so the range holds few others.
 * What the query does not reach within `reach` times as many items is read by key.
 */
import type { TaskInstance, TiKey } from '#core/model.ts';
import { tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { type Item, type Key, S } from './marshal.ts';
import { pendingOf } from './pending.ts';

/**
 * The items of `wanted` (keys of one partition) that exist, by sort key: a key absent from the
 * result has no item (as of a read of the kind asked for).
 */
async function itemsOf(
  items: Items,
  pk: string,
  wanted: Key[],
  opts: { consistent: boolean; reach: number },
): Promise<Map<string, Item>> {
  const sks = [...new Set(wanted.map((k) => k.sk))].sort();
  const got = new Map<string, Item>();
  if (sks.length === 0) return got;
  const lo = sks[0]!;
  const hi = sks.at(-1)!;
  const want = new Set(sks);
  // Page after page (a page is at most 1 MB) until the range is read or the reach is used up.
  let left = Math.max(8, opts.reach * sks.length);
  let cursor: string | null = null;
  let reached = lo;
  for (;;) {
    const page: { items: Item[]; next: string | null } = await items.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        Limit: left,
        ConsistentRead: opts.consistent,
      },
      { ':pk': S(pk), ':lo': S(lo), ':hi': S(hi) },
      cursor,
    );
    for (const item of page.items) if (want.has(item.sk!.S!)) got.set(item.sk!.S!, item);
    left -= page.items.length;
    cursor = page.next;
    if (cursor === null) {
      reached = hi;
      break;
    }
    reached = page.items.at(-1)?.sk?.S ?? reached;
    if (left <= 0) break;
  }
  const rest = sks.filter((sk) => sk > reached).map((sk) => ({ pk, sk }));
  if (rest.length > 0)
    for (const item of await items.getMany(rest, opts.consistent)) got.set(item.sk!.S!, item);
  return got;
}

/** Items read per wanted instance at most by the range query of `getTis`, before reading by key. */
const TI_REACH = 4;

/**
 * The items of `wanted` (keys of any runs; strongly consistent) that exist, by `pk/sk`: one range
 * query per run (`itemsOf`, reaching `TI_REACH` items per key wanted).
 */
async function itemsByRun(items: Items, wanted: Key[]): Promise<Map<string, Item>> {
  const byRun = new Map<string, Key[]>();
  for (const key of wanted) {
    const run = byRun.get(key.pk);
    if (run) run.push(key);
    else byRun.set(key.pk, [key]);
  }
  const found = new Map<string, Item>();
  await Promise.all(
    Array.from(byRun, async ([pk, runKeys]) => {
      const got = await itemsOf(items, pk, runKeys, { consistent: true, reach: TI_REACH });
      for (const [sk, item] of got) found.set(`${pk}/${sk}`, item);
    }),
  );
  return found;
}

/**
 * Instances by key, each as `getTi` reads it (strongly consistent; an instance with no item yet
 * from its run's pending block or a ready list this store knows of), in the order of `tis`: one
 * range query per run.
 */
async function getTis(items: Items, tis: TiKey[]): Promise<(TaskInstance | null)[]> {
  const found = await itemsByRun(
    items,
    tis.map((ti) => keys.ti(ti)),
  );
  const missing = tis.filter((ti) => {
    const { pk, sk } = keys.ti(ti);
    return !found.has(`${pk}/${sk}`);
  });
  // Without reading the run's lists again: a probe that reads a listed instance as none only
  // schedules it again, `if absent` (pending.ts).
  const pending =
    missing.length > 0 ? await pendingOf(items, missing, { fresh: false }) : new Map<string, TaskInstance>();
  return tis.map((ti) => {
    const { pk, sk } = keys.ti(ti);
    const item = found.get(`${pk}/${sk}`);
    return item ? tiOf(item) : (pending.get(`${pk}/${sk}`) ?? null);
  });
}

export { getTis, itemsByRun, itemsOf };
