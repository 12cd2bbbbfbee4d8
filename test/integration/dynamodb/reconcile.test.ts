/**
 * The reconciler on DynamoDB Local: counters recounted from the holders' recorded holds, every
 * drift reported, and a repair that only writes a counter still holding the value it read.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { reconcile } from '#adapters/dynamodb/reconcile.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { claimOf, GLOBAL, pool, scheduledTis, usedOf } from './helpers.ts';

describe('DynamoDB reconciler', () => {
  test('finds no drift when every counter matches its holders', async ({ store }) => {
    const tis = await scheduledTis(store, 5);
    await store.claim(tis.map((t) => claimOf(t, [{ counter: pool('p'), amount: 2, limit: 10 }])));
    await store.endTry({
      key: tis[0]!,
      expect: { state: 'queued', tryNumber: 1 },
      set: { state: 'scheduled' },
    });
    expect(await reconcile(store, { repair: true })).toEqual({ drift: [], repaired: [] });
  });

  test('reports every drifted counter, and repairs it conditionally when asked', async ({
    ddb,
    table,
    store,
  }) => {
    const tis = await scheduledTis(store, 3);
    await store.claim(
      tis.map((t) =>
        claimOf(t, [
          { counter: GLOBAL, amount: 1, limit: 32 },
          { counter: pool('p'), amount: 1, limit: 10 },
        ]),
      ),
    );
    // A lost write: the pool counter says 5 while 3 slots are held.
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'CTR#pool/p' }, sk: { S: 'CTR' } },
        UpdateExpression: 'ADD #used :two',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':two': { N: '2' } },
      }),
    );
    const drift = [{ counter: pool('p'), used: 5, held: 3 }];
    expect(await reconcile(store)).toEqual({ drift, repaired: [] });
    expect(await usedOf(store, pool('p'))).toBe(5);
    expect(await reconcile(store, { repair: true })).toEqual({ drift, repaired: drift });
    expect(await store.readCounters([GLOBAL, pool('p')])).toEqual([
      { key: GLOBAL, used: 3 },
      { key: pool('p'), used: 3 },
    ]);
    expect((await reconcile(store)).drift).toEqual([]);
  });

  test('leaves a counter that moved since it was read', async ({ store }) => {
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!)]);
    expect(await store.correctCounter(GLOBAL, 7, 0)).toBe(false);
    expect(await usedOf(store, GLOBAL)).toBe(1);
  });
});
