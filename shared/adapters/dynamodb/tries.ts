/**
 * Task-instance writes after the claim: starting, heartbeating and ending a try, conditional
 * changes, and advisory wait reasons. Each is conditional on the state and try the writer read;
 * a lost condition is `false` (a duplicate delivery or a stale try), never an exception.
 *
 *   end of a try (one transaction):
 *     TI        state/try as read → new state, holds cleared        if #state = :expectedState AND #tryNumber = :expectedTry
 *     counter A ADD −Σ(A)                                           if #used >= Σ(A)   (failing = double release: a bug)
 *     counter B ADD −Σ(B)                                           …
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  type CounterKey,
  counterKeyString,
  type Hold,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import type { HoldPart } from '#core/reconcile.ts';
import { holdsSlot } from '#core/states.ts';
import { assertTransition } from '#core/transitions.ts';
import { recordTry } from '#core/try-history.ts';
import type { TiChange, TryEnd } from '#ports';
import {
  both,
  counterCanLower,
  expression,
  itemAbsent,
  itemPresent,
  knownVersion,
  tiStillAsRead,
  updateExpression,
} from './conditions.ts';
import { tiItem, tiOf, triesAttribute, triesOf } from './entities.ts';
import type { Items } from './items.ts';
import { keys, parkPartition } from './keys.ts';
import { ITEM_VERSION, type Item, json, type Key, keyOf, N, S } from './marshal.ts';
import { dagCounter, isFull, parkOnWrite, unparkAfterRelease } from './parking.ts';
import { noteListed, pendingOf } from './pending.ts';
import { READY_MIN, readyListItems } from './ready.ts';
import { itemsByRun } from './ti-reads.ts';
import { backoff, MAX_ATTEMPTS, newToken, transact, withOldItems } from './transact.ts';

const asRead = (state: string, tryNumber: number) => ({
  condition: tiStillAsRead,
  values: { ':expectedState': S(state), ':expectedTry': N(tryNumber) },
});

/**
 * queued(try) → running: one UpdateItem of the hot attributes, no read. Returns the instance as the
 * start left it (ALL_NEW: what the try's end will rewrite, see StartedTries), null if lost.
 */
function startTry(items: Items, key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
  const expect = asRead('queued', tryNumber);
  return items.updateReturning(
    keys.ti(key),
    'SET #state = :running, #startedAt = :now, #heartbeatAt = :now, #workerId = :workerId',
    {
      ...expect,
      values: {
        ...expect.values,
        ':running': S('running'),
        ':now': N(opts.now),
        ':workerId': S(opts.workerId),
      },
    },
  );
}

function heartbeat(items: Items, key: TiKey, tryNumber: number, now: number) {
  const expect = asRead('running', tryNumber);
  return items.update(keys.ti(key), 'SET #heartbeatAt = :now', {
    ...expect,
    values: { ...expect.values, ':now': N(now) },
  });
}

/** A counter lowered by what a try held, never below zero (its version moves, as with every change). */
const lowerUpdate = 'SET #changedAt = :now ADD #used :minus, #ver :one';
const lowerCondition = both(knownVersion, counterCanLower);

function lowerAction(
  table: string,
  counter: CounterKey,
  shard: number,
  amount: number,
  now: number,
): TransactWriteItem {
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.counterShard(counter, shard)),
      ...updateExpression(lowerUpdate, lowerCondition, {
        ':minus': N(-amount),
        ':amount': N(amount),
        ':now': N(now),
        ':one': N(1),
        ':v': N(ITEM_VERSION),
      }),
    },
  };
}

/**
 * What an instance holds on each counter shard: the parts its claim recorded (`holdParts`, for
 * sharded counters), and shard 0 for every other hold; summed per shard.
 */
function partsHeld(item: Item, holds: readonly Hold[]): Map<string, HoldPart> {
  const recorded = json<{ c: CounterKey; s: number; a: number }[]>(item.holdParts, []);
  const sharded = new Set(recorded.map((p) => counterKeyString(p.c)));
  const parts: HoldPart[] = [
    ...recorded.map((p) => ({ counter: p.c, shard: p.s, amount: p.a })),
    ...holds.filter((h) => !sharded.has(counterKeyString(h.counter))).map((h) => ({ ...h })),
  ];
  const out = new Map<string, HoldPart>();
  for (const part of parts) {
    const id = `${counterKeyString(part.counter)}#${part.shard ?? 0}`;
    const entry = out.get(id) ?? { ...part, amount: 0 };
    entry.amount += part.amount;
    out.set(id, entry);
  }
  return out;
}

