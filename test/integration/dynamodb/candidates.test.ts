/**
 * Claim candidates on DynamoDB Local: claim order across pages (negative priorities included), and
 * parking — instances of a DAG at its limit are read once, then left out of the pool's partition
 * until a try end lowers the DAG's counter (or the sweep finds it has room), so a backlog behind a
 * saturated DAG is never read again while it waits.
 */
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { MAX_UNPARK, SETTLE_MS } from '#adapters/dynamodb/parking.ts';
import { compareClaimOrder } from '#core/claim-order.ts';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { CountingClient, claimOf, scheduledTis } from './helpers.ts';

const name = (t: TaskInstance) => `${t.dagId}/${t.taskId}`;
const dagCounter = (dagId: string): CounterKey => ({ kind: 'dag', dagId });

async function allCandidates(store: DynamoDbStateStore, limit: number): Promise<TaskInstance[]> {
  const out: TaskInstance[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listClaimCandidates({ pool: 'default_pool', limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

/** `big` (30 instances, priority 10) saturated at 2 active, and `small` (3 instances, priority 1) behind it. */
async function saturatedBacklog(store: DynamoDbStateStore) {
  const big = await scheduledTis(store, 30, () => ({ priorityWeight: 10 }), 'manual__b', 'big');
  const small = await scheduledTis(store, 3, () => ({ priorityWeight: 1 }), 'manual__s', 'small');
  const limit = [{ counter: dagCounter('big'), amount: 1, limit: 2 }];
  const result = await store.claim(big.slice(0, 2).map((t) => claimOf(t, limit)));
  expect(result.claimed).toHaveLength(2);
  return { big, small };
}

describe('DynamoDB store claim candidates', () => {
  test('come in claim order over pages, negative priorities last', async ({ store }) => {
    const tis = await scheduledTis(store, 40, (i) => ({
      priorityWeight: [5, -3, 0, -2_000_000_000, 2_000_000_000][i % 5]!,
      logicalDate: Date.UTC(1969, 11, 31) + (i % 3) * 86_400_000,
    }));
    const seen = await allCandidates(store, 7);
    expect(seen.map(name)).toEqual([...tis].sort(compareClaimOrder).map(name));
    expect(seen.at(-1)?.priorityWeight).toBe(-2_000_000_000);
  });

  test('park the instances of a DAG at its limit, so later listings read past nothing', async ({
    ddb,
    table,
  }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const { small } = await saturatedBacklog(store);
    const exclude = { dagIds: ['big'] };
    const first = await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude });
    expect(first.items.map(name)).toEqual(small.map(name));
    // The pool's partition now holds only what can be claimed.
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(3);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(28);
    const [queries, reads, updates] = [
      client.count('Query'),
      client.count('BatchGetItem'),
      client.count('UpdateItem'),
    ];
    const again = await store.listClaimCandidates({ pool: 'default_pool', limit: 10, exclude });
    expect(again.items.map(name)).toEqual(small.map(name));
    expect(again.next).toBeNull();
    // One page of the pool, nothing else: no parking groups are polled, nothing moves.
    expect(client.count('Query') - queries).toBe(1);
    expect(client.count('BatchGetItem') - reads).toBe(0);
    expect(client.count('UpdateItem') - updates).toBe(0);
    client.destroy();
  });

  test('let parked work back, best first, when a try end lowers the counter it waits on', async ({
    store,
  }) => {
    const { big, small } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    expect((await store.listClaimCandidates({ pool: 'default_pool', limit: 10 })).items.map(name)).toEqual(
      small.map(name),
    );
    await store.endTry({ key: big[0]!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    await store.settled();
    const after = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(after.items.map(name)).toEqual([name(big[2]!), ...small.map(name)]);
  });

  test('still claim a parked instance directly', async ({ store }) => {
    const { big } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    const result = await store.claim([claimOf(big[5]!, [])]);
    expect(result.claimed).toEqual([big[5]]);
    expect((await store.getTi(big[5]!))?.state).toBe('queued');
  });

  test('park the blocked work a pass read before it knew, so no listing reads it again', async ({
    ddb,
    table,
    store,
  }) => {
    const { big, small } = await saturatedBacklog(store);
    // A first listing knows no exclusions yet: it reads the saturated DAG's work as candidates.
    const first = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(first.items.map(name)).toEqual(big.slice(2, 12).map(name));
    await store.setAsideBlocked('default_pool', [...first.items, ...small.slice(0, 1)], { dagIds: ['big'] });
    // Only the excluded DAG's instances left the pool's partition; `small` was not excluded.
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(10);
    const next = await allCandidates(store, 100);
    expect(next.map(name)).toEqual([...big.slice(12), ...small].map(name));
  });

  test('let back after a try end no more parked work than the end released', async ({
    ddb,
    table,
    store,
  }) => {
    const { big } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(28);
    // Two ends in a row: each sees room for its own release only, not the one the other gave back.
    for (const ti of big.slice(0, 2)) {
      await store.endTry({ key: ti, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
      await store.settled();
    }
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(2 + 3);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(26);
  });

  test('write work that becomes scheduled while its DAG is full straight into parking', async ({
    ddb,
    table,
  }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const { big } = await saturatedBacklog(store);
    // A new run of the saturated DAG: its instances become scheduled through updateTis.
    const later = await scheduledTis(store, 4, () => ({ state: 'none', tryNumber: 0 }), 'manual__b2', 'big');
    const reads = client.count('BatchGetItem');
    const { applied } = await store.updateTis(
      later.map((t) => ({
        key: t,
        expect: { state: 'none', tryNumber: 0 },
        set: { state: 'scheduled', tryNumber: 1 },
      })),
    );
    expect(applied).toHaveLength(4);
    // The DAG's counter came in the same batch read as the instances; one more read after the puts.
    expect(client.count('BatchGetItem') - reads).toBe(2);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(4);
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(28 + 3);
    // A try end of the DAG lets one parked instance back (as much as it released).
    await store.endTry({ key: big[0]!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    await store.settled();
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(3);
    expect((await store.getTi(later[0]!))?.state).toBe('scheduled');
    client.destroy();
  });

  test('write scheduled work into its pool while its DAG has room, or its counter is unknown', async ({
    ddb,
    table,
    store,
  }) => {
    const fresh = await scheduledTis(store, 3, () => ({ state: 'none', tryNumber: 0 }), 'manual__f', 'fresh');
    await store.updateTis(
      fresh.map((t) => ({
        key: t,
        expect: { state: 'none', tryNumber: 0 },
        set: { state: 'scheduled', tryNumber: 1 },
      })),
    );
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(3);
    const limit = [{ counter: dagCounter('fresh'), amount: 1, limit: 2 }];
    expect((await store.claim([claimOf({ ...fresh[0]!, tryNumber: 1 }, limit)])).claimed).toHaveLength(1);
    const more = await scheduledTis(store, 2, () => ({ state: 'none', tryNumber: 0 }), 'manual__f2', 'fresh');
    await store.updateTis(
      more.map((t) => ({
        key: t,
        expect: { state: 'none', tryNumber: 0 },
        set: { state: 'scheduled', tryNumber: 1 },
      })),
    );
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(2 + 2);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/fresh')).toBe(0);
  });

  test('let work parked on write back at once when a try ended while it was being written', async ({
    ddb,
    table,
  }) => {
    const inner = new CountingClient();
    const store = new DynamoDbStateStore(inner, table);
    const { big } = await saturatedBacklog(store);
    const later = await scheduledTis(store, 3, () => ({ state: 'none', tryNumber: 0 }), 'manual__b2', 'big');
    // A try of the DAG ends between the parker's flag and its instances' puts: the end sees the flag
    // but no parked work yet; the parker's read after its puts sees the room and lets one back.
    const ender = new DynamoDbStateStore(ddb, table);
    const send = inner.send.bind(inner);
    let ended = false;
    // biome-ignore lint/suspicious/noExplicitAny: wraps every overload of send.
    inner.send = (async (command: any, ...rest: any[]) => {
      const out = await send(command, ...rest);
      if (
        !ended &&
        command.constructor.name === 'UpdateItemCommand' &&
        command.input.Key.pk.S === 'CTR#dag/big'
      ) {
        ended = true;
        await ender.endTry({
          key: big[0]!,
          expect: { state: 'queued', tryNumber: 1 },
          set: { state: 'failed' },
        });
        await ender.settled();
      }
      return out;
    }) as typeof inner.send;
    await store.updateTis(
      later.map((t) => ({
        key: t,
        expect: { state: 'none', tryNumber: 0 },
        set: { state: 'scheduled', tryNumber: 1 },
      })),
    );
    expect(ended).toBe(true);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(2);
    inner.destroy();
  });

  test('filter, without parking, excluded work whose counter is not full', async ({ store }) => {
    const paused = await scheduledTis(store, 4, () => ({ priorityWeight: 9 }), 'manual__p', 'paused');
    const other = await scheduledTis(store, 2, () => ({}), 'manual__o', 'other');
    const page = await store.listClaimCandidates({
      pool: 'default_pool',
      limit: 5,
      exclude: { dagIds: ['paused'] },
    });
    expect(page.items.map(name)).toEqual(other.map(name));
    const all = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(all.items.map(name)).toEqual([...paused, ...other].map(name));
  });

  test('at the sweep, let back work parked on a counter that has room without a try end', async ({
    ddb,
    table,
  }) => {
    const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
    const { big } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    // The DAG's limit was raised (a new version): the counter has room, but no try ended to notice.
    await store.claim([claimOf(big[2]!, [{ counter: dagCounter('big'), amount: 1, limit: 5 }])]);
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(3);
    await store.reconcileCounters({ repair: false });
    expect(await listed(ddb, table, 'POOL#default_pool')).toBe(5);
    expect(await listed(ddb, table, 'PARKED#default_pool#dag/big')).toBe(25);
  });

  test('clear a parking flag once its work is back and it settled', async ({ ddb, table }) => {
    let now = 1_000_000;
    const store = new DynamoDbStateStore(ddb, table, { now: () => now });
    const { big } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    expect(await listed(ddb, table, 'PARKING')).toBe(1);
    // Every parked instance claimed directly (as a scheduler holding an older page would), then ended.
    const rest = big.slice(2);
    await store.claim(rest.map((t) => claimOf(t, [])));
    await store.endTry({ key: big[0]!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    await store.settled();
    expect(await listed(ddb, table, 'PARKING')).toBe(1);
    now += SETTLE_MS + 1;
    await store.endTry({ key: big[1]!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    await store.settled();
    expect(await listed(ddb, table, 'PARKING')).toBe(0);
    expect(MAX_UNPARK).toBeGreaterThan(2);
  });
});

/** Entries of a `claim` partition, or of `holding`'s PARKING list (counters with parked work). */
async function listed(ddb: DynamoDBClient, table: string, partition: string): Promise<number> {
  const [index, key] = partition === 'PARKING' ? ['holding', 'holdPk'] : ['claim', 'claimPk'];
  const out = await ddb.send(
    new QueryCommand({
      TableName: table,
      IndexName: index,
      KeyConditionExpression: `${key} = :p`,
      ExpressionAttributeValues: { ':p': { S: partition } },
      Select: 'COUNT',
    }),
  );
  return out.Count ?? 0;
}
