/**
 * Claim candidates: a pool's scheduled task instances in claim order, from the `claim` index
 * (partition `POOL#<pool>`, sort key = claim order): instances listed one by one, and ready lists
 * of many (ready.ts), merged. Instances the caller excludes because their
 * own DAG or task limit is full are parked on the way (parking.ts), so the next listing reads past
 * nothing; other excluded instances (a paused DAG, a pool too small) are filtered and stay listed.
 */
import { InputError } from '#core/errors.ts';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { Page } from '#ports';
import { tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { claimPartition } from './keys.ts';
import { BAD_CURSOR, type Item, type Key, S } from './marshal.ts';
import { blockersOf, park } from './parking.ts';
import { blockRecords } from './pending.ts';
import {
  advance,
  entryChange,
  entryKey,
  entryOrder,
  isReadyList,
  judgeEntry,
  type ReadyList,
  readyListOf,
  rememberListed,
} from './ready.ts';
import { itemsOf } from './ti-reads.ts';

/** Items read per listing at most: a listing never turns into a scan, even before anything is parked. */
const MAX_READ = 1000;

export interface CandidateQuery {
  pool: string;
  limit: number;
  cursor?: string | null;
  exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
}

/** One read in claim order: an instance to return, or (null) one read that returns nothing. */
interface Taken {
  order: string;
  ti: TaskInstance | null;
}

/** The pool's own entries in claim order, page by page; the ready lists met on the way go to `onList`. */
class IndexSource {
  #buffer: Item[] = [];
  #pos = 0;
  #cursor: string | null = null;
  #more = true;
  read = 0;

  constructor(
    private readonly items: Items,
    private readonly pool: string,
    private readonly after: string | null,
    private readonly pageSize: () => number,
    private readonly onList: (list: ReadyList, listedAt: string) => void,
  ) {}

  async peek(): Promise<Taken | null> {
    for (;;) {
      while (this.#pos < this.#buffer.length) {
        const item = this.#buffer[this.#pos]!;
        if (!isReadyList(item)) return { order: item.claimSk!.S!, ti: tiOf(item) };
        this.#pos += 1;
        this.onList(readyListOf(item), item.claimSk!.S!);
      }
      if (!this.#more) return null;
      const page = await this.items.query(
        {
          IndexName: 'claim',
          KeyConditionExpression:
            this.after === null ? '#claimPk = :pool' : '#claimPk = :pool AND #claimSk > :after',
          Limit: this.pageSize(),
        },
        { ':pool': S(claimPartition(this.pool)), ...(this.after !== null && { ':after': S(this.after) }) },
        this.#cursor,
      );
      this.read += page.items.length;
      this.#buffer = page.items;
      this.#pos = 0;
      this.#cursor = page.next;
      this.#more = page.next !== null;
    }
  }

  take(): void {
    this.#pos += 1;
  }
}

/** A ready list's instances in claim order, resolved a chunk at a time from their items (ready.ts). */
class ReadySource {
  #pos: number;
  #buffer: Taken[] = [];
  /** Entries from the head found done, while none before them was not (only when read from the head). */
  done = 0;
  #prefix: boolean;
  read = 0;

  constructor(
    readonly list: ReadyList,
    readonly listedAt: string,
    after: string | null,
  ) {
    this.#pos = list.head;
    if (after !== null)
      while (this.#pos < list.entries.length && entryOrder(list, this.#pos) <= after) this.#pos += 1;
    this.#prefix = this.#pos === list.head;
  }

  get exhausted(): boolean {
    return this.#buffer.length === 0 && this.#pos >= this.list.entries.length;
  }

  /** The claim order of the next entry, known without reading its item (null: none left). */
  bound(): string | null {
    if (this.#buffer.length > 0) return this.#buffer[0]!.order;
    return this.#pos < this.list.entries.length ? entryOrder(this.list, this.#pos) : null;
  }

  /** The next entry, once `resolve` has read its item. */
  first(): Taken | undefined {
    return this.#buffer[0];
  }

  /** Reads the items of the next `chunk` entries (only when this list is the one to take from next). */
  async resolve(items: Items, chunk: number, now: number): Promise<void> {
    const end = Math.min(this.list.entries.length, this.#pos + chunk);
    const wanted: Key[] = [];
    for (let i = this.#pos; i < end; i += 1) wanted.push(entryKey(this.list, i));
    // Eventually consistent: a stale read never moves a head past a candidate (ready.ts).
    const got = await itemsOf(items, this.list.key.pk, wanted, { consistent: false, reach: 2 });
    this.read += wanted.length;
    const judged = wanted.map((key) => judgeEntry(this.list, got.get(key.sk), now));
    // Entries with no item are what the list itself marks scheduled: the block's record with its change.
    const unwritten = wanted.filter((_, j) => judged[j] === 'listed').map((key) => key.sk);
    const blocks =
      unwritten.length > 0
        ? await blockRecords(items, { dagId: this.list.dagId, runId: this.list.runId }, unwritten)
        : null;
    for (let i = this.#pos; i < end; i += 1) {
      const j = i - this.#pos;
      const key = wanted[j]!;
      let ti: TaskInstance | null = null;
      if (judged[j] === 'candidate') ti = tiOf(got.get(key.sk)!);
      else if (judged[j] === 'listed') {
        const read = blocks?.get(key.sk);
        if (read) {
          const set = entryChange(this.list, i);
          rememberListed(items, read, set);
          ti = Object.assign(structuredClone(read), structuredClone(set));
        }
      }
      // An entry with neither an item nor a block record names no instance: done.
      const done = judged[j] === 'done' || (judged[j] === 'listed' && ti === null);
      if (this.#prefix && done) this.done += 1;
      else this.#prefix = false;
      this.#buffer.push({ order: entryOrder(this.list, i), ti });
    }
    this.#pos = end;
  }

  take(): void {
    this.#buffer.shift();
  }
}

/**
 * Lists met lately, per store: their entries never change, so a page that carries one on (its
 * cursor) need not read it again. A cached head may be behind: entries it passes are read as done.
 */
const MAX_LISTS = 256;
const listCaches = new WeakMap<Items, Map<string, { list: ReadyList; listedAt: string }>>();

function cachedList(items: Items, id: string) {
  return listCaches.get(items)?.get(id);
}

function cacheList(items: Items, id: string, entry: { list: ReadyList; listedAt: string }): void {
  let cache = listCaches.get(items);
  if (!cache) {
    cache = new Map();
    listCaches.set(items, cache);
  }
  cache.delete(id);
  cache.set(id, entry);
  if (cache.size > MAX_LISTS) cache.delete(cache.keys().next().value!);
}

/** A listing's cursor: the claim order read up to, and the ready lists listed before it with more after it. */
interface ListingCursor {
  a: string | null;
  r: [string, string][];
}

function encodeListing(cursor: ListingCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeListing(cursor: string | null | undefined): ListingCursor {
  if (!cursor) return { a: null, r: [] };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    value = null;
  }
  const v = value as Partial<ListingCursor> | null;
  const pair = (p: unknown) =>
    Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';
  if (
    typeof v !== 'object' ||
    v === null ||
    !(v.a === null || typeof v.a === 'string') ||
    !Array.isArray(v.r) ||
    !v.r.every(pair)
  )
    throw new InputError('cursor', BAD_CURSOR);
  return v as ListingCursor;
}

/**
 * One page of candidates in claim order, leaving out (and parking, when their counter is full) the
 * excluded DAGs and tasks. The pool's own entries and the instances of its ready lists (ready.ts)
 * are merged: an instance is returned only once every source has been read past it, so the page
 * is exactly the pool's next scheduled instances. Reads at most about MAX_READ items; a short page
 * with a cursor means "more".
 */
async function listClaimCandidates(
  items: Items,
  query: CandidateQuery,
  now: number,
): Promise<Page<TaskInstance>> {
  const dagIds = new Set(query.exclude?.dagIds ?? []);
  const tasks = new Set((query.exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
  const out: TaskInstance[] = [];
  const excluded: { ti: TaskInstance; blockers: CounterKey[] }[] = [];
  const from = decodeListing(query.cursor);
  const lists: ReadySource[] = [];
  let carriedReads = 0;
  for (const [pk, sk] of from.r) {
    let list = cachedList(items, `${pk}/${sk}`);
    if (!list) {
      const item = await items.get({ pk, sk });
      carriedReads += 1;
      if (!item) continue;
      list = { list: readyListOf(item), listedAt: item.claimSk?.S ?? '' };
    }
    lists.push(new ReadySource(list.list, list.listedAt, from.a));
  }
  const read = (): number => carriedReads + index.read + lists.reduce((sum, l) => sum + l.read, 0);
  const room = (): number => Math.max(1, Math.min(query.limit - out.length, MAX_READ - read()));
  const index: IndexSource = new IndexSource(items, query.pool, from.a, room, (list, listedAt) => {
    cacheList(items, `${list.key.pk}/${list.key.sk}`, { list, listedAt });
    lists.push(new ReadySource(list, listedAt, null));
  });
  const seen = new Set<string>();
  let after = from.a;
  let exhausted = false;
  while (out.length < query.limit && read() < MAX_READ) {
    // The source whose next instance comes first; a list's entries are read only when it is that one.
    const head = await index.peek();
    let best: { source: IndexSource | ReadySource; order: string } | null = head
      ? { source: index, order: head.order }
      : null;
    for (const list of lists) {
      const order = list.bound();
      if (order !== null && (!best || order < best.order)) best = { source: list, order };
    }
    if (!best) {
      exhausted = true;
      break;
    }
    const { source } = best;
    if (source instanceof ReadySource && !source.first()) {
      await source.resolve(items, Math.min(100, room() + 8), now);
      continue;
    }
    const taken = source instanceof ReadySource ? source.first()! : head!;
    source.take();
    after = taken.order;
    const ti = taken.ti;
    if (!ti || seen.has(taken.order)) continue;
    seen.add(taken.order);
    const blockers = blockersOf(ti, dagIds, tasks);
    if (blockers.length > 0) excluded.push({ ti, blockers });
    else out.push(ti);
  }
  await park(items, query.pool, excluded, now);
  await Promise.all(lists.filter((l) => l.done > 0).map((l) => advance(items, l.list, l.done)));
  const carry = lists.filter((l) => !l.exhausted && after !== null && l.listedAt <= after);
  const next = exhausted
    ? null
    : encodeListing({ a: after, r: carry.map((l) => [l.list.key.pk, l.list.key.sk]) });
  return { items: out, next };
}

/** Parks the instances a pass read before it knew their own DAG or task limit blocks them (StateStore.setAsideBlocked). */
async function setAsideBlocked(
  items: Items,
  pool: string,
  tis: TaskInstance[],
  exclude: CandidateQuery['exclude'],
  now: number,
): Promise<void> {
  const dagIds = new Set(exclude?.dagIds ?? []);
  const tasks = new Set((exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
  const blocked = tis
    .filter((ti) => ti.pool === pool && ti.state === 'scheduled')
    .map((ti) => ({ ti, blockers: blockersOf(ti, dagIds, tasks) }))
    .filter((b) => b.blockers.length > 0);
  await park(items, pool, blocked, now);
}

export { listClaimCandidates, MAX_READ, setAsideBlocked };