/** A try end read and checked, ready to commit: the instance's put and what it held, per counter shard. */
export interface PreparedEnd {
  ti: TaskInstance;
  put: TransactWriteItem;
  counters: HoldPart[];
  /**
   * Built from the image this store's start kept (StartedTries), not from a read: its put also
   * expects the instance unchanged since, and a failed condition means "read it and prepare again",
   * not "the try already ended".
   */
  fromImage: boolean;
}

/**
 * What an end built from a kept image also expects: the attributes every other writer of a running
 * try changes (a container's launch sets `workerId`; a heartbeat, `heartbeatAt`; a new try,
 * `startedAt`) as the image has them, so the put never rewrites a change it has not seen.
 */
const unchangedSinceImage =
  '#workerId = :imageWorker AND #startedAt = :imageStarted AND #heartbeatAt = :imageBeat';

/**
 * Builds the try's end from `image` (the item as this store last wrote it) when it is the running
 * try the end expects, else from a read; null if the try already ended (or never was).
 */
async function prepareEnd(items: Items, end: TryEnd, image: Item | null = null): Promise<PreparedEnd | null> {
  const usable =
    image !== null &&
    image.state?.S === end.expect.state &&
    image.tryNumber?.N === String(end.expect.tryNumber) &&
    image.workerId?.S !== undefined &&
    image.startedAt?.N !== undefined &&
    image.heartbeatAt?.N !== undefined;
  const item = usable ? image : await items.get(keys.ti(end.key));
  if (!item) return null;
  const ti = tiOf(item);
  if (ti.state !== end.expect.state || ti.tryNumber !== end.expect.tryNumber) return null;
  assertTransition(ti.state, end.set.state, tiKeyString(ti));
  const counters = [...partsHeld(item, ti.holds).values()];
  const expect = asRead(end.expect.state, end.expect.tryNumber);
  const after: TaskInstance = { ...ti, ...end.set, holds: [] };
  const condition = usable
    ? both(knownVersion, expect.condition, unchangedSinceImage)
    : both(knownVersion, expect.condition);
  const imageValues: Item = usable
    ? { ':imageWorker': item.workerId!, ':imageStarted': item.startedAt!, ':imageBeat': item.heartbeatAt! }
    : {};
  const put = withOldItems({
    Put: {
      TableName: items.table,
      // The ended try joins the instance's bounded history in the same write.
      Item: { ...tiItem(after), ...triesAttribute(recordTry(triesOf(item), ti, after)) },
      ...expression({ condition }, { ':v': N(ITEM_VERSION), ...expect.values, ...imageValues }),
    },
  });
  return { ti, put, counters, fromImage: usable };
}

/** Tries kept at most (a worker runs a batch of them at once; an image left behind is only memory). */
const MAX_STARTED = 1_000;

/**
 * The images of the tries this store started, as its start wrote them (ALL_NEW) and its heartbeats
 * since: a try's end is then built without reading the instance again (one round trip less between
 * a task's end and its downstream's start). An image is only a guess: the end's put expects the
 * instance as the image has it (`unchangedSinceImage`), and reads it when that fails.
 */
class StartedTries {
  readonly #images = new Map<string, Item>();

  keep(key: TiKey, item: Item): void {
    const id = tiKeyString(key);
    this.#images.delete(id);
    if (this.#images.size >= MAX_STARTED) this.#images.delete(this.#images.keys().next().value!);
    this.#images.set(id, item);
  }

  /** A heartbeat this store wrote: the image follows it. */
  beat(key: TiKey, tryNumber: number, now: number): void {
    const image = this.#images.get(tiKeyString(key));
    if (image?.tryNumber?.N === String(tryNumber)) image.heartbeatAt = N(now);
  }

  drop(key: TiKey): void {
    this.#images.delete(tiKeyString(key));
  }

  /** The image of `key`'s try, removed (an end is prepared from it once). */
  take(key: TiKey): Item | null {
    const id = tiKeyString(key);
    const image = this.#images.get(id) ?? null;
    this.#images.delete(id);
    return image;
  }
}

/**
 * Ends a try and lowers exactly its holds (summed per counter shard), atomically; false if the try
 * already ended. Alone: the group commit of try ends (try-ends.ts) coalesces ends that coincide.
 */
async function endTry(items: Items, end: TryEnd, now: number, image: Item | null = null): Promise<boolean> {
  const prepared = await prepareEnd(items, end, image);
  if (!prepared) return false;
  const { ti, put, counters } = prepared;
  const actions = [
    put,
    ...counters.map((c) => withOldItems(lowerAction(items.table, c.counter, c.shard ?? 0, c.amount, now))),
  ];
  const token = newToken();
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await transact(items.client, actions, token);
    if (outcome.kind === 'committed') {
      // Work parked on a DAG or task counter this try held comes back now that it fell (parking.ts).
      await unparkAfterRelease(items, counters, now);
      return true;
    }
    if (outcome.kind === 'cancelled') {
      if (outcome.reasons[0]?.code === 'ConditionalCheckFailed')
        // An image is only a guess: the instance as it is now decides.
        return prepared.fromImage ? endTry(items, end, now) : false;
      const broken = counters.find((_, i) => outcome.reasons[i + 1]?.code === 'ConditionalCheckFailed');
      throw doubleRelease(broken?.counter, ti);
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`ending the try of ${tiKeyString(ti)}: ${outcome.why}`);
    await backoff(attempt);
  }
}

