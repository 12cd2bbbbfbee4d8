/**
 * Group commit of try ends on DynamoDB Local (try-ends.ts): ends that coincide share one
 * transaction with one lowering per counter, and each caller still gets what its end alone gives.
 * The ends are made to coincide deterministically: the client holds the replies of the ends'
 * reads until all of them are in, then lets them go at once.
 */
import { type DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { TryEnd } from '#ports';
import { ddbTest as test } from '../../support/ddb.ts';
import { CountingClient, claimOf, GLOBAL, pool, scheduledTis, usedOf } from './helpers.ts';

const holds = [
  { counter: GLOBAL, amount: 1, limit: 32 },
  { counter: pool('gpu'), amount: 2, limit: 32 },
];

const failed = (t: TaskInstance): TryEnd => ({
  key: t,
  expect: { state: 'queued', tryNumber: 1 },
  set: { state: 'failed', endedAt: 20 },
});

/** Counts requests, and can hold the replies of the next `n` GetItems until all `n` are in. */
class GatedClient extends CountingClient {
  #want = 0;
  #held: (() => void)[] = [];
  #allIn: () => void = () => {};
  #open = false;

  /** Resolves once `n` GetItem replies are held; `release` lets them go together. */
  hold(n: number): Promise<void> {
    this.#want = n;
    this.#open = false;
    return new Promise((resolve) => {
      this.#allIn = resolve;
    });
  }

  release(): void {
    this.#open = true;
    for (const go of this.#held.splice(0)) go();
  }

  // biome-ignore lint/suspicious/noExplicitAny: as CountingClient.send.
  override async send(command: any, ...rest: any[]): Promise<any> {
    const out = await super.send(command, ...rest);
    if (this.#want > 0 && !this.#open && command.constructor.name === 'GetItemCommand') {
      await new Promise<void>((go) => {
        this.#held.push(go);
        if (this.#held.length === this.#want) this.#allIn();
      });
    }
    return out;
  }
}

/** Ends all at once through `store`: their reads are held until every one is in, then released together. */
async function together(
  client: GatedClient,
  store: DynamoDbStateStore,
  ends: TryEnd[],
  between = async () => {},
) {
  const allIn = client.hold(ends.length);
  const results = Promise.allSettled(ends.map((e) => store.endTry(e)));
  await allIn;
  await between();
  client.release();
  return results;
}

async function claimed(store: DynamoDbStateStore, n: number, h = holds) {
  const tis = await scheduledTis(store, n);
  expect((await store.claim(tis.map((t) => claimOf(t, h)))).claimed).toHaveLength(n);
  return tis;
}

describe('DynamoDB store group commit of try ends', () => {
  test('commit ends that coincide in one transaction, lowering each counter once by their sum', async ({
    table,
    store,
  }) => {
    const tis = await claimed(store, 8);
    const client = new GatedClient();
    const grouped = new DynamoDbStateStore(client, table);
    const results = await together(client, grouped, tis.slice(0, 5).map(failed));
    expect(results.map((r) => r.status === 'fulfilled' && r.value)).toEqual([true, true, true, true, true]);
    expect(client.count('TransactWriteItems')).toBe(1);
    expect(await usedOf(store, GLOBAL)).toBe(3);
    expect(await usedOf(store, pool('gpu'))).toBe(6);
    for (const t of tis.slice(0, 5))
      expect(await store.getTi(t)).toMatchObject({ state: 'failed', holds: [] });
    expect((await store.getTi(tis[5]!))?.state).toBe('queued');
    client.destroy();
  });

  test('commit each end alone when grouping is off', async ({ table, store }) => {
    const tis = await claimed(store, 4);
    const client = new GatedClient();
    const alone = new DynamoDbStateStore(client, table, { tryEndGroup: 1 });
    const results = await together(client, alone, tis.map(failed));
    expect(results.every((r) => r.status === 'fulfilled' && r.value)).toBe(true);
    expect(client.count('TransactWriteItems')).toBe(4);
    expect(await usedOf(store, GLOBAL)).toBe(0);
    client.destroy();
  });

  test('keep at most tryEndGroup ends in one transaction', async ({ table, store }) => {
    const tis = await claimed(store, 7);
    const client = new GatedClient();
    const grouped = new DynamoDbStateStore(client, table, { tryEndGroup: 3 });
    const results = await together(client, grouped, tis.map(failed));
    expect(results.every((r) => r.status === 'fulfilled' && r.value)).toBe(true);
    expect(client.count('TransactWriteItems')).toBe(3);
    expect(await usedOf(store, GLOBAL)).toBe(0);
    expect(await usedOf(store, pool('gpu'))).toBe(0);
    client.destroy();
  });

  test('drop a lost end and a duplicate from the group, and commit the others', async ({ table, store }) => {
    const tis = await claimed(store, 5);
    const client = new GatedClient();
    const grouped = new DynamoDbStateStore(client, table);
    // The same end twice (a duplicate delivery) and an end another worker makes first (a lost race).
    const ends = [...tis.map(failed), failed(tis[1]!)];
    const results = await together(client, grouped, ends, async () => {
      expect(await store.endTry(failed(tis[0]!))).toBe(true);
    });
    const ended = results.map((r) => r.status === 'fulfilled' && r.value);
    expect(ended.slice(0, 5)).toEqual([false, ended[1], true, true, true]);
    // Whichever of the two deliveries of the same end was read first ended it; the other is a no-op.
    expect([ended[1], ended[5]].sort()).toEqual([false, true]);
    // The group, again without the lost end, then the duplicate alone (one end per instance per transaction).
    expect(client.count('TransactWriteItems')).toBe(3);
    expect(await usedOf(store, GLOBAL)).toBe(0);
    expect(await usedOf(store, pool('gpu'))).toBe(0);
    client.destroy();
  });

  test('give the double release alone its error, and commit the others of its group', async ({
    ddb,
    table,
    store,
  }) => {
    const tis = await claimed(store, 3);
    // Someone released two gpu slots behind the store's back: one of the three ends must fail.
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'CTR#pool/gpu' }, sk: { S: 'CTR' } },
        UpdateExpression: 'SET #used = :four',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':four': { N: '4' } },
      }),
    );
    const client = new GatedClient();
    const grouped = new DynamoDbStateStore(client, table);
    const results = await together(client, grouped, tis.map(failed));
    expect(results.filter((r) => r.status === 'fulfilled' && r.value)).toHaveLength(2);
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/counter pool\/gpu would go below zero/);
    expect(await usedOf(store, pool('gpu'))).toBe(0);
    expect(await usedOf(store, GLOBAL)).toBe(1);
    const states = await Promise.all(tis.map(async (t) => (await store.getTi(t))?.state));
    expect(states.filter((s) => s === 'failed')).toHaveLength(2);
    expect(states.filter((s) => s === 'queued')).toHaveLength(1);
    client.destroy();
  });

  test('give every member the error of a request that fails, and change nothing', async ({
    table,
    store,
  }) => {
    const tis = await claimed(store, 3);
    class Failing extends GatedClient {
      // biome-ignore lint/suspicious/noExplicitAny: as CountingClient.send.
      override send(command: any, ...rest: any[]): Promise<any> {
        if (command.constructor.name === 'TransactWriteItemsCommand') {
          return Promise.reject(Object.assign(new Error('broken'), { name: 'ValidationException' }));
        }
        return super.send(command, ...rest);
      }
    }
    const client = new Failing();
    const grouped = new DynamoDbStateStore(client, table);
    const results = await together(client, grouped, tis.map(failed));
    expect(results.map((r) => r.status === 'rejected' && String(r.reason))).toEqual([
      'ValidationException: broken',
      'ValidationException: broken',
      'ValidationException: broken',
    ]);
    expect(await usedOf(store, GLOBAL)).toBe(3);
    for (const t of tis) expect((await store.getTi(t))?.state).toBe('queued');
    client.destroy();
  });

  test('let back the parked work the whole group released', async ({ ddb, table, store }) => {
    const big = await scheduledTis(store, 30, () => ({ priorityWeight: 10 }), 'manual__b', 'big');
    const limit = [{ counter: dagCounter('big'), amount: 1, limit: 3 }];
    expect((await store.claim(big.slice(0, 3).map((t) => claimOf(t, limit)))).claimed).toHaveLength(3);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(27);
    const client = new GatedClient();
    const grouped = new DynamoDbStateStore(client, table);
    const results = await together(client, grouped, big.slice(0, 3).map(failed));
    expect(results.every((r) => r.status === 'fulfilled' && r.value)).toBe(true);
    expect(client.count('TransactWriteItems')).toBe(1);
    expect(await usedOf(store, dagCounter('big'))).toBe(0);
    // The ends resolve at their commit; what they let back is done once the store settles.
    await grouped.settled();
    // Each released slot lets one back, as three ends one by one would.
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(3);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(24);
    client.destroy();
  });

  test('answer an end at its commit even when letting parked work back fails, and report that', async ({
    table,
    store,
  }) => {
    const [a] = await scheduledTis(store, 1);
    const limit = [{ counter: dagCounter('etl'), amount: 1, limit: 3 }];
    expect((await store.claim([claimOf(a!, limit)])).claimed).toHaveLength(1);
    // The let-back's read of the lowered DAG counter fails; the end's own transaction does not.
    const client = new (class extends CountingClient {
      // biome-ignore lint/suspicious/noExplicitAny: as CountingClient.send.
      override send(command: any, ...rest: any[]): Promise<any> {
        if (command.constructor.name === 'BatchGetItemCommand') return Promise.reject(new Error('throttled'));
        return super.send(command, ...rest);
      }
    })();
    const warnings: string[] = [];
    const grouped = new DynamoDbStateStore(client, table, { logger: { warn: (m) => void warnings.push(m) } });
    expect(await grouped.endTry(failed(a!))).toBe(true);
    await grouped.settled();
    expect(warnings).toEqual(['parked work not let back after a try end (the sweep will)']);
    expect(await store.getTi(a!)).toMatchObject({ state: 'failed', holds: [] });
    expect(await usedOf(store, dagCounter('etl'))).toBe(0);
    client.destroy();
  });
});

const dagCounter = (dagId: string): CounterKey => ({ kind: 'dag', dagId });

async function listed(ddb: DynamoDBClient, table: string, partition: string): Promise<number> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: table,
      IndexName: 'claim',
      KeyConditionExpression: 'claimPk = :p',
      ExpressionAttributeValues: { ':p': { S: partition } },
      Select: 'COUNT',
    }),
  );
  return out.Count ?? 0;
}
