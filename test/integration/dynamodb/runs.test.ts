/**
 * Runs and DAG versions on DynamoDB Local: a run and its instances in one transaction when they
 * fit; a larger run is never visible half-written, and a repeat completes one that died half-way;
 * manifests too large for one item are compressed or split and read back whole.
 */
import { randomBytes } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { MAX_DATA_BYTES, versionItems } from '#adapters/dynamodb/entities.ts';
import { UnknownItemError } from '#core/errors.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { manifest, run, T0, ti } from '../../support/factories.ts';
import { CountingClient } from './helpers.ts';

/** A client whose PutItems start failing after `n` of them, as if the process died half-way. */
class DyingClient extends CountingClient {
  constructor(private readonly putsBeforeDeath: number) {
    super();
  }

  // biome-ignore lint/suspicious/noExplicitAny: wraps every overload of send.
  override send(command: any, ...rest: any[]): Promise<any> {
    if (command instanceof PutItemCommand && this.count('PutItem') >= this.putsBeforeDeath) {
      return Promise.reject(new Error('process died'));
    }
    return super.send(command, ...rest);
  }
}

const tisOf = (runId: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    ti({ runId, taskId: `t${String(i).padStart(3, '0')}`, state: 'none', tryNumber: 0 }),
  );
/** Instances created in another state than none are written one item each (not packed). */
const writtenTisOf = (runId: string, n: number) =>
  tisOf(runId, n).map((t) => ({ ...t, state: 'scheduled' as const, tryNumber: 1 }));

