/** The DAG resources of the API, on DynamoDB Local: list, detail, pause/unpause, versions, import errors. */
import { describe, expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { makeApiHarness, T0 } from '../../support/api-harness.ts';
import { ddbTest as test } from '../../support/ddb.ts';

const hourly = (id: string, tags: string[] = []) =>
  dag(id, { schedule: '@hourly', startDate: '2026-01-01', tags }, (d) => {
    const a = d.task('extract', async () => 1);
    const b = d.task('load', async () => 2);
    a.before(b);
  });

describe('API: DAGs', () => {
  test('lists DAGs with schedule, next run, latest runs and paused state', async ({ store }) => {
    // Prepare
    const h = makeApiHarness(store);
    await h.register(hourly('etl', ['finance']));
    await h.register(hourly('paused_one'), { paused: true });
    h.clock.set(T0 + 3_600_000);
    await h.drain();
    // Act
    const res = await h.call('GET', '/api/v1/dags');
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.items.map((d: { dagId: string }) => d.dagId)).toEqual(['etl', 'paused_one']);
    const etl = res.body.items[0];
    expect(etl).toMatchObject({
      paused: false,
      active: true,
      tags: ['finance'],
      schedule: { kind: 'cron', expression: '0 * * * *' },
      importError: null,
    });
    expect(etl.nextRun.runAfter).toBe(new Date(T0 + 2 * 3_600_000).toISOString());
    expect(etl.recentRuns[0]).toMatchObject({ runType: 'scheduled', state: 'success' });
    expect(res.body.next).toBeNull();
  });

  test('pages DAGs with limit and cursor, and filters by paused and tag', async ({ store }) => {
    const h = makeApiHarness(store);
    for (const id of ['a', 'b', 'c'])
      await h.register(hourly(id, id === 'b' ? ['x'] : []), { paused: id === 'c' });
    const first = await h.call('GET', '/api/v1/dags?limit=2');
    expect(first.body.items.map((d: { dagId: string }) => d.dagId)).toEqual(['a', 'b']);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await h.call('GET', `/api/v1/dags?limit=2&cursor=${encodeURIComponent(first.body.next)}`);
    expect(second.body.items.map((d: { dagId: string }) => d.dagId)).toEqual(['c']);
    expect(second.body.next).toBeNull();
    const paused = await h.call('GET', '/api/v1/dags?paused=true');
    expect(paused.body.items.map((d: { dagId: string }) => d.dagId)).toEqual(['c']);
    const tagged = await h.call('GET', '/api/v1/dags?tag=x');
    expect(tagged.body.items.map((d: { dagId: string }) => d.dagId)).toEqual(['b']);
  });

  test('shows one DAG with its tasks, and 404 for an unknown one', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(hourly('etl'));
    const res = await h.call('GET', '/api/v1/dags/etl');
    expect(res.status).toBe(200);
    expect(res.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['extract', 'load']);
    expect(res.body.tasks[0]).toMatchObject({ kind: 'function', downstream: ['load'], pool: 'default_pool' });
    const missing = await h.call('GET', '/api/v1/dags/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: 'DAG nope not found' });
  });

  test('pauses and unpauses a DAG, waking the scheduler on unpause', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(hourly('etl'));
    const paused = await h.call('PATCH', '/api/v1/dags/etl', { paused: true });
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toBe(true);
    expect((await store.getDag('etl'))?.paused).toBe(true);
    h.events.length = 0;
    const unpaused = await h.call('PATCH', '/api/v1/dags/etl', { paused: false });
    expect(unpaused.body.paused).toBe(false);
    expect(h.events).toContainEqual({ type: 'tick', dagId: 'etl' });
  });

  test.for([
    { case: 'a field of the wrong type', body: { paused: 'yes' }, field: 'paused' },
    { case: 'an unknown field', body: { paused: true, pasued: true }, field: 'pasued' },
    { case: 'a missing field', body: {}, field: 'paused' },
  ])('refuses a pause with $case, naming the field, and changes nothing', async (c, { store }) => {
    const h = makeApiHarness(store);
    await h.register(hourly('etl'));
    const before = await store.getDag('etl');
    const res = await h.call('PATCH', '/api/v1/dags/etl', c.body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', field: c.field });
    expect(res.body.message).toMatch(new RegExp(`^${c.field}: `));
    expect(await store.getDag('etl')).toEqual(before);
  });

  test('refuses a body that is not JSON', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(hourly('etl'));
    const res = await h.call('PATCH', '/api/v1/dags/etl', undefined, { raw: '{"paused": tru' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', field: 'body' });
  });

  test('lists the versions of a DAG newest first, in its detail and on their own', async ({ store }) => {
    const h = makeApiHarness(store);
    const v1 = await h.register(hourly('etl'));
    h.clock.advance(60_000);
    const v2 = await h.register(hourly('etl', ['new']));
    const detail = await h.call('GET', '/api/v1/dags/etl');
    expect(detail.body.versions).toEqual([
      { version: v2.hash, registeredAt: new Date(T0 + 60_000).toISOString(), current: true },
      { version: v1.hash, registeredAt: new Date(T0).toISOString(), current: false },
    ]);
    const page = await h.call('GET', '/api/v1/dags/etl/versions?limit=1');
    expect(page.body.items.map((v: { version: string }) => v.version)).toEqual([v2.hash]);
    const rest = await h.call(
      'GET',
      `/api/v1/dags/etl/versions?limit=1&cursor=${encodeURIComponent(page.body.next)}`,
    );
    expect(rest.body).toEqual({
      items: [expect.objectContaining({ version: v1.hash, current: false })],
      next: null,
    });
    expect((await h.call('GET', '/api/v1/dags/nope/versions')).status).toBe(404);
  });

  test('returns a version of a DAG and 404 for an unknown version', async ({ store }) => {
    const h = makeApiHarness(store);
    const manifest = await h.register(hourly('etl'));
    const res = await h.call('GET', `/api/v1/dags/etl/versions/${manifest.hash}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dagId: 'etl', version: manifest.hash, current: true });
    expect(res.body.manifest.tasks).toHaveLength(2);
    expect((await h.call('GET', '/api/v1/dags/etl/versions/deadbeef')).status).toBe(404);
  });

  test('lists import errors by file', async ({ store }) => {
    const h = makeApiHarness(store);
    await store.recordImportError(null, { fileloc: 'dags/broken.ts', message: 'SyntaxError at 3:4', at: T0 });
    const res = await h.call('GET', '/api/v1/importErrors');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [{ fileloc: 'dags/broken.ts', message: 'SyntaxError at 3:4', at: new Date(T0).toISOString() }],
      next: null,
    });
  });
});
