/** Pools through the API, on DynamoDB Local: usage and holders, create, resize, delete. */
import { describe, expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { makeApiHarness } from '../../support/api-harness.ts';
import { ddbTest as test } from '../../support/ddb.ts';

const fanout = dag('fanout', { schedule: null, startDate: '2026-01-01' }, (d) => {
  for (let i = 0; i < 4; i += 1) d.task(`t${i}`, { pool: 'warehouse', poolSlots: 2 }, async () => i);
});

describe('API: pools', () => {
  test('lists default_pool from the start', async ({ store }) => {
    const h = makeApiHarness(store);
    const res = await h.call('GET', '/api/v1/pools');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        {
          name: 'default_pool',
          slots: 128,
          description: expect.any(String),
          includeDeferred: false,
          used: 0,
          queued: 0,
          running: 0,
          open: 128,
          holders: [],
        },
      ],
      next: null,
    });
  });

  test('creates a pool, shows what holds its slots, and resizes it in place', async ({ store }) => {
    // Prepare
    const h = makeApiHarness(store);
    const created = await h.call('POST', '/api/v1/pools', {
      name: 'warehouse',
      slots: 4,
      description: 'DWH',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'warehouse', slots: 4, used: 0, open: 4 });
    expect(h.events).toContainEqual({ type: 'pool_changed', pool: 'warehouse' });
    await h.register(fanout);
    await h.call('POST', '/api/v1/dags/fanout/runs', {});
    await h.pass();
    // Act
    const res = await h.call('GET', '/api/v1/pools/warehouse');
    // Assess: two instances of 2 slots each are queued; two more wait.
    expect(res.body).toMatchObject({ used: 4, queued: 4, running: 0, open: 0 });
    expect(
      res.body.holders.map((x: { taskId: string; slots: number; state: string }) => [x.slots, x.state]),
    ).toEqual([
      [2, 'queued'],
      [2, 'queued'],
    ]);
    const resized = await h.call('PATCH', '/api/v1/pools/warehouse', { slots: 8 });
    expect(resized.status).toBe(200);
    expect(resized.body).toMatchObject({ slots: 8, used: 4, open: 4, description: 'DWH' });
    await h.pass();
    expect((await h.call('GET', '/api/v1/pools/warehouse')).body).toMatchObject({ used: 8, open: 0 });
    // Shrinking below use is allowed; nothing more is admitted until use falls.
    const shrunk = await h.call('PATCH', '/api/v1/pools/warehouse', { slots: 2 });
    expect(shrunk.body).toMatchObject({ slots: 2, used: 8, open: 0 });
  });

  test('marks an unlimited pool as having no open count', async ({ store }) => {
    const h = makeApiHarness(store);
    const res = await h.call('POST', '/api/v1/pools', { name: 'any', slots: -1 });
    expect(res.body).toMatchObject({ slots: -1, open: null });
  });

  test('refuses to create a pool twice, and to delete default_pool or a pool in use', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.call('POST', '/api/v1/pools', { name: 'warehouse', slots: 4 });
    const twice = await h.call('POST', '/api/v1/pools', { name: 'warehouse', slots: 9 });
    expect(twice.status).toBe(409);
    expect((await store.getPool('warehouse'))?.slots).toBe(4);
    const protectedPool = await h.call('DELETE', '/api/v1/pools/default_pool');
    expect(protectedPool.status).toBe(409);
    expect(protectedPool.body.message).toBe('default_pool cannot be deleted: resize it instead');
    await h.register(fanout);
    await h.call('POST', '/api/v1/dags/fanout/runs', {});
    await h.pass();
    const inUse = await h.call('DELETE', '/api/v1/pools/warehouse');
    expect(inUse.status).toBe(409);
    expect(inUse.body.message).toMatch(/^pool warehouse is in use \(4 slots held by 2 task instances\)/);
    expect(await store.getPool('warehouse')).not.toBeNull();
  });

  test('deletes a pool nobody uses, and answers 404 for an unknown pool', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.call('POST', '/api/v1/pools', { name: 'spare', slots: 1 });
    const deleted = await h.call('DELETE', '/api/v1/pools/spare');
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    expect(await store.getPool('spare')).toBeNull();
    expect((await h.call('DELETE', '/api/v1/pools/spare')).status).toBe(404);
    expect((await h.call('GET', '/api/v1/pools/spare')).status).toBe(404);
    expect((await h.call('PATCH', '/api/v1/pools/spare', { slots: 3 })).status).toBe(404);
    expect(await store.getPool('spare')).toBeNull();
  });

  test.for([
    { case: 'slots below -1', body: { name: 'p', slots: -2 }, field: 'slots' },
    { case: 'fractional slots', body: { name: 'p', slots: 1.5 }, field: 'slots' },
    { case: 'no slots', body: { name: 'p' }, field: 'slots' },
    { case: 'a name with a space', body: { name: 'my pool', slots: 1 }, field: 'name' },
    { case: 'an unknown field', body: { name: 'p', slots: 1, size: 3 }, field: 'size' },
  ])('refuses to create a pool with $case, naming the field', async (c, { store }) => {
    const h = makeApiHarness(store);
    const res = await h.call('POST', '/api/v1/pools', c.body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(c.field);
    expect((await store.listPools()).map((p) => p.name)).toEqual(['default_pool']);
  });

  test('pages pools by name', async ({ store }) => {
    const h = makeApiHarness(store);
    for (const name of ['b', 'a', 'c']) await h.call('POST', '/api/v1/pools', { name, slots: 1 });
    const first = await h.call('GET', '/api/v1/pools?limit=2');
    expect(first.body.items.map((p: { name: string }) => p.name)).toEqual(['a', 'b']);
    const second = await h.call('GET', `/api/v1/pools?limit=2&cursor=${encodeURIComponent(first.body.next)}`);
    expect(second.body.items.map((p: { name: string }) => p.name)).toEqual(['c', 'default_pool']);
    expect(second.body.next).toBeNull();
  });
});
