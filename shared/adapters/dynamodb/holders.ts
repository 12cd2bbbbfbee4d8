/**
 * Finding the slot holders (queued and running instances) without an index entry per holder: a
 * holder's run is listed in the `active` index under `RUNS` (docs/state-store.md, "Holders"), so
 * the sweep and the reconciler walk the listed runs and read each one's instance items (`TI#…`,
 * never its pending blocks, which hold only state none) with a strongly consistent base-table
 * query. No index can lag here but the run list itself, and a run is listed before any of its
 * instances can be claimed.
 *
 *   claim     no index write for the holder (it used to enter `holding`: 1 unit, and 1 more to leave)
 *   run end   a run that finishes while one of its instances is unsettled — live (`LIVE`: a mark
 *             while tries run) or still to run (`none`: a mark settles its instances after the run,
 *             and a pass that read the run as running may schedule one of them meanwhile) — stays
 *             listed under RUNS (read by the finishing write), finished; `listUnfinishedRuns` leaves it out
 *   sweep     the reconciler delists such a run once its partition shows nothing live and it ended
 *             more than `delistAfterMs` ago (DELIST_AFTER_MS: longer than any pass can live, so no
 *             pass that read it as running can still schedule one of its instances)
 *
 * A listed run's partition is read whole (its instance items), so the sweep pays ≈ 0.6 KB of
 * strongly consistent read per written instance of an unfinished run, once for the holders and once
 * for the reconciler (4 KB per read unit): not a scan of the table, but a long, wide run is re-read
 * every sweep.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InputError } from '#core/errors.ts';
import type { TaskInstance } from '#core/model.ts';
import { holdsSlot, isRunFinished, type RunState, type TiState } from '#core/states.ts';
import type { Page, PageRequest } from '#ports';
import { runOf, tiItem, tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { BAD_CURSOR, type Item, S, str } from './marshal.ts';
import { blockRecords } from './pending.ts';
import { entryChange, entryKey, isReadyList, type ReadyList, readyListOf } from './ready.ts';
import { itemsOf } from './ti-reads.ts';

/**
 * States in which an instance holds slots or may come to hold them without its run being listed
 * again (a claim needs `scheduled`; a due retry or reschedule becomes scheduled).
 */
const LIVE: TiState[] = ['scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule'];

// Ready lists (`TI#~RDY#…`) too: the instances they mark scheduled have no item (ready.ts).
const liveFilter = `#state IN (${LIVE.map((_, i) => `:live${i}`).join(', ')}) OR #type = :readyList`;
const liveValues = {
  ...Object.fromEntries(LIVE.map((s, i) => [`:live${i}`, S(s)])),
  ':readyList': S('readyList'),
};

/** One page of a run's live instance items (strongly consistent), a ready list's instances with no item among them. */
async function liveTiPage(items: Items, runPk: string, cursor: string | null, limit: number) {
  const page = await items.query(
    {
      KeyConditionExpression: 'pk = :run AND begins_with(sk, :ti)',
      FilterExpression: liveFilter,
      ConsistentRead: true,
      Limit: limit,
    },
    { ':run': S(runPk), ':ti': S('TI#'), ...liveValues },
    cursor,
  );
  if (!page.items.some(isReadyList)) return page;
  const tis = page.items.filter((item) => !isReadyList(item));
  const lists = page.items.filter(isReadyList).map(readyListOf);
  return { items: [...tis, ...(await listedItems(items, runPk, lists))], next: page.next };
}

/**
 * The instances `lists` (of one run) mark scheduled that have no item, as the items they would be:
 * the run's items read by a strongly consistent query of the range the entries span (ti-reads.ts).
 */
async function listedItems(items: Items, runPk: string, lists: ReadyList[]): Promise<Item[]> {
  const entries = new Map<string, { list: ReadyList; i: number }>();
  for (const list of lists)
    for (let i = list.head; i < list.entries.length; i += 1) {
      const { sk } = entryKey(list, i);
      if (!entries.has(sk)) entries.set(sk, { list, i });
    }
  if (entries.size === 0) return [];
  const wanted = [...entries.keys()].map((sk) => ({ pk: runPk, sk }));
  const got = await itemsOf(items, runPk, wanted, { consistent: true, reach: 2 });
  const unwritten = [...entries.keys()].filter((sk) => !got.has(sk));
  if (unwritten.length === 0) return [];
  const { dagId, runId } = lists[0]!;
  const blocks = await blockRecords(items, { dagId, runId }, unwritten);
  const out: Item[] = [];
  for (const sk of unwritten) {
    const ti = blocks.get(sk);
    const { list, i } = entries.get(sk)!;
    if (ti) out.push(tiItem({ ...ti, ...entryChange(list, i) }));
  }
  return out;
}

/**
 * How long a finished run stays listed after it ended, at least: longer than any pass can live (a
 * pass runs in a function, and Lambda stops every function within 15 minutes), so a pass that read
 * the run as running before it finished has written all it will by then.
 */
const DELIST_AFTER_MS = 16 * 60_000;

/** Listed runs whose partitions a walk reads at once. */
const WALK_AT_ONCE = 16;

/** Where a walk over the listed runs stopped: the run (its `activeSk`) and the cursor inside it. */
interface WalkCursor {
  run: string;
  tis: string | null;
}

function encodeWalk(at: WalkCursor | null): string | null {
  return at ? Buffer.from(JSON.stringify(at)).toString('base64url') : null;
}