function doubleRelease(counter: CounterKey | undefined, ti: TaskInstance): Error {
  return new Error(
    `counter ${counter ? counterKeyString(counter) : '?'} would go below zero ending ` +
      `${tiKeyString(ti)} (or it was written by another version): a slot was released twice`,
  );
}

/**
 * The instances' items (strongly consistent, by one range query per run: ti-reads.ts; a read by key
 * costs a whole unit even for a key with no item, as a first write's instances have none) and the
 * DAG counters (by key), by `pk/sk`.
 */
async function readForUpdate(items: Items, tis: Key[], counters: Key[]): Promise<Map<string, Item>> {
  const [read, dagCounters] = await Promise.all([
    itemsByRun(items, tis),
    counters.length > 0 ? items.getMany(counters) : [],
  ]);
  for (const item of dagCounters) read.set(`${item.pk?.S}/${item.sk?.S}`, item);
  return read;
}

/** Whether a change leaves its instance scheduled (it expects the state it read). */
const leavesScheduled = (change: TiChange) => (change.set.state ?? change.expect.state) === 'scheduled';

/**
 * Each change under its own condition; a change may not end a try that holds slots (that is endTry).
 * An instance that becomes (or stays) scheduled while its DAG's counter is full is written parked
 * (parking.ts, "park on write"): the DAG counters are read in the same batch read as the instances.
 */
async function updateTis(
  items: Items,
  changes: TiChange[],
  now: number,
): Promise<{ applied: TiKey[]; lost: TiKey[] }> {
  const ids = new Set(changes.map((c) => tiKeyString(c.key)));
  if (ids.size < changes.length) {
    // One instance changed twice: in order, each change reading what the previous one wrote.
    const applied: TiKey[] = [];
    const lost: TiKey[] = [];
    for (const change of changes) {
      const out = await updateTis(items, [change], now);
      applied.push(...out.applied);
      lost.push(...out.lost);
    }
    return { applied, lost };
  }
  const dagKeys = [...new Set(changes.filter(leavesScheduled).map((c) => c.key.dagId))].map((dagId) =>
    keys.counter(dagCounter(dagId)),
  );
  const read = await readForUpdate(
    items,
    changes.map((c) => keys.ti(c.key)),
    dagKeys,
  );
  // Keys without an item may still be pending in their run's blocks (pending.ts): first written now, `if absent`.
  const missing = changes.filter((c) => {
    const key = keys.ti(c.key);
    return !read.has(`${key.pk}/${key.sk}`);
  });
  // Changes that only schedule may read a listed instance as none (it is then written scheduled `if
  // absent`, harmlessly); any other reads its run's lists again (pending.ts).
  const pending =
    missing.length > 0
      ? await pendingOf(
          items,
          missing.map((c) => c.key),
          { fresh: missing.some((c) => c.set.state !== 'scheduled') },
        )
      : new Map();
  const fullDag = (dagId: string) => {
    const key = keys.counter(dagCounter(dagId));
    const item = read.get(`${key.pk}/${key.sk}`);
    return item !== undefined && isFull(item);
  };
  const writes = changes.map((change) => {
    const key = keys.ti(change.key);
    const item = read.get(`${key.pk}/${key.sk}`);
    const ti = item ? tiOf(item) : pending.get(`${key.pk}/${key.sk}`);
    if (!ti) return null;
    if (ti.state !== change.expect.state || ti.tryNumber !== change.expect.tryNumber) return null;
    const next = { ...ti, ...change.set };
    if (next.state !== ti.state) assertTransition(ti.state, next.state, tiKeyString(ti));
    if (ti.holds.length > 0 && !holdsSlot(next.state)) {
      throw new Error(`updateTis cannot end the try of ${tiKeyString(ti)}, which holds slots: use endTry`);
    }
    // The shards a holding instance's claim recorded stay with it until its try ends; its tries always.
    const written = tiItem(next);
    if (item?.holdParts && holdsSlot(next.state)) written.holdParts = item.holdParts;
    if (item?.tries) written.tries = item.tries;
    const parkOn = next.state === 'scheduled' && fullDag(next.dagId) ? dagCounter(next.dagId) : null;
    // Only an instance still in its block can go into a list (one a list names is scheduled already).
    const listable = !item && ti.state === 'none' && next.state === 'scheduled';
    return { change, next, written, parkOn, pool: next.pool, first: !item, listable };
  });
  const groups = new Map<string, { counter: CounterKey; pool: string }>();
  for (const w of writes)
    if (w?.parkOn) groups.set(parkPartition(w.pool, w.parkOn), { counter: w.parkOn, pool: w.pool });
  const outcomes = await parkOnWrite(items, [...groups.values()], now, async (flagged) => {
    const lists = new Map<string, NonNullable<(typeof writes)[number]>[]>();
    for (const w of writes) {
      if (!w) continue;
      const lot = w.parkOn && parkPartition(w.pool, w.parkOn);
      if (lot && flagged.has(lot)) w.written.claimPk = S(lot);
      else if (w.listable) {
        const id = `${keys.ti(w.next).pk}\u0000${w.pool}`;
        const group = lists.get(id);
        if (group) group.push(w);
        else lists.set(id, [w]);
      }
    }
    const listed = await listReady(items, [...lists.values()], now);
    return Promise.all(
      writes.map((w) => {
        if (!w) return false;
        if (listed.has(w)) return true;
        const condition = w.first
          ? { condition: itemAbsent }
          : asRead(w.change.expect.state, w.change.expect.tryNumber);
        return items.put(w.written, condition);
      }),
    );
  });
  return {
    applied: changes.filter((_, i) => outcomes[i]).map((c) => c.key),
    lost: changes.filter((_, i) => !outcomes[i]).map((c) => c.key),
  };
}

