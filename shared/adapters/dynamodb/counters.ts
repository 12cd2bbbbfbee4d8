/**
 * Reading counters, listing them for the reconciler, and the reconciler's conditional writes.
 * Raising and lowering happen only inside claim and try-end transactions (claim.ts, tries.ts).
 *
 * A counter item carries `used`, `lim` (the limit of its last raise), `ver` (moved by every change)
 * and `changedAt` (when it last changed); it lists itself in the `active` index under `CTRS` on
 * every raise, and the reconciler takes it out of that list once it finds it quiet at zero.
 */
import type { CounterKey } from '#core/model.ts';
import type { CounterState } from '#ports';
import { both, counterUnchanged, itemAbsent } from './conditions.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, ITEM_VERSION, type Item, N, num, S } from './marshal.ts';

/** A counter item as the reconciler reads it. */
export interface CounterRead {
  key: CounterKey;
  used: number;
  /** Moved by every raise, lower and repair; absent on an item never changed since `ver` existed. */
  ver: number;
  changedAt: number;
}

/** Current values (absent counters read as 0), one strongly consistent batch read. */
async function readCounters(items: Items, counters: CounterKey[]): Promise<CounterState[]> {
  const used = new Map<string, number>();
  for (const item of await items.getMany(counters.map((c) => keys.counter(c)))) {
    checkItem(item, 'counter');
    used.set(item.pk!.S!, num(item.used) ?? 0);
  }
  return counters.map((key) => ({ key, used: used.get(keys.counter(key).pk) ?? 0 }));
}

function counterReadOf(item: Item): CounterRead {
  checkItem(item, 'counter');
  return {
    key: JSON.parse(item.counterKey!.S!) as CounterKey,
    used: num(item.used) ?? 0,
    ver: num(item.ver) ?? 0,
    changedAt: num(item.changedAt) ?? 0,
  };
}

/** Every listed counter item (each lists itself in the `active` index under `CTRS` when raised). */
async function readCounterItems(items: Items): Promise<CounterRead[]> {
  const all = await items.queryAll(
    { IndexName: 'active', KeyConditionExpression: 'activePk = :counters' },
    { ':counters': S('CTRS') },
  );
  return all.map(counterReadOf);
}

async function listCounters(items: Items): Promise<CounterState[]> {
  return (await readCounterItems(items)).map(({ key, used }) => ({ key, used }));
}

/** The same counters read again, strongly consistent (the index may lag the items). */
async function rereadCounters(items: Items, counters: CounterKey[]): Promise<Map<string, CounterRead>> {
  const read = await items.getMany(counters.map((c) => keys.counter(c)));
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
): Promise<boolean> {
  if (seenVer === null) {
    return items.update(
      keys.counter(counter),
      'SET #type = :counterType, #v = :v, #activePk = :counters, #activeSk = :counterId, ' +
        '#counterKey = :counterKey, #used = :held, #ver = :one, #changedAt = :now',
      {
        upsert: true,
        condition: itemAbsent,
        values: {
          ':counterType': S('counter'),
          ':v': N(ITEM_VERSION),
          ':counters': S('CTRS'),
          ':counterId': S(keys.counter(counter).pk.slice('CTR#'.length)),
          ':counterKey': S(JSON.stringify(counter)),
          ':held': N(held),
          ':one': N(1),
          ':now': N(now),
        },
      },
    );
  }
  return items.update(keys.counter(counter), 'SET #used = :held, #changedAt = :now ADD #ver :one', {
    condition: counterUnchanged,
    values: { ':held': N(held), ':seenVer': N(seenVer), ':now': N(now), ':one': N(1) },
  });
}

/** Takes a counter found quiet at zero out of the `CTRS` list, if it has not changed since; a raise lists it again. */
function delistIdleCounter(items: Items, counter: CounterKey, seenVer: number): Promise<boolean> {
  return items.update(keys.counter(counter), 'REMOVE #activePk, #activeSk', {
    condition: both(counterUnchanged, '#used = :zero'),
    values: { ':seenVer': N(seenVer), ':zero': N(0) },
  });
}

export { correctCounter, delistIdleCounter, listCounters, readCounterItems, readCounters, rereadCounters };
