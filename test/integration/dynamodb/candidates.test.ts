/**
 * Claim candidates on DynamoDB Local: claim order across pages (negative priorities included), and
 * parking — instances of a DAG at its limit are read once, then left out of the pool's partition
 * until the DAG has room again, so a backlog behind a saturated DAG is never scanned.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { MAX_UNPARK, SETTLE_MS } from '#adapters/dynamodb/candidates.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
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
    const pool = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'claim',
        KeyConditionExpression: 'claimPk = :p',
        ExpressionAttributeValues: { ':p': { S: 'POOL#default_pool' } },
        Select: 'COUNT',
      }),
    );
    expect(pool.Count).toBe(3);
    const [queries, updates] = [client.count('Query'), client.count('UpdateItem')];
    const again = await store.listClaimCandidates({ pool: 'default_pool', limit: 10, exclude });
    expect(again.items.map(name)).toEqual(small.map(name));
    expect(again.next).toBeNull();
    // The parking groups and one page of the pool; nothing moved, since `big` is still full.
    expect(client.count('Query') - queries).toBe(2);
    expect(client.count('UpdateItem') - updates).toBe(0);
    client.destroy();
  });

  test('unpark as many as the DAG has room for, best first, once a slot is released', async ({ store }) => {
    const { big, small } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    expect((await store.listClaimCandidates({ pool: 'default_pool', limit: 10 })).items.map(name)).toEqual(
      small.map(name),
    );
    await store.endTry({ key: big[0]!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
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

  test('forget a drained parking group only after it settled', async ({ ddb, table }) => {
    let now = 1_000_000;
    const store = new DynamoDbStateStore(ddb, table, { now: () => now });
    const { big } = await saturatedBacklog(store);
    await store.listClaimCandidates({ pool: 'default_pool', limit: 3, exclude: { dagIds: ['big'] } });
    const groups = async () =>
      (
        await ddb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': { S: 'PARKS#default_pool' } },
          }),
        )
      ).Count;
    expect(await groups()).toBe(1);
    // Both slots freed: room for 2 per listing.
    for (const t of big.slice(0, 2))
      await store.endTry({ key: t, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    expect(MAX_UNPARK).toBeGreaterThan(2);
    for (let i = 0; i < 14; i += 1) {
      const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 1 });
      await store.claim([claimOf(page.items[0]!, [])]);
    }
    // 2 unparked per listing at most (room 2): all 28 parked ones are back after 14 listings.
    await store.listClaimCandidates({ pool: 'default_pool', limit: 1 });
    expect(await groups()).toBe(1);
    now += SETTLE_MS + 1;
    await store.listClaimCandidates({ pool: 'default_pool', limit: 1 });
    expect(await groups()).toBe(0);
  });
});
