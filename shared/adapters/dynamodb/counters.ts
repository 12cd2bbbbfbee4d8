/**
 * Reading counters, listing them for the reconciler, and the reconciler's conditional correction.
 * Raising and lowering happen only inside claim and try-end transactions (claim.ts, tries.ts).
 */
import type { CounterKey } from '#core/model.ts';
import type { CounterState } from '#ports';
import { counterUnchanged } from './conditions.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, N, num, S } from './marshal.ts';

/** Current values (absent counters read as 0), one strongly consistent batch read. */
async function readCounters(items: Items, counters: CounterKey[]): Promise<CounterState[]> {
  const used = new Map<string, number>();
  for (const item of await items.getMany(counters.map((c) => keys.counter(c)))) {
    checkItem(item, 'counter');
    used.set(item.pk!.S!, num(item.used) ?? 0);
  }
  return counters.map((key) => ({ key, used: used.get(keys.counter(key).pk) ?? 0 }));
}

/** Every counter ever raised (each lists itself in the `active` index under `CTRS`). */
async function listCounters(items: Items): Promise<CounterState[]> {
  const all = await items.queryAll(
    { IndexName: 'active', KeyConditionExpression: 'activePk = :counters' },
    { ':counters': S('CTRS') },
  );
  return all.map((item) => {
    checkItem(item, 'counter');
    return { key: JSON.parse(item.counterKey!.S!) as CounterKey, used: num(item.used) ?? 0 };
  });
}

/** Sets a counter to what its holders add up to, only if it still says what the reconciler read. */
function correctCounter(items: Items, counter: CounterKey, seenUsed: number, held: number): Promise<boolean> {
  return items.update(keys.counter(counter), 'SET #used = :held', {
    condition: counterUnchanged,
    values: { ':held': N(held), ':seenUsed': N(seenUsed) },
  });
}

export { correctCounter, listCounters, readCounters };