function decodeWalk(cursor: string | null | undefined): WalkCursor | null {
  if (!cursor) return null;
  let at: unknown;
  try {
    at = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    at = null;
  }
  const ok =
    typeof at === 'object' &&
    at !== null &&
    typeof (at as WalkCursor).run === 'string' &&
    ((at as WalkCursor).tis === null || typeof (at as WalkCursor).tis === 'string');
  if (!ok) throw new InputError('cursor', BAD_CURSOR);
  return at as WalkCursor;
}

/** A listed run as the walk needs it. */
interface ListedRun {
  pk: string;
  activeSk: string;
  state: RunState;
  endedAt: number | null;
}

/** Listed runs from `from` (inclusive) on, in `active` order, one page. */
async function listedRuns(items: Items, from: string | null, limit: number) {
  const page = await items.query(
    {
      IndexName: 'active',
      KeyConditionExpression: from ? 'activePk = :runs AND activeSk >= :from' : 'activePk = :runs',
      Limit: limit,
    },
    { ':runs': S('RUNS'), ...(from && { ':from': S(from) }) },
  );
  const runs: ListedRun[] = page.items.map((item) => ({
    pk: item.pk!.S!,
    activeSk: item.activeSk!.S!,
    state: str(item.state) as RunState,
    endedAt: runOf(item).endedAt,
  }));
  return { runs, more: page.next !== null };
}

/**
 * One page of the live instance items of the listed runs, walking the runs in `active` order and
 * each run's instances in key order; at most `limit` items. `visit` sees each run whose partition
 * was read to its end, with whether any of its instances was live.
 */
async function walkLive(
  items: Items,
  request: PageRequest,
  visit?: (run: ListedRun, live: boolean) => void | Promise<void>,
): Promise<{ items: Item[]; next: string | null }> {
  const limit = request.limit ?? 1000;
  let at = decodeWalk(request.cursor);
  const out: Item[] = [];
  for (;;) {
    const { runs, more } = await listedRuns(items, at?.run ?? null, 100);
    // A cursor names the run it stopped in; the list from there starts with that run (if still listed).
    const resume = at;
    const startOf = (run: ListedRun) => (resume && resume.run === run.activeSk ? resume.tis : null);
    at = null;
    for (let i = 0; i < runs.length; i += WALK_AT_ONCE) {
      const group = runs.slice(i, i + WALK_AT_ONCE);
      const room = limit - out.length;
      // The first page of each run of the group, read at once: a walk over thousands of listed runs
      // is not a chain of thousands of round trips.
      const firsts =
        room > 0
          ? await Promise.all(
              group.map((run) => liveTiPage(items, run.pk, startOf(run), Math.min(1000, room))),
            )
          : [];
      for (const [j, run] of group.entries()) {
        let cursor = startOf(run);
        // A run resumed inside its partition had live items before the cursor: it is not judged here.
        const whole = cursor === null;
        let live = false;
        let page: { items: Item[]; next: string | null } | null = firsts[j] ?? null;
        do {
          if (out.length >= limit)
            return { items: out, next: encodeWalk({ run: run.activeSk, tis: cursor }) };
          // A first page read for more room than is left (earlier runs of the group filled it) is read again.
          if (!page || page.items.length > limit - out.length)
            page = await liveTiPage(items, run.pk, cursor, Math.min(1000, limit - out.length));
          out.push(...page.items);
          if (page.items.length > 0) live = true;
          cursor = page.next;
          page = null;
        } while (cursor);
        if (visit && whole) await visit(run, live);
      }
    }
    if (!more || runs.length === 0) return { items: out, next: null };
    const last = runs.at(-1)!.activeSk;
    // Read on after the last run of this page (`>=` would read it again): the next sort key above it.
    at = { run: `${last}\u0000`, tis: null };
  }
}

/** One page of the live instances of the listed runs (the port's `listLiveTis`): the walk as read. */
async function listLive(items: Items, request: PageRequest = {}): Promise<Page<TaskInstance>> {
  const page = await walkLive(items, request);
  return { items: page.items.map(tiOf), next: page.next };
}

/** One page of the holding instances of the listed runs (the port's `listHoldingTis`). */
async function listHolders(items: Items, request: PageRequest = {}): Promise<Page<TaskInstance>> {
  const page = await walkLive(items, request);
  return { items: page.items.map(tiOf).filter((ti) => holdsSlot(ti.state)), next: page.next };
}

/**
 * Every holder item of the listed runs, for the reconciler; and every listed run that is finished
 * with nothing live left, and ended before `delistBefore`, is delisted (REMOVE its `active` key,
 * only if it is still in the finished state it was read in).
 */
async function allHolderItems(items: Items, delistBefore: number): Promise<Item[]> {
  const out: Item[] = [];
  const settled: ListedRun[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Item[]; next: string | null } = await walkLive(
      items,
      { cursor, limit: 10_000 },
      (run, live) => {
        if (!live && isRunFinished(run.state) && (run.endedAt ?? 0) < delistBefore) settled.push(run);
      },
    );
    out.push(...page.items.filter((item) => holdsSlot(str(item.state) as TiState)));
    cursor = page.next;
  } while (cursor);
  for (const run of settled) await delistRun(items, run);
  return out;
}

/** Removes a finished run from the unfinished-runs list, if it is still finished as read. */
function delistRun(items: Items, run: ListedRun): Promise<boolean> {
  const values: Record<string, AttributeValue> = { ':state': S(run.state), ':runs': S('RUNS') };
  return items.update({ pk: run.pk, sk: 'RUN' }, 'REMOVE #activePk, #activeSk', {
    condition: '#state = :state AND #activePk = :runs',
    values,
  });
}

export { allHolderItems, DELIST_AFTER_MS, LIVE, listHolders, listLive };