/**
 * Many first writes of one run left scheduled in one pool are not written: ready lists name them
 * (ready.ts), each with its scheduling change, and they keep no item until they are claimed or
 * changed again. Returns the writes the lists took.
 */
async function listReady<W extends { change: TiChange; next: TaskInstance; written: Item }>(
  items: Items,
  groups: W[][],
  now: number,
): Promise<Set<W>> {
  const listed = groups.filter((g) => g.length >= READY_MIN);
  const lists = listed.flatMap((g) =>
    readyListItems(
      g.map((w) => ({ ti: w.next, set: w.change.set })),
      now,
    ),
  );
  const put = await Promise.all(lists.map((list) => items.put(list, { condition: itemAbsent })));
  if (put.includes(false)) throw new Error('a ready list with the key just drawn exists already');
  for (const g of listed)
    noteListed(
      items,
      keys.ti(g[0]!.next).pk,
      g.map((w) => [keys.ti(w.next).sk, w.change.set]),
    );
  return new Set(listed.flat());
}

/**
 * Advisory, last writer wins: one UpdateItem each, skipping instances that no longer exist. An
 * instance still pending in its run's blocks (pending.ts) is first written with its reason, `if
 * absent`; if another writer put it first, the update is made again on what it wrote.
 */
async function setWaitReasons(items: Items, reasons: { key: TiKey; reason: WaitReason | null }[]) {
  const write = ({ key, reason }: { key: TiKey; reason: WaitReason | null }) =>
    reason === null
      ? items.update(keys.ti(key), 'REMOVE #waitReason', { condition: itemPresent })
      : items.update(keys.ti(key), 'SET #waitReason = :reason', {
          condition: itemPresent,
          values: { ':reason': S(JSON.stringify(reason)) },
        });
  const absent: { key: TiKey; reason: WaitReason | null }[] = [];
  for (let i = 0; i < reasons.length; i += 25) {
    const chunk = reasons.slice(i, i + 25);
    const done = await Promise.all(chunk.map(write));
    chunk.forEach((r, j) => {
      if (!done[j] && r.reason !== null) absent.push(r);
    });
  }
  if (absent.length === 0) return;
  const pending = await pendingOf(
    items,
    absent.map((r) => r.key),
  );
  for (let i = 0; i < absent.length; i += 25) {
    await Promise.all(
      absent.slice(i, i + 25).map(async ({ key, reason }) => {
        const k = keys.ti(key);
        const ti = pending.get(`${k.pk}/${k.sk}`);
        if (!ti) return;
        const put = await items.put(tiItem({ ...ti, waitReason: reason }), { condition: itemAbsent });
        if (!put) await write({ key, reason });
      }),
    );
  }
}

export {
  doubleRelease,
  endTry,
  heartbeat,
  lowerAction,
  lowerCondition,
  lowerUpdate,
  partsHeld,
  prepareEnd,
  StartedTries,
  setWaitReasons,
  startTry,
  updateTis,
};
