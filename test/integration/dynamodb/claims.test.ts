/**
 * Claims on DynamoDB Local: one transaction per batch, losers reported with the reason and the
 * counter, racing clients never over-fill a counter, and conflicts retried or reported — never a
 * partly applied claim.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { MAX_ATTEMPTS } from '#adapters/dynamodb/transact.ts';
import { UnknownItemError } from '#core/errors.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { FaultyDynamoDbClient } from '../../support/faulty-dynamodb.ts';
import { CountingClient, claimOf, GLOBAL, pool, scheduledTis, usedOf } from './helpers.ts';

describe('DynamoDB store claims', () => {
  test('move an instance to queued with its holds, out of the claim index and into no other', async ({
    ddb,
    table,
    store,
  }) => {
    const [a] = await scheduledTis(store, 1);
    const holds = [
      { counter: GLOBAL, amount: 1, limit: 32 },
      { counter: pool('gpu'), amount: 3, limit: 8 },
    ];
    expect(await store.claim([claimOf(a!, holds)])).toEqual({ claimed: [a], lost: [] });
    const item = (
      await ddb.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: 'RUN#etl#manual__r1' }, sk: { S: 'TI#t000#-1' } },
        }),
      )
    ).Item!;
    expect(item.claimPk).toBeUndefined();
    expect(item.claimSk).toBeUndefined();
    expect(item.holdPk).toBeUndefined();
    expect(await store.listHoldingTis()).toMatchObject({ items: [{ taskId: a!.taskId, state: 'queued' }] });
    expect(await store.getTi(a!)).toMatchObject({
      state: 'queued',
      queuedAt: a!.scheduledAt! + 1,
      holds: holds.map(({ counter, amount }) => ({ counter, amount })),
    });
    expect(await store.readCounters([GLOBAL, pool('gpu')])).toEqual([
      { key: GLOBAL, used: 1 },
      { key: pool('gpu'), used: 3 },
    ]);
  });

  test('lose a stale try as ti_changed without raising any counter', async ({ store }) => {
    const [a, b] = await scheduledTis(store, 2);
    const result = await store.claim([{ ...claimOf(a!), tryNumber: 2 }, claimOf(b!)]);
    expect(result).toEqual({ claimed: [b], lost: [{ key: a, reason: 'ti_changed' }] });
    expect(await usedOf(store, GLOBAL)).toBe(1);
    expect((await store.getTi(a!))?.state).toBe('scheduled');
  });

  test('name the counter that was full, and still claim the requests it does not touch', async ({
    store,
  }) => {
    const tis = await scheduledTis(store, 4);
    await store.claim([claimOf(tis[0]!, [{ counter: pool('gpu'), amount: 2, limit: 2 }])]);
    const result = await store.claim([
      claimOf(tis[1]!, [
        { counter: GLOBAL, amount: 1, limit: 32 },
        { counter: pool('gpu'), amount: 1, limit: 2 },
      ]),
      claimOf(tis[2]!, [{ counter: GLOBAL, amount: 1, limit: 32 }]),
    ]);
    expect(result.claimed).toEqual([tis[2]]);
    expect(result.lost).toEqual([{ key: tis[1], reason: 'limit_reached', counter: pool('gpu') }]);
    expect(await store.readCounters([GLOBAL, pool('gpu')])).toEqual([
      { key: GLOBAL, used: 1 },
      { key: pool('gpu'), used: 2 },
    ]);
  });

  test('shed the lowest requests by the room the cancelled counter reported, in one retry', async ({
    table,
  }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const tis = await scheduledTis(store, 10);
    await store.claim([claimOf(tis[0]!, [{ counter: pool('p'), amount: 2, limit: 10 }])]);
    const before = client.count('TransactWriteItems');
    // 8 left in the pool, 9 requests of 1: the lowest (last) one loses.
    const result = await store.claim(
      tis.slice(1).map((t) => claimOf(t, [{ counter: pool('p'), amount: 1, limit: 10 }])),
    );
    expect(result.claimed).toEqual(tis.slice(1, 9));
    expect(result.lost).toEqual([{ key: tis[9], reason: 'limit_reached', counter: pool('p') }]);
    expect(client.count('TransactWriteItems') - before).toBe(2);
    expect(await usedOf(store, pool('p'))).toBe(10);
    client.destroy();
  });

  test('give the last slot to exactly one of two schedulers racing from their own clients', async ({
    table,
    store,
  }) => {
    const [one, two] = [new CountingClient(), new CountingClient()];
    try {
      for (let round = 0; round < 10; round += 1) {
        const [a, b] = await scheduledTis(store, 2, () => ({}), `manual__race${round}`);
        const last = [{ counter: pool(`race${round}`), amount: 1, limit: 1 }];
        const results = await Promise.all([
          new DynamoDbStateStore(one, table).claim([claimOf(a!, last)]),
          new DynamoDbStateStore(two, table).claim([claimOf(b!, last)]),
        ]);
        expect(results.flatMap((r) => r.claimed)).toHaveLength(1);
        expect(results.flatMap((r) => r.lost)).toEqual([
          { key: expect.anything(), reason: 'limit_reached', counter: pool(`race${round}`) },
        ]);
        expect(await usedOf(store, pool(`race${round}`))).toBe(1);
      }
    } finally {
      one.destroy();
      two.destroy();
    }
  });

  test('claim 99 instances and their counter in one transaction, and 100 in two', async ({ table }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const tis = await scheduledTis(store, 199);
    const requests = tis.map((t) => claimOf(t, [{ counter: GLOBAL, amount: 1, limit: 500 }]));
    let before = client.count('TransactWriteItems');
    expect((await store.claim(requests.slice(0, 99))).claimed).toHaveLength(99);
    expect(client.count('TransactWriteItems') - before).toBe(1);
    before = client.count('TransactWriteItems');
    expect((await store.claim(requests.slice(99))).claimed).toHaveLength(100);
    expect(client.count('TransactWriteItems') - before).toBe(2);
    expect(await usedOf(store, GLOBAL)).toBe(199);
    client.destroy();
  });

  test('retry through transaction conflicts, and give up as conflict with nothing applied', async ({
    table,
    store,
  }) => {
    const tis = await scheduledTis(store, 6);
    const faulty = (conflict: number, seed: number) =>
      new FaultyDynamoDbClient(
        {
          endpoint: inject('ddbEndpoint'),
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        },
        { conflict, throttle: 0, timeoutAfterCommit: 0 },
        seed,
      );
    const always = faulty(1, 1);
    const given = await new DynamoDbStateStore(always, table).claim(tis.slice(0, 3).map((t) => claimOf(t)));
    expect(given).toEqual({ claimed: [], lost: tis.slice(0, 3).map((key) => ({ key, reason: 'conflict' })) });
    expect(always.injected.conflict).toBe(MAX_ATTEMPTS);
    expect(await usedOf(store, GLOBAL)).toBe(0);
    for (const t of tis.slice(0, 3)) expect((await store.getTi(t))?.state).toBe('scheduled');
    const often = faulty(0.6, 3);
    const won = await new DynamoDbStateStore(often, table).claim(tis.slice(3).map((t) => claimOf(t)));
    expect(won).toEqual({ claimed: tis.slice(3), lost: [] });
    expect(often.injected.conflict).toBeGreaterThan(0);
    expect(await usedOf(store, GLOBAL)).toBe(3);
    always.destroy();
    often.destroy();
  });

  test('refuse to claim an instance written by another schema version', async ({ ddb, table, store }) => {
    const [a] = await scheduledTis(store, 1);
    const key = { pk: { S: 'RUN#etl#manual__r1' }, sk: { S: 'TI#t000#-1' } };
    const item = (await ddb.send(new GetItemCommand({ TableName: table, Key: key }))).Item!;
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...item, v: { N: '2' } } }));
    await expect(store.claim([claimOf(a!)])).rejects.toThrow(UnknownItemError);
    expect(await usedOf(store, GLOBAL)).toBe(0);
  });
});
