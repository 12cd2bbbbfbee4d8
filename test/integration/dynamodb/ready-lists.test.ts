/**
 * Ready lists on DynamoDB Local (ready.ts): many instances of one run scheduled at once wait with
 * no item and no `claim` entry of their own, marked scheduled by a few list items. Every read sees
 * them scheduled, from any store; a listing merges them with the pool's own entries in exact claim
 * order over pages; racing claimers never claim one twice and lose none; the head moves past what
 * is done and the list goes when empty; an instance blocked by its DAG is parked with an item of
 * its own; a write made from a stale read loses; a legacy list whose instance was never written
 * keeps its head until no writer can be left.
 */

import { gzipSync } from 'node:zlib';
import { type AttributeValue, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { tiItem } from '#adapters/dynamodb/entities.ts';
import { DELIST_AFTER_MS } from '#adapters/dynamodb/holders.ts';
import {
  ADVANCE_MIN,
  LEGACY_PREFIX,
  LIST_PREFIX,
  READY_MAX,
  READY_MIN,
  readyListItems,
} from '#adapters/dynamodb/ready.ts';
import { compareClaimOrder } from '#core/claim-order.ts';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { run, T0, ti } from '../../support/factories.ts';
import { CountingClient, claimOf, GLOBAL, scheduledTis } from './helpers.ts';

const name = (t: TaskInstance) => `${t.dagId}/${t.runId}/${t.taskId}`;
const unlimited = [{ counter: GLOBAL, amount: 1, limit: -1 }];

/** `n` instances of a new run in state none (its pending block), then scheduled in one updateTis. */
async function readyRun(
  store: DynamoDbStateStore,
  n: number,
  overrides: (i: number) => Partial<TaskInstance> = () => ({}),
  runId = 'manual__r1',
  dagId = 'etl',
): Promise<TaskInstance[]> {
  const tis = Array.from({ length: n }, (_, i) =>
    ti({
      dagId,
      runId,
      taskId: `t${String(i).padStart(4, '0')}`,
      state: 'none',
      tryNumber: 0,
      scheduledAt: null,
      ...overrides(i),
    }),
  );
  await store.createRun(run({ dagId, runId }), tis);
  const out = await store.updateTis(
    tis.map((t) => ({
      key: t,
      expect: { state: 'none' as const, tryNumber: 0 },
      set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
    })),
  );
  expect(out.lost).toEqual([]);
  return tis.map((t) => ({ ...t, state: 'scheduled', tryNumber: 1, scheduledAt: T0 }));
}

async function pages(store: DynamoDbStateStore, limit: number, exclude?: { dagIds: string[] }) {
  const out: TaskInstance[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listClaimCandidates({ pool: 'default_pool', limit, cursor, exclude });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

async function claimEntries(client: CountingClient, table: string, claimPk: string) {
  const out = await client.send(
    new QueryCommand({
      TableName: table,
      IndexName: 'claim',
      KeyConditionExpression: 'claimPk = :p',
      ExpressionAttributeValues: { ':p': { S: claimPk } },
    }),
  );
  return (out.Items ?? []) as Record<string, AttributeValue>[];
}

describe('DynamoDB store ready lists', () => {
  test('mark many instances scheduled at once by a few list items, with no items of their own', async ({
    table,
    store,
  }) => {
    const client = new CountingClient();
    const writer = new CountingClient();
    const writing = new DynamoDbStateStore(writer, table);
    const tis = Array.from({ length: READY_MAX + 10 }, (_, i) =>
      ti({
        runId: 'manual__r1',
        taskId: `t${String(i).padStart(4, '0')}`,
        state: 'none',
        tryNumber: 0,
        scheduledAt: null,
      }),
    );
    await writing.createRun(run({ runId: 'manual__r1' }), tis);
    const before = writer.count('PutItem');
    const out = await writing.updateTis(
      tis.map((t) => ({
        key: t,
        expect: { state: 'none' as const, tryNumber: 0 },
        set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
      })),
    );
    expect(out.applied).toHaveLength(tis.length);
    // Two list items written, no instance item.
    expect(writer.count('PutItem') - before).toBe(2);
    const entries = await claimEntries(client, table, 'POOL#default_pool');
    expect(entries.map((e) => e.type?.S)).toEqual(['readyList', 'readyList']);
    const item = (
      await client.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: 'RUN#etl#manual__r1' }, sk: { S: 'TI#t0000#-1' } },
        }),
      )
    ).Item;
    expect(item).toBeUndefined();
    // Every read, from the writer or from another store, sees them scheduled.
    const scheduled = { state: 'scheduled', tryNumber: 1, scheduledAt: T0 };
    for (const s of [writing, store]) {
      expect(await s.getTi(tis[0]!)).toMatchObject(scheduled);
      expect(await s.getTis([tis[3]!, tis.at(-1)!])).toMatchObject([scheduled, scheduled]);
      const listed = await s.listTis('etl', 'manual__r1');
      expect(listed).toHaveLength(tis.length);
      expect(listed.every((t) => t.state === 'scheduled' && t.tryNumber === 1)).toBe(true);
    }
    const live = await store.listLiveTis();
    expect(live.items.map((t) => t.taskId).sort()).toEqual(tis.map((t) => t.taskId).sort());
    expect(live.items.every((t) => t.state === 'scheduled')).toBe(true);
    // A repeat of the same schedule from what a store reads now finds them scheduled: nothing to do.
    const again = await store.updateTis(
      tis.slice(0, 10).map((t) => ({
        key: t,
        expect: { state: 'none' as const, tryNumber: 0 },
        set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
      })),
    );
    expect(again.applied).toEqual([]);
    client.destroy();
    writer.destroy();
  });

  test('a few scheduled at once are listed one by one, as before', async ({ table, store }) => {
    const client = new CountingClient();
    await readyRun(store, READY_MIN - 1);
    const entries = await claimEntries(client, table, 'POOL#default_pool');
    expect(entries.map((e) => e.type?.S)).toEqual(Array(READY_MIN - 1).fill('ti'));
    client.destroy();
  });

  test('merge lists and single entries in exact claim order over pages of any size', async ({ store }) => {
    // Two wide runs with interleaving priorities and dates, and single entries between them.
    const a = await readyRun(store, 120, (i) => ({ priorityWeight: [5, -1, 3][i % 3]! }), 'manual__a');
    const b = await readyRun(
      store,
      40,
      (i) => ({ priorityWeight: [4, 3, -1][i % 3]!, logicalDate: T0 - 1000 }),
      'manual__b',
    );
    const single = await scheduledTis(
      store,
      7,
      (i) => ({ priorityWeight: [5, 3, 0, -1, 9, 4, 3][i]! }),
      'manual__s',
    );
    const all = [...a, ...b, ...single].sort(compareClaimOrder).map(name);
    for (const limit of [1, 7, 64, 1000]) expect((await pages(store, limit)).map(name)).toEqual(all);
  });

  test('leave out what is claimed, move the head past it, and delete a list with nothing left', async ({
    table,
    store,
  }) => {
    const client = new CountingClient();
    const tis = await readyRun(store, 60);
    const sorted = [...tis].sort(compareClaimOrder);
    const first = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(first.items.map(name)).toEqual(sorted.slice(0, 10).map(name));
    expect((await store.claim(first.items.map((t) => claimOf(t, unlimited)))).claimed).toHaveLength(10);
    const second = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(second.items.map(name)).toEqual(sorted.slice(10, 20).map(name));
    // Fewer than ADVANCE_MIN done: the head stays (a listing passes them by reading them).
    let [list] = await claimEntries(client, table, 'POOL#default_pool');
    expect(list?.head).toEqual({ N: '0' });
    const more = sorted.slice(10, 10 + ADVANCE_MIN);
    expect((await store.claim(more.map((t) => claimOf(t, unlimited)))).claimed).toHaveLength(ADVANCE_MIN);
    const third = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(third.items.map(name)).toEqual(sorted.slice(10 + ADVANCE_MIN, 20 + ADVANCE_MIN).map(name));
    [list] = await claimEntries(client, table, 'POOL#default_pool');
    expect(list?.head).toEqual({ N: String(10 + ADVANCE_MIN) });
    expect(
      (await store.claim(sorted.slice(10 + ADVANCE_MIN).map((t) => claimOf(t, unlimited)))).claimed,
    ).toHaveLength(60 - 10 - ADVANCE_MIN);
    const last = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(last).toEqual({ items: [], next: null });
    expect(await claimEntries(client, table, 'POOL#default_pool')).toEqual([]);
    client.destroy();
  });

  test('racing claimers claim each instance of a list once and lose none', async ({ table, store }) => {
    const tis = await readyRun(store, 120);
    const clients = Array.from({ length: 4 }, () => new CountingClient());
    const stores = clients.map((c) => new DynamoDbStateStore(c, table));
    const claimed: string[] = [];
    try {
      for (let round = 0; round < 40 && claimed.length < tis.length; round += 1) {
        const results = await Promise.all(
          stores.map(async (s) => {
            const page = await s.listClaimCandidates({ pool: 'default_pool', limit: 16 });
            return s.claim(page.items.map((t) => claimOf(t, unlimited)));
          }),
        );
        for (const r of results) claimed.push(...r.claimed.map((k) => name(k as TaskInstance)));
      }
      expect(new Set(claimed).size).toBe(claimed.length);
      expect([...claimed].sort()).toEqual(tis.map(name).sort());
      for (const t of tis) expect(await store.getTi(t)).toMatchObject({ state: 'queued', tryNumber: 1 });
      // The next listing finds every list done and deletes it.
      expect(await store.listClaimCandidates({ pool: 'default_pool', limit: 16 })).toEqual({
        items: [],
        next: null,
      });
      expect(await claimEntries(clients[0]!, table, 'POOL#default_pool')).toEqual([]);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  test('park an instance of a list whose DAG is full under an entry of its own', async ({ table, store }) => {
    const client = new CountingClient();
    const dag: CounterKey = { kind: 'dag', dagId: 'etl' };
    const tis = await readyRun(store, 20);
    const sorted = [...tis].sort(compareClaimOrder);
    const limit = [{ counter: dag, amount: 1, limit: 2 }];
    expect((await store.claim(sorted.slice(0, 2).map((t) => claimOf(t, limit)))).claimed).toHaveLength(2);
    const page = await store.listClaimCandidates({
      pool: 'default_pool',
      limit: 10,
      exclude: { dagIds: ['etl'] },
    });
    expect(page.items).toEqual([]);
    const parked = await claimEntries(client, table, 'PARKED#default_pool#dag/etl');
    expect(parked.map((e) => e.sk?.S)).toEqual(
      sorted.slice(2, 2 + parked.length).map((t) => `TI#${t.taskId}#-1`),
    );
    expect(parked.length).toBeGreaterThan(0);
    // Parked ones are done for the list; every instance is still found, listed or parked, exactly once.
    const stillListed = await pages(store, 100);
    expect(
      new Set([...stillListed.map(name), ...parked.map((e) => `etl/manual__r1/${e.sk!.S!.split('#')[1]}`)])
        .size,
    ).toBe(18);
    client.destroy();
  });

  test('lose a write made from a stale read of a listed instance, apply one made from what it is now', async ({
    table,
    store,
  }) => {
    const other = new CountingClient();
    const fresh = new DynamoDbStateStore(other, table);
    const tis = await readyRun(store, 20);
    const x = tis[7]!;
    const stale = await fresh.updateTis([
      { key: x, expect: { state: 'none', tryNumber: 0 }, set: { state: 'skipped', endedAt: T0 } },
    ]);
    expect(stale).toEqual({ applied: [], lost: [x] });
    expect(await store.getTi(x)).toMatchObject({ state: 'scheduled', tryNumber: 1 });
    const now = await fresh.updateTis([
      { key: x, expect: { state: 'scheduled', tryNumber: 1 }, set: { state: 'skipped', endedAt: T0 } },
    ]);
    expect(now.applied).toHaveLength(1);
    expect(await store.getTi(x)).toMatchObject({ state: 'skipped' });
    const listed = await pages(store, 100);
    expect(listed.map(name)).not.toContain(name(x));
    expect(listed).toHaveLength(19);
    expect((await store.listTis(x.dagId, x.runId)).find((t) => t.taskId === x.taskId)?.state).toBe('skipped');
    other.destroy();
  });

  test('give a listed instance a wait reason of its own: still scheduled, listed once', async ({ store }) => {
    const tis = await readyRun(store, 20);
    const x = tis[3]!;
    const reason = { kind: 'pool_full', pool: 'default_pool', used: 1, slots: 1, needs: 1 } as const;
    await store.setWaitReasons([{ key: x, reason }]);
    expect(await store.getTi(x)).toMatchObject({ state: 'scheduled', tryNumber: 1, waitReason: reason });
    const listed = await pages(store, 100);
    expect(listed.map(name).sort()).toEqual(tis.map(name).sort());
    expect(listed.find((t) => t.taskId === x.taskId)?.waitReason).toEqual(reason);
  });

  test('keep a run that finishes with listed instances listed, its instances live', async ({ store }) => {
    const tis = await readyRun(store, 12);
    const r = (await store.getRun('etl', 'manual__r1'))!;
    expect(
      await store.updateRun('etl', 'manual__r1', { state: r.state }, { state: 'failed', endedAt: T0 }),
    ).toBe(true);
    const live = await store.listLiveTis();
    expect(live.items.map(name).sort()).toEqual(tis.map(name).sort());
  });

  test('keep the head of a legacy list at an instance not written yet, until no writer of it can be left', async ({
    table,
    store,
  }) => {
    const client = new CountingClient();
    const tis = Array.from({ length: 10 }, (_, i) =>
      ti({ taskId: `t${i}`, state: 'none', tryNumber: 0, scheduledAt: null }),
    );
    await store.createRun(run({}), tis);
    // A writer that died after its list: the list names t0 … t9, only t5 … t9 were put scheduled.
    const scheduled = tis.map((t) => ({ ...t, state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 }));
    // A list as the code before 2026-12-03 wrote it: under RDY#, its entries a bare array.
    const put = async (createdAt: number) => {
      const [list] = readyListItems(
        scheduled.map((t) => ({ ti: t, set: {} })),
        createdAt,
      );
      const entries = scheduled.map((t) => [t.taskId, t.mapIndex, t.priorityWeight]);
      const legacy = {
        ...list!,
        sk: { S: list!.sk!.S!.replace(LIST_PREFIX, LEGACY_PREFIX) },
        data: { B: gzipSync(JSON.stringify(entries)) },
      };
      await client.send(new PutItemCommand({ TableName: table, Item: legacy }));
    };
    await put(Date.now());
    for (const t of scheduled.slice(5)) {
      const { claimPk: _, claimSk: __, ...item } = tiItem(t);
      await client.send(new PutItemCommand({ TableName: table, Item: item }));
    }
    const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(page.items.map((t) => t.taskId)).toEqual(['t5', 't6', 't7', 't8', 't9']);
    let lists = (await claimEntries(client, table, 'POOL#default_pool')).filter(
      (e) => e.type?.S === 'readyList',
    );
    expect(lists.map((l) => l.head?.N)).toEqual(['0']);
    // The same list, older than any pass can live: the unwritten ones count as done.
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...lists[0]!, createdAt: { N: String(Date.now() - DELIST_AFTER_MS - 1000) } },
      }),
    );
    // Once the five written ones are claimed, every entry is done: the list goes.
    const aged = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
    expect(aged.items.map((t) => t.taskId)).toEqual(['t5', 't6', 't7', 't8', 't9']);
    expect((await store.claim(aged.items.map((t) => claimOf(t, unlimited)))).claimed).toHaveLength(5);
    expect(await store.listClaimCandidates({ pool: 'default_pool', limit: 10 })).toEqual({
      items: [],
      next: null,
    });
    lists = (await claimEntries(client, table, 'POOL#default_pool')).filter((e) => e.type?.S === 'readyList');
    expect(lists).toEqual([]);
    client.destroy();
  });
});
