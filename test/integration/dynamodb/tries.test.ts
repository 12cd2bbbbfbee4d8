/**
 * Tries on DynamoDB Local: a try starts once and ends once even when two workers race, its holds
 * are released exactly once, a double release is an error naming the counter, and the sparse
 * indexes list an instance exactly while it is in the state they list.
 */
import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { IllegalTransitionError } from '#core/errors.ts';
import type { TryEnd } from '#ports';
import { ddbTest as test } from '../../support/ddb.ts';
import { CountingClient, claimOf, GLOBAL, pool, scheduledTis, usedOf } from './helpers.ts';

const holds = [
  { counter: GLOBAL, amount: 1, limit: 32 },
  { counter: pool('gpu'), amount: 2, limit: 8 },
];

describe('DynamoDB store tries', () => {
  test('start once when two workers race for the same delivery, with one write and no read', async ({
    table,
    store,
  }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!, holds)]);
    const [one, two] = [new CountingClient(), new CountingClient()];
    const started = await Promise.all([
      new DynamoDbStateStore(one, table).startTry(a!, 1, { now: 10, workerId: 'one' }),
      new DynamoDbStateStore(two, table).startTry(a!, 1, { now: 10, workerId: 'two' }),
    ]);
    expect(started.filter(Boolean)).toHaveLength(1);
    expect((await store.getTi(a!))?.workerId).toBe(started[0] ? 'one' : 'two');
    expect([...one.calls.keys(), ...two.calls.keys()]).toEqual(['UpdateItem', 'UpdateItem']);
    one.destroy();
    two.destroy();
  });

  test('end once when two workers race, releasing the holds exactly once', async ({ table, store }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!, holds)]);
    await store.startTry(a!, 1, { now: 10, workerId: 'w' });
    const end: TryEnd = {
      key: a!,
      expect: { state: 'running', tryNumber: 1 },
      set: { state: 'success', endedAt: 20 },
    };
    const [one, two] = [new CountingClient(), new CountingClient()];
    const ended = await Promise.all([
      new DynamoDbStateStore(one, table).endTry(end),
      new DynamoDbStateStore(two, table).endTry(end),
    ]);
    expect(ended.filter(Boolean)).toHaveLength(1);
    expect(await store.readCounters([GLOBAL, pool('gpu')])).toEqual([
      { key: GLOBAL, used: 0 },
      { key: pool('gpu'), used: 0 },
    ]);
    expect(await store.getTi(a!)).toMatchObject({ state: 'success', holds: [], endedAt: 20 });
    one.destroy();
    two.destroy();
  });

  test('sum holds on one counter when a try releases them', async ({ store }) => {
    const [a] = await scheduledTis(store, 1);
    const twice = [
      { counter: pool('gpu'), amount: 2, limit: 8 },
      { counter: pool('gpu'), amount: 1, limit: 8 },
    ];
    expect((await store.claim([claimOf(a!, twice)])).claimed).toHaveLength(1);
    expect(await usedOf(store, pool('gpu'))).toBe(3);
    expect(
      await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'scheduled' } }),
    ).toBe(true);
    expect(await usedOf(store, pool('gpu'))).toBe(0);
  });

  test('throw, naming the counter, when a release would take a counter below zero, and change nothing', async ({
    ddb,
    table,
    store,
  }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!, holds)]);
    // Someone released the pool slot behind the store's back: a bug the store must not hide.
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'CTR#pool/gpu' }, sk: { S: 'CTR' } },
        UpdateExpression: 'SET #used = :zero',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':zero': { N: '0' } },
      }),
    );
    const end: TryEnd = { key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } };
    await expect(store.endTry(end)).rejects.toThrow(/counter pool\/gpu would go below zero/);
    expect((await store.getTi(a!))?.state).toBe('queued');
    expect(await usedOf(store, GLOBAL)).toBe(1);
  });

  test('refuse an illegal transition and an updateTis that would end a holding try', async ({ store }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!, holds)]);
    await expect(
      store.endTry({
        key: a!,
        expect: { state: 'queued', tryNumber: 1 },
        set: { state: 'up_for_reschedule' },
      }),
    ).rejects.toThrow(IllegalTransitionError);
    await expect(
      store.updateTis([{ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } }]),
    ).rejects.toThrow(/use endTry/);
  });

  test('list an instance in each sparse index exactly while it is in the state the index lists', async ({
    ddb,
    table,
    store,
  }) => {
    const [a] = await scheduledTis(store, 1, () => ({ maxTries: 1 }));
    const listed = async () => {
      const out: string[] = [];
      for (const [index, pk, value] of [
        ['claim', 'claimPk', 'POOL#default_pool'],
        ['holding', 'holdPk', 'HOLD'],
        ['waits', 'waitPk', 'WAIT'],
      ] as const) {
        const page = await ddb.send(
          new QueryCommand({
            TableName: table,
            IndexName: index,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': pk },
            ExpressionAttributeValues: { ':pk': { S: value } },
          }),
        );
        if ((page.Items ?? []).length > 0) out.push(index);
      }
      return out;
    };
    expect(await listed()).toEqual(['claim']);
    await store.claim([claimOf(a!, holds)]);
    // A holder is in no index: the sweep finds it through its run (holders.ts).
    expect(await listed()).toEqual([]);
    await store.startTry(a!, 1, { now: 10, workerId: 'w' });
    expect(await listed()).toEqual([]);
    await store.endTry({
      key: a!,
      expect: { state: 'running', tryNumber: 1 },
      set: { state: 'up_for_retry', nextRetryAt: 100 },
    });
    expect(await listed()).toEqual(['waits']);
    expect((await store.listDueWaits(101, 10)).map((t) => t.taskId)).toEqual(['t000']);
    await store.updateTis([
      { key: a!, expect: { state: 'up_for_retry', tryNumber: 1 }, set: { state: 'scheduled', tryNumber: 2 } },
    ]);
    expect(await listed()).toEqual(['claim']);
    await store.claim([{ ...claimOf(a!, holds), tryNumber: 2 }]);
    await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 2 }, set: { state: 'failed' } });
    expect(await listed()).toEqual([]);
  });

  test('heartbeat only the running try', async ({ store }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!)]);
    expect(await store.heartbeat(a!, 1, 5)).toBe(false);
    await store.startTry(a!, 1, { now: 10, workerId: 'w' });
    expect(await store.heartbeat(a!, 2, 15)).toBe(false);
    expect(await store.heartbeat(a!, 1, 15)).toBe(true);
    expect((await store.getTi(a!))?.heartbeatAt).toBe(15);
  });

  for (const tryEndGroup of [25, 1]) {
    const grouping = tryEndGroup > 1 ? 'grouped' : 'alone';
    const success = (key: TryEnd['key']): TryEnd => ({
      key,
      expect: { state: 'running', tryNumber: 1 },
      set: { state: 'success', endedAt: 30, heartbeatAt: null },
    });

    test(`end a try this store started and heartbeat without reading the instance again (${grouping})`, async ({
      table,
      store,
    }) => {
      const [a] = await scheduledTis(store, 1);
      await store.claim([claimOf(a!, holds)]);
      const client = new CountingClient();
      const worker = new DynamoDbStateStore(client, table, { tryEndGroup });
      expect(await worker.startTry(a!, 1, { now: 10, workerId: 'w' })).not.toBeNull();
      expect(await worker.heartbeat(a!, 1, 20)).toBe(true);
      expect(await worker.endTry(success(a!))).toBe(true);
      expect(client.count('GetItem')).toBe(0);
      expect(await store.getTi(a!)).toMatchObject({
        state: 'success',
        holds: [],
        endedAt: 30,
        workerId: 'w',
      });
      expect(await store.readCounters([GLOBAL, pool('gpu')])).toEqual([
        { key: GLOBAL, used: 0 },
        { key: pool('gpu'), used: 0 },
      ]);
      expect((await store.listTries(a!)).map((t) => [t.tryNumber, t.state, t.workerId])).toEqual([
        [1, 'success', 'w'],
      ]);
      client.destroy();
    });

    test(`end from a fresh read, keeping what another writer changed since the start (${grouping})`, async ({
      table,
      store,
    }) => {
      const [a, b] = await scheduledTis(store, 2);
      await store.claim([claimOf(a!, holds), claimOf(b!, holds)]);
      const client = new CountingClient();
      const worker = new DynamoDbStateStore(client, table, { tryEndGroup });
      expect(await worker.startTry(a!, 1, { now: 10, workerId: 'w' })).not.toBeNull();
      expect(await worker.startTry(b!, 1, { now: 10, workerId: 'w' })).not.toBeNull();
      // Another writer: a container's launch takes the try over; a heartbeat the worker did not write.
      const other = new DynamoDbStateStore(new CountingClient(), table);
      expect(
        await other.updateTis([
          { key: a!, expect: { state: 'running', tryNumber: 1 }, set: { workerId: 'container:x' } },
        ]),
      ).toMatchObject({ applied: [a] });
      expect(await other.heartbeat(b!, 1, 25)).toBe(true);
      const ended = await Promise.all([worker.endTry(success(a!)), worker.endTry(success(b!))]);
      expect(ended).toEqual([true, true]);
      expect(client.count('GetItem')).toBe(2);
      expect((await store.listTries(a!)).map((t) => t.workerId)).toEqual(['container:x']);
      expect(await store.getTi(b!)).toMatchObject({ state: 'success', holds: [] });
      expect(await usedOf(store, pool('gpu'))).toBe(0);
      client.destroy();
    });

    test(`end nothing from an image whose try another writer ended (${grouping})`, async ({
      table,
      store,
    }) => {
      const [a] = await scheduledTis(store, 1);
      await store.claim([claimOf(a!, holds)]);
      const worker = new DynamoDbStateStore(new CountingClient(), table, { tryEndGroup });
      expect(await worker.startTry(a!, 1, { now: 10, workerId: 'w' })).not.toBeNull();
      // The sweep fails the try (its heartbeat timed out) before the worker's end arrives.
      const sweep = new DynamoDbStateStore(new CountingClient(), table);
      expect(
        await sweep.endTry({ key: a!, expect: { state: 'running', tryNumber: 1 }, set: { state: 'failed' } }),
      ).toBe(true);
      expect(await worker.endTry(success(a!))).toBe(false);
      expect(await store.getTi(a!)).toMatchObject({ state: 'failed', holds: [] });
      expect(await usedOf(store, pool('gpu'))).toBe(0);
    });
  }
});