describe('DynamoDB store runs', () => {
  test('create a run and 99 instances in one transaction', async ({ table }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const r = run();
    expect(await store.createRun(r, tisOf(r.runId, 99))).toEqual({ created: true });
    expect(client.count('TransactWriteItems')).toBe(1);
    expect(client.count('PutItem')).toBe(0);
    expect(await store.listTis('etl', r.runId)).toHaveLength(99);
    client.destroy();
  });

  test('keep a large run out of the unfinished runs until its instances are written, and complete it on a repeat', async ({
    table,
    store,
  }) => {
    const r = run();
    const tis = writtenTisOf(r.runId, 150);
    const dying = new DyingClient(60);
    await expect(new DynamoDbStateStore(dying, table).createRun(r, tis)).rejects.toThrow('process died');
    dying.destroy();
    expect((await store.getRun('etl', r.runId))?.runId).toBe(r.runId);
    expect((await store.listTis('etl', r.runId)).length).toBeLessThan(150);
    expect((await store.listUnfinishedRuns()).items).toEqual([]);
    // A state change meanwhile keeps it unlisted.
    expect(await store.updateRun('etl', r.runId, { state: 'running' }, { note: 'touched' })).toBe(true);
    expect((await store.listUnfinishedRuns()).items).toEqual([]);
    expect(await store.createRun(r, tis)).toEqual({ created: false });
    expect(await store.listTis('etl', r.runId)).toHaveLength(150);
    expect((await store.listUnfinishedRuns()).items.map((x) => [x.runId, x.note])).toEqual([
      [r.runId, 'touched'],
    ]);
  });

  test('create a large run whole in one call', async ({ store }) => {
    const r = run({ logicalDate: T0 + 1 });
    expect(await store.createRun(r, writtenTisOf(r.runId, 120))).toEqual({ created: true });
    expect(await store.listTis('etl', r.runId)).toHaveLength(120);
    expect((await store.listUnfinishedRuns()).items).toHaveLength(1);
  });

  test('pack instances in state none into blocks, written with the run in one transaction', async ({
    table,
  }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const r = run();
    const tis = [
      ...tisOf(r.runId, 1200),
      ...writtenTisOf(r.runId, 3).map((t) => ({ ...t, taskId: `s${t.taskId}` })),
    ];
    expect(await store.createRun(r, tis)).toEqual({ created: true });
    expect(client.count('TransactWriteItems')).toBe(1);
    expect(client.count('PutItem')).toBe(0);
    const listed = await store.listTis('etl', r.runId);
    expect(listed).toHaveLength(1203);
    expect(listed.map((t) => t.taskId)).toEqual(tis.map((t) => t.taskId).sort());
    expect(listed.find((t) => t.taskId === 't007')).toEqual(tis[7]);
    expect(await store.getTi(tis[1100]!)).toEqual(tis[1100]);
    expect(await store.getTi({ ...tis[0]!, taskId: 'nope' })).toBeNull();
    // A repeat writes nothing new.
    expect(await store.createRun(r, tis)).toEqual({ created: false });
    expect(await store.listTis('etl', r.runId)).toHaveLength(1203);
    client.destroy();
  });

  test('read a packed instance from cached blocks after the first look, its item always first', async ({
    table,
  }) => {
    const client = new CountingClient();
    const store = new DynamoDbStateStore(client, table);
    const r = run();
    const tis = tisOf(r.runId, 5);
    await store.createRun(r, tis);
    expect(await store.getTi(tis[0]!)).toEqual(tis[0]);
    // The blocks are not read again; a getTi reads only the run's ready lists again (pending.ts),
    // and a getTis not even those.
    const queries = client.count('Query');
    expect(await store.getTi(tis[1]!)).toEqual(tis[1]);
    expect(client.count('Query')).toBe(queries + 1);
    expect(await store.getTis([tis[1]!])).toEqual([tis[1]]);
    expect(client.count('Query')).toBe(queries + 2);
    // Once the instance has an item, the item is read, never the cached block.
    await store.updateTis([
      { key: tis[1]!, expect: { state: 'none', tryNumber: 0 }, set: { state: 'scheduled', tryNumber: 1 } },
    ]);
    expect(await store.getTi(tis[1]!)).toMatchObject({ state: 'scheduled', tryNumber: 1 });
    // A record handed out is a copy: changing it changes nothing cached.
    const copy = (await store.getTi(tis[2]!))!;
    copy.holds.push({ counter: { kind: 'global' }, amount: 1 });
    expect((await store.getTi(tis[2]!))?.holds).toEqual([]);
    client.destroy();
  });

  test('write a packed instance at its first change, once, if nobody wrote it first', async ({
    ddb,
    table,
  }) => {
    const r = run();
    const tis = tisOf(r.runId, 3);
    const one = new DynamoDbStateStore(ddb, table);
    const two = new DynamoDbStateStore(ddb, table);
    await one.createRun(r, tis);
    const change = {
      key: tis[0]!,
      expect: { state: 'none' as const, tryNumber: 0 },
      set: { state: 'scheduled' as const, tryNumber: 1 },
    };
    // Two schedulers both read it from the block: exactly one writes it.
    const [a, b] = await Promise.all([one.updateTis([change]), two.updateTis([change])]);
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, 1]);
    expect(await one.getTi(tis[0]!)).toMatchObject({ state: 'scheduled', tryNumber: 1 });
    expect((await one.listClaimCandidates({ pool: 'default_pool', limit: 10 })).items).toHaveLength(1);
    // Its wait reason, then a skip: the item is written at the first, changed by the second.
    await one.setWaitReasons([{ key: tis[1]!, reason: { kind: 'upstream_pending', pending: ['t000'] } }]);
    expect((await one.getTi(tis[1]!))?.waitReason).toEqual({ kind: 'upstream_pending', pending: ['t000'] });
    expect(
      (
        await one.updateTis([
          { key: tis[1]!, expect: { state: 'none', tryNumber: 0 }, set: { state: 'skipped' } },
        ])
      ).applied,
    ).toHaveLength(1);
    const listed = await one.listTis('etl', r.runId);
    expect(listed.map((t) => t.state)).toEqual(['scheduled', 'skipped', 'none']);
    expect(listed[1]?.waitReason).toEqual({ kind: 'upstream_pending', pending: ['t000'] });
    // A null reason for a packed instance writes nothing (it has none).
    await one.setWaitReasons([{ key: tis[2]!, reason: null }]);
    expect(await one.getTi(tis[2]!)).toEqual(tis[2]);
  });

  test.for([
    { case: 'compressible, stored gzipped', parts: 0, extra: () => 'x'.repeat(MAX_DATA_BYTES * 2) },
    {
      case: 'incompressible, split into parts',
      parts: 2,
      extra: () => randomBytes(MAX_DATA_BYTES).toString('base64'),
    },
  ])('read back a manifest larger than one item ($case)', async ({ extra, parts }, { store }) => {
    const big = { ...manifest('huge'), description: extra() };
    expect(versionItems(big).parts).toHaveLength(parts);
    expect((await store.registerDagVersion(big, { now: T0, fileloc: null, warnings: [] })).newVersion).toBe(
      true,
    );
    expect(await store.getDagVersion('huge', big.hash)).toEqual(big);
    expect(
      (await store.registerDagVersion(big, { now: T0 + 1, fileloc: null, warnings: [] })).newVersion,
    ).toBe(false);
  });

  test('refuse to read or overwrite a DAG written by another schema version', async ({
    ddb,
    table,
    store,
  }) => {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: 'DAG#etl' },
          sk: { S: 'DAG' },
          v: { N: '7' },
          type: { S: 'dag' },
          data: { S: '{}' },
        },
      }),
    );
    await expect(store.getDag('etl')).rejects.toThrow(UnknownItemError);
    await expect(store.getDag('etl')).rejects.toThrow(/DAG#etl/);
    await expect(
      store.registerDagVersion(manifest(), { now: T0, fileloc: null, warnings: [] }),
    ).rejects.toThrow(UnknownItemError);
  });
});
