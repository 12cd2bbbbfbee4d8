/**
 * Instances read by key together on DynamoDB Local (ti-reads.ts `getTis`): each as `getTi` reads
 * it, in the order asked — items, instances still in their run's pending block, keys of no
 * instance, several runs at once — by one range query per run, and by key for what the query does
 * not reach, never missing a change written just before.
 */
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import type { TaskInstance, TiKey } from '#core/model.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { run, T0, ti } from '../../support/factories.ts';
import { CountingClient } from './helpers.ts';

/** `n` instances of a new run in state none (in its pending block). */
async function pendingRun(
  store: DynamoDbStateStore,
  n: number,
  runId = 'manual__r1',
): Promise<TaskInstance[]> {
  const tis = Array.from({ length: n }, (_, i) =>
    ti({ runId, taskId: `t${String(i).padStart(3, '0')}`, state: 'none', tryNumber: 0, scheduledAt: null }),
  );
  await store.createRun(run({ runId }), tis);
  return tis;
}

const scheduleAll = (store: DynamoDbStateStore, tis: TaskInstance[]) =>
  store.updateTis(
    tis.map((t) => ({
      key: t,
      expect: { state: 'none' as const, tryNumber: 0 },
      set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
    })),
  );

describe('DynamoDB store getTis', () => {
  test('reads items, pending instances and absent keys of two runs as getTi does, in the order asked', async ({
    store,
  }) => {
    // Prepare
    const one = await pendingRun(store, 30);
    const two = await pendingRun(store, 5, 'manual__r2');
    await scheduleAll(
      store,
      one.filter((_, i) => i % 3 === 0),
    );
    const keys: TiKey[] = [
      one[27]!,
      two[4]!,
      one[1]!,
      { ...one[0]!, taskId: 'nope' },
      one[0]!,
      two[0]!,
      one[12]!,
      one[29]!,
    ];
    // Act
    const read = await store.getTis(keys);
    // Assess
    expect(read).toEqual(await Promise.all(keys.map((k) => store.getTi(k))));
    expect(read.map((t) => t?.state ?? null)).toEqual([
      'scheduled',
      'none',
      'none',
      null,
      'scheduled',
      'none',
      'scheduled',
      'none',
    ]);
  });

  test('reads neighbours with one query and what the query cannot reach by key', async ({ ddb, table }) => {
    // Prepare
    const store = new DynamoDbStateStore(ddb, table);
    const tis = await pendingRun(store, 100);
    // A few at a time, so each gets an item (many at once would wait in ready lists, itemless).
    for (let i = 0; i < tis.length; i += 5) await scheduleAll(store, tis.slice(i, i + 5));
    const counting = new CountingClient();
    const reader = new DynamoDbStateStore(counting, table);
    // Act: four neighbours, then four spread over the whole run (the range holds 96 others)
    const near = await reader.getTis([tis[10]!, tis[11]!, tis[13]!, tis[12]!]);
    const nearCalls = Object.fromEntries(counting.calls);
    counting.calls.clear();
    const far = await reader.getTis([tis[0]!, tis[33]!, tis[66]!, tis[99]!]);
    // Assess
    expect(near.map((t) => t?.taskId)).toEqual(['t010', 't011', 't013', 't012']);
    expect(nearCalls).toEqual({ Query: 1 });
    expect(far.map((t) => t?.taskId)).toEqual(['t000', 't033', 't066', 't099']);
    expect(far.every((t) => t?.state === 'scheduled')).toBe(true);
    // The query stops after TI_REACH items per wanted one (16 here, short of t033): the rest by key.
    expect(Object.fromEntries(counting.calls)).toEqual({ Query: 1, BatchGetItem: 1 });
    counting.destroy();
  });

  test('updateTis reads the instances it writes by a range query, not a read per key', async ({
    ddb,
    table,
  }) => {
    // Prepare: 40 instances still in their pending block (no items: a read by key would bill each)
    const tis = await pendingRun(new DynamoDbStateStore(ddb, table), 40);
    const counting = new CountingClient();
    const writer = new DynamoDbStateStore(counting, table);
    // Act
    const out = await scheduleAll(writer, tis);
    const again = await scheduleAll(writer, tis.slice(0, 3));
    // Assess: the instances' read is one Query; only the DAG counter is read by key
    expect(out.applied).toHaveLength(40);
    expect(again.lost).toHaveLength(3);
    expect(counting.count('BatchGetItem')).toBe(2);
    expect((await writer.getTis(tis)).every((t) => t?.state === 'scheduled')).toBe(true);
    counting.destroy();
  });

  test('sees a change written just before the read', async ({ store }) => {
    // Prepare
    const tis = await pendingRun(store, 12);
    await scheduleAll(store, tis);
    await store.claim([
      { key: tis[5]!, tryNumber: 1, queuedAt: T0 + 1, holds: [] },
      { key: tis[6]!, tryNumber: 1, queuedAt: T0 + 1, holds: [] },
    ]);
    // Act
    const read = await store.getTis(tis.slice(4, 8));
    // Assess
    expect(read.map((t) => t?.state)).toEqual(['scheduled', 'queued', 'queued', 'scheduled']);
  });
});
