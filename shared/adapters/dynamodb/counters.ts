/**
 * Reading counters, listing them for the reconciler, and the reconciler's conditional writes.
 * Raising and lowering happen only inside claim and try-end transactions (claim.ts, tries.ts).
 *
 * A counter item carries `used`, `lim` (the limit of its last raise), `ver` (moved by every change)
 * and `changedAt` (when it last changed); it lists itself in the KEYS_ONLY `waits` index under `CTRS` on
 * every raise, and the reconciler takes it out of that list once it finds it quiet at zero.
 */
import type { CounterKey } from '#core/model.ts';
import type { CounterState } from '#ports';
import { both, counterUnchanged, itemAbsent } from './conditions.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, N, num, S } from './marshal.ts';
import { maySpread } from './shards.ts';

/** A counter item (one shard) as the reconciler reads it. */
export interface CounterRead {
  key: CounterKey;
  /** 0 for a counter kept as one item and for the first shard of a sharded one. */
  shard: number;
  used: number;
  /** Moved by every raise, lower and repair; absent on an item never changed since `ver` existed. */
  ver: number;
  changedAt: number;
}

/** The items a counter may have under the `counterShards` setting (shards.ts). */
function shardKeys(counter: CounterKey, shards: number) {
  const n = maySpread(counter, shards) ? shards : 1;
  return Array.from({ length: n }, (_, i) => keys.counterShard(counter, i));
}

/** Current values, a sharded counter's summed (absent items read as 0), one strongly consistent batch read. */
async function readCounters(items: Items, counters: CounterKey[], shards = 1): Promise<CounterState[]> {
  const used = new Map<string, number>();
  for (const item of await items.getMany(counters.flatMap((c) => shardKeys(c, shards)))) {
    checkItem(item, 'counter');
    used.set(item.pk!.S!, num(item.used) ?? 0);
  }
  return counters.map((key) => ({
    key,
    used: shardKeys(key, shards).reduce((sum, k) => sum + (used.get(k.pk) ?? 0), 0),
  }));
}

function counterReadOf(item: Item): CounterRead {
  checkItem(item, 'counter');
  return {
    key: JSON.parse(item.counterKey!.S!) as CounterKey,
    shard: num(item.shard) ?? 0,
    used: num(item.used) ?? 0,
    ver: num(item.ver) ?? 0,
    changedAt: num(item.changedAt) ?? 0,
  };
}

/**
 * Every listed counter item (each lists itself in the KEYS_ONLY `waits` index under `CTRS` when
 * raised), read by key, strongly consistent: an item the index still lists after it was delisted
 * is read all the same (it is a counter, and the reconciler judges it like any other).
 */
async function readCounterItems(items: Items): Promise<CounterRead[]> {
  const listed = await items.queryAll(
    { IndexName: 'waits', KeyConditionExpression: 'waitPk = :counters' },
    { ':counters': S('CTRS') },
  );
  const read = await items.getMany(listed.map((i) => ({ pk: i.pk!.S!, sk: i.sk!.S! })));
  return read.map(counterReadOf);
}

/** Every listed counter, the shards of a sharded one summed. */
async function listCounters(items: Items): Promise<CounterState[]> {
  const sums = new Map<string, CounterState>();
  for (const { key, used } of await readCounterItems(items)) {
    const id = JSON.stringify(key);
    const entry = sums.get(id) ?? { key, used: 0 };
    entry.used += used;
    sums.set(id, entry);
  }
  return [...sums.values()];
}

/** Counter items read again by key, strongly consistent (the index may lag the items), by pk. */
async function rereadCounters(items: Items, pks: string[]): Promise<Map<string, CounterRead>> {
  const read = await items.getMany(pks.map((pk) => ({ pk, sk: 'CTR' })));
  return new Map(read.map((item) => [item.pk!.S!, counterReadOf(item)]));
}

/**
 * Sets a counter to what its holders add up to, only if it has not changed since the reconciler
 * read it at version `seenVer` (null: only if it still does not exist).
 */
function correctCounter(
  items: Items,
  counter: CounterKey,
  seenVer: number | null,
  held: number,
  now: number,
  shard = 0,
): Promise<boolean> {
  const key = keys.counterShard(counter, shard);
  if (seenVer === null) {
    return items.update(
      key,
      'SET #type = :counterType, #v = :v, #waitPk = :counters, #waitSk = :counterId, ' +
        '#counterKey = :counterKey, #used = :held, #ver = :one, #changedAt = :now, #shard = :shard',
      {
        upsert: true,
        condition: itemAbsent,
        values: {
          ':counterType': S('counter'),
          ':v': N(ITEM_VERSION),
          ':counters': S('CTRS'),
          ':counterId': S(key.pk.slice('CTR#'.length)),
          ':shard': N(shard),
          ':counterKey': S(JSON.stringify(counter)),
          ':held': N(held),
          ':one': N(1),
          ':now': N(now),
        },
      },
    );
  }
  return items.update(key, 'SET #used = :held, #changedAt = :now ADD #ver :one', {
    condition: counterUnchanged,
    values: { ':held': N(held), ':seenVer': N(seenVer), ':now': N(now), ':one': N(1) },
  });
}

/** Takes a counter found quiet at zero out of the `CTRS` list, if it has not changed since; a raise lists it again. */
function delistIdleCounter(items: Items, counter: CounterKey, seenVer: number, shard = 0): Promise<boolean> {
  return items.update(keys.counterShard(counter, shard), 'REMOVE #waitPk, #waitSk', {
    condition: both(counterUnchanged, '#used = :zero'),
    values: { ':seenVer': N(seenVer), ':zero': N(0) },
  });
}

export { correctCounter, delistIdleCounter, listCounters, readCounterItems, readCounters, rereadCounters };
