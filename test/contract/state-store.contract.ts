/**
 * The state-store contract: what every implementation of the `StateStore` port must do, written
 * against the port only. Each implementation's test file calls `describeStateStore` with a factory
 * that makes a fresh, empty store per test. Claims and their indexes are in state-store-claims.contract.ts,
 * paging under change and record ownership in state-store-consistency.contract.ts, the try history
 * in state-store-tries.contract.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#core/errors.ts';
import type { WaitReason } from '#core/model.ts';
import type { StateStore } from '#ports';
import { backfill, manifest, run, T0, ti } from '../support/factories.ts';
import { describeClaims } from './state-store-claims.contract.ts';
import { describeConsistency } from './state-store-consistency.contract.ts';
import { describeTries } from './state-store-tries.contract.ts';

type MakeStore = () => Promise<{ store: StateStore; cleanup: () => Promise<void> }>;

function describeStateStore(name: string, makeStore: MakeStore): void {
  describe(`StateStore contract: ${name}`, () => {
    async function withStore(body: (store: StateStore) => Promise<void>) {
      const { store, cleanup } = await makeStore();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    }

    describe('DAGs', () => {
      it('registers a version once per hash and points the DAG at the newest', () =>
        withStore(async (store) => {
          const v1 = manifest('etl', ['a']);
          const v2 = manifest('etl', ['a', 'b']);
          const first = await store.registerDagVersion(v1, { now: T0, fileloc: 'etl.ts', warnings: [] });
          const again = await store.registerDagVersion(v1, { now: T0 + 1, fileloc: 'etl.ts', warnings: [] });
          const second = await store.registerDagVersion(v2, {
            now: T0 + 2,
            fileloc: 'etl.ts',
            warnings: ['w'],
          });
          expect([first.newVersion, again.newVersion, second.newVersion]).toEqual([true, false, true]);
          expect(first.dag.paused).toBe(true);
          expect((await store.getDag('etl'))?.currentVersion).toBe(v2.hash);
          expect((await store.getDagVersion('etl', v1.hash))?.tasks).toHaveLength(1);
          expect(await store.getDagVersion('etl', 'nope')).toBeNull();
        }));

      it('lists the versions of a DAG newest first, each with when it was first registered', () =>
        withStore(async (store) => {
          const v1 = manifest('etl', ['a']);
          const v2 = manifest('etl', ['a', 'b']);
          await store.registerDagVersion(v1, { now: T0, fileloc: 'etl.ts', warnings: [] });
          await store.registerDagVersion(v2, { now: T0 + 5, fileloc: 'etl.ts', warnings: [] });
          await store.registerDagVersion(v1, { now: T0 + 9, fileloc: 'etl.ts', warnings: [] });
          await store.registerDagVersion(manifest('other', ['x']), {
            now: T0,
            fileloc: 'o.ts',
            warnings: [],
          });
          expect(await store.listDagVersions('etl')).toEqual([
            { version: v2.hash, registeredAt: T0 + 5 },
            { version: v1.hash, registeredAt: T0 },
          ]);
          expect(await store.listDagVersions('nope')).toEqual([]);
        }));

      it('updates a DAG only under its optimistic lock, even twice at the same instant', () =>
        withStore(async (store) => {
          const { dag } = await store.registerDagVersion(manifest(), {
            now: T0,
            fileloc: null,
            warnings: [],
          });
          expect(await store.updateDag('etl', dag.updatedAt, { paused: false }, T0)).toBe(true);
          expect(await store.updateDag('etl', dag.updatedAt, { paused: true }, T0)).toBe(false);
          const fresh = (await store.getDag('etl'))!;
          expect(fresh.paused).toBe(false);
          expect(await store.updateDag('etl', fresh.updatedAt, { paused: true }, T0)).toBe(true);
        }));

      it('keeps paused state and scheduling bookkeeping when a known DAG gets a new version', () =>
        withStore(async (store) => {
          const v1 = manifest('etl', ['a']);
          const { dag } = await store.registerDagVersion(v1, {
            now: T0,
            fileloc: 'etl.ts',
            warnings: ['old'],
          });
          expect(dag).toMatchObject({
            paused: v1.isPausedUponCreation,
            active: true,
            nextRun: null,
            lastAutomatedInterval: null,
            importError: null,
            warnings: ['old'],
            registeredAt: T0,
          });
          const nextRun = {
            logicalDate: T0,
            dataIntervalStart: T0,
            dataIntervalEnd: T0 + 1,
            runAfter: T0 + 1,
          };
          const interval = { start: T0 - 1, end: T0 };
          const patch = { paused: false, active: false, nextRun, lastAutomatedInterval: interval };
          expect(await store.updateDag('etl', dag.updatedAt, patch, T0)).toBe(true);
          const before = (await store.getDag('etl'))!;
          const v2 = manifest('etl', ['a', 'b']);
          const { dag: after } = await store.registerDagVersion(v2, {
            now: T0,
            fileloc: 'etl.ts',
            warnings: [],
          });
          expect(after).toMatchObject({
            currentVersion: v2.hash,
            paused: false,
            active: true,
            nextRun,
            lastAutomatedInterval: interval,
            warnings: [],
            registeredAt: T0,
          });
          // The lock moved although the clock did not: an update read before registering now loses.
          expect(after.updatedAt).toBeGreaterThan(before.updatedAt);
          expect(await store.updateDag('etl', before.updatedAt, { paused: true }, T0)).toBe(false);
          expect(await store.getDag('etl')).toEqual(after);
        }));

      it('does not update a DAG that does not exist', () =>
        withStore(async (store) => {
          expect(await store.updateDag('ghost', T0, { paused: false }, T0)).toBe(false);
          expect(await store.getDag('ghost')).toBeNull();
        }));

      it('lists DAGs page by page', () =>
        withStore(async (store) => {
          for (const id of ['c', 'a', 'b', 'd', 'e']) {
            await store.registerDagVersion(manifest(id, ['x']), { now: T0, fileloc: null, warnings: [] });
          }
          const first = await store.listDags({ limit: 2 });
          const rest = [];
          let cursor = first.next;
          while (cursor) {
            const page = await store.listDags({ limit: 2, cursor });
            rest.push(...page.items);
            cursor = page.next;
          }
          expect(first.items).toHaveLength(2);
          expect([...first.items, ...rest].map((d) => d.dagId).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
        }));

      it('lists unpaused DAGs whose next run is due, oldest first', () =>
        withStore(async (store) => {
          for (const [id, at] of [
            ['late', T0 + 10],
            ['early', T0 - 10],
            ['future', T0 + 1_000_000],
          ] as const) {
            const { dag } = await store.registerDagVersion(manifest(id, ['a']), {
              now: T0,
              fileloc: null,
              warnings: [],
            });
            const nextRun = { logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at, runAfter: at };
            await store.updateDag(id, dag.updatedAt, { paused: false, nextRun }, T0);
          }
          expect((await store.listDagsDue(T0 + 100, 10)).map((d) => d.dagId)).toEqual(['early', 'late']);
          expect((await store.listDagsDue(T0 + 100, 1)).map((d) => d.dagId)).toEqual(['early']);
          expect((await store.listDagsDue(T0 + 10, 10)).map((d) => d.dagId)).toEqual(['early', 'late']);
        }));

      it('leaves paused and inactive DAGs out of the due list', () =>
        withStore(async (store) => {
          const nextRun = { logicalDate: T0, dataIntervalStart: T0, dataIntervalEnd: T0, runAfter: T0 };
          const patches = {
            paused: { paused: true },
            gone: { paused: false, active: false },
            due: { paused: false },
          };
          for (const [id, patch] of Object.entries(patches)) {
            const { dag } = await store.registerDagVersion(manifest(id, ['a']), {
              now: T0,
              fileloc: null,
              warnings: [],
            });
            expect(await store.updateDag(id, dag.updatedAt, { ...patch, nextRun }, T0)).toBe(true);
          }
          expect((await store.listDagsDue(T0, 10)).map((d) => d.dagId)).toEqual(['due']);
        }));
    });

    describe('runs', () => {
      it('creates a run and its task instances once, and completes missing instances on a repeat', () =>
        withStore(async (store) => {
          const r = run();
          const a = ti({ runId: r.runId, taskId: 'a', state: 'none', tryNumber: 0 });
          const b = ti({ runId: r.runId, taskId: 'b', state: 'none', tryNumber: 0 });
          expect(await store.createRun(r, [a])).toEqual({ created: true });
          expect(await store.createRun(r, [a, b])).toEqual({ created: false });
          expect((await store.listTis('etl', r.runId)).map((t) => t.taskId).sort()).toEqual(['a', 'b']);
        }));

      it('refuses a cursor it did not hand out with an InputError naming the cursor', () =>
        withStore(async (store) => {
          for (let i = 0; i < 3; i += 1) await store.createRun(run({ logicalDate: T0 + i * 3_600_000 }), []);
          const runs = await store.listRuns('etl', { limit: 1 });
          const dags = Buffer.from(JSON.stringify({ pk: { S: 'x' } })).toString('base64url');
          for (const cursor of ['garbage', dags]) {
            await expect(store.listRuns('etl', { cursor })).rejects.toMatchObject({
              name: 'InputError',
              field: 'cursor',
            });
          }
          expect((await store.listRuns('etl', { cursor: runs.next })).items).toHaveLength(2);
        }));

      it('lists runs newest first, page by page, and the unfinished ones', () =>
        withStore(async (store) => {
          for (let i = 0; i < 5; i += 1) {
            await store.createRun(
              run({ logicalDate: T0 + i * 3_600_000, state: i < 2 ? 'success' : 'running' }),
              [],
            );
          }
          const first = await store.listRuns('etl', { limit: 3 });
          const second = await store.listRuns('etl', { limit: 3, cursor: first.next });
          const dates = [...first.items, ...second.items].map((r) => r.logicalDate);
          expect(dates).toEqual([4, 3, 2, 1, 0].map((i) => T0 + i * 3_600_000));
          expect(second.next).toBeNull();
          expect((await store.listUnfinishedRuns()).items).toHaveLength(3);
          expect((await store.listUnfinishedRuns({ dagId: 'other' })).items).toHaveLength(0);
          expect((await store.findRunByLogicalDate('etl', T0 + 3_600_000))?.state).toBe('success');
        }));

      it('changes a run only from the state it expects', () =>
        withStore(async (store) => {
          const r = run({ state: 'queued' });
          await store.createRun(r, []);
          expect(await store.updateRun('etl', r.runId, { state: 'running' }, { state: 'success' })).toBe(
            false,
          );
          expect(
            await store.updateRun('etl', r.runId, { state: 'queued' }, { state: 'running', startedAt: T0 }),
          ).toBe(true);
          expect((await store.getRun('etl', r.runId))?.state).toBe('running');
          expect((await store.listUnfinishedRuns()).items).toHaveLength(1);
        }));
      it('finds the latest created run at a logical date', () =>
        withStore(async (store) => {
          await store.createRun(run({ runId: 'first', createdAt: T0 }), []);
          await store.createRun(run({ runId: 'second', createdAt: T0 + 5 }), []);
          await store.createRun(run({ runId: 'other_day', logicalDate: T0 + 86_400_000 }), []);
          expect((await store.findRunByLogicalDate('etl', T0))?.runId).toBe('second');
          expect(await store.findRunByLogicalDate('etl', T0 + 1)).toBeNull();
          expect(await store.findRunByLogicalDate('other', T0)).toBeNull();
        }));

      it('filters runs by state and keeps only queued and running ones unfinished', () =>
        withStore(async (store) => {
          const states = ['queued', 'running', 'success', 'failed'] as const;
          for (const [i, state] of states.entries()) {
            await store.createRun(run({ logicalDate: T0 + i * 3_600_000, state }), []);
          }
          await store.createRun(run({ dagId: 'other', state: 'queued' }), []);
          const finished = await store.listRuns('etl', { states: ['success', 'failed'] });
          expect(finished.items.map((r) => r.state)).toEqual(['failed', 'success']);
          const unfinished = await store.listUnfinishedRuns({ dagId: 'etl' });
          expect(unfinished.items.map((r) => r.state).sort()).toEqual(['queued', 'running']);
          expect((await store.listUnfinishedRuns()).items).toHaveLength(3);
          expect(await store.getRun('etl', 'ghost')).toBeNull();
          expect((await store.listRuns('ghost')).items).toEqual([]);
        }));

      it('pages the unfinished runs and drops a run from them once it finishes', () =>
        withStore(async (store) => {
          for (let i = 0; i < 7; i += 1) await store.createRun(run({ logicalDate: T0 + i * 3_600_000 }), []);
          const seen = [];
          let cursor: string | null = null;
          do {
            const page = await store.listUnfinishedRuns({ limit: 3, cursor });
            expect(page.items.length).toBeLessThanOrEqual(3);
            seen.push(...page.items);
            cursor = page.next;
          } while (cursor);
          expect(new Set(seen.map((r) => r.runId)).size).toBe(7);
          const done = seen[0]!;
          expect(
            await store.updateRun('etl', done.runId, { state: 'running' }, { state: 'success', endedAt: T0 }),
          ).toBe(true);
          const left = await store.listUnfinishedRuns({ dagId: 'etl' });
          expect(left.items.map((r) => r.runId)).not.toContain(done.runId);
          expect(left.items).toHaveLength(6);
          expect(await store.updateRun('etl', 'ghost', { state: 'running' }, { state: 'failed' })).toBe(
            false,
          );
        }));
    });

    describe('task instances', () => {
      it('applies a change only to an instance still in the expected state and try', () =>
        withStore(async (store) => {
          const r = run();
          const a = ti({ runId: r.runId, state: 'none', tryNumber: 0 });
          await store.createRun(r, [a]);
          const result = await store.updateTis([
            { key: a, expect: { state: 'none', tryNumber: 0 }, set: { state: 'scheduled', tryNumber: 1 } },
            { key: a, expect: { state: 'none', tryNumber: 0 }, set: { state: 'skipped' } },
          ]);
          expect(result.applied).toHaveLength(1);
          expect(result.lost).toHaveLength(1);
          expect((await store.getTi(a))?.state).toBe('scheduled');
        }));

      it('loses a change to a missing instance or a stale try, and applies the rest', () =>
        withStore(async (store) => {
          const r = run();
          const a = ti({ runId: r.runId, taskId: 'a', state: 'up_for_retry', tryNumber: 2 });
          const b = ti({ runId: r.runId, taskId: 'b', state: 'none', tryNumber: 0 });
          await store.createRun(r, [a, b]);
          const result = await store.updateTis([
            {
              key: ti({ taskId: 'ghost' }),
              expect: { state: 'none', tryNumber: 0 },
              set: { state: 'skipped' },
            },
            {
              key: a,
              expect: { state: 'up_for_retry', tryNumber: 1 },
              set: { state: 'scheduled', tryNumber: 2 },
            },
            {
              key: b,
              expect: { state: 'none', tryNumber: 0 },
              set: { state: 'upstream_failed', endedAt: T0 },
            },
          ]);
          expect(result.applied.map((k) => k.taskId)).toEqual(['b']);
          expect(result.lost.map((k) => k.taskId)).toEqual(['ghost', 'a']);
          expect(await store.getTi(a)).toMatchObject({ state: 'up_for_retry', tryNumber: 2 });
          expect(await store.getTi(b)).toMatchObject({ state: 'upstream_failed', endedAt: T0 });
        }));

      it('gives one of two writers racing to change a new instance the change, and lists a large run whole', () =>
        withStore(async (store) => {
          const r = run();
          const tis = Array.from({ length: 1200 }, (_, i) =>
            ti({ runId: r.runId, taskId: `t${String(i).padStart(4, '0')}`, state: 'none', tryNumber: 0 }),
          );
          await store.createRun(r, tis);
          const listed = await store.listTis('etl', r.runId);
          expect(listed.map((t) => t.taskId)).toEqual(tis.map((t) => t.taskId));
          expect(listed[1100]).toEqual(tis[1100]);
          expect(await store.getTi(tis[999]!)).toEqual(tis[999]);
          const [a, b] = await Promise.all([
            store.updateTis([
              {
                key: tis[0]!,
                expect: { state: 'none', tryNumber: 0 },
                set: { state: 'scheduled', tryNumber: 1 },
              },
            ]),
            store.updateTis([
              { key: tis[0]!, expect: { state: 'none', tryNumber: 0 }, set: { state: 'skipped' } },
            ]),
          ]);
          expect(a.applied.length + b.applied.length).toBe(1);
          const after = (await store.getTi(tis[0]!))!;
          expect(after.state).toBe(a.applied.length === 1 ? 'scheduled' : 'skipped');
          expect((await store.listTis('etl', r.runId)).filter((t) => t.state !== 'none')).toEqual([after]);
        }));

      it('records and clears wait reasons without conditions', () =>
        withStore(async (store) => {
          const r = run();
          const a = ti({ runId: r.runId, taskId: 'a', state: 'none', tryNumber: 0 });
          await store.createRun(r, [a]);
          const reason: WaitReason = { kind: 'upstream_pending', pending: ['x', 'y'] };
          await store.setWaitReasons([{ key: a, reason }]);
          await store.setWaitReasons([{ key: a, reason }]);
          expect((await store.getTi(a))?.waitReason).toEqual(reason);
          expect((await store.listTis('etl', r.runId))[0]?.waitReason).toEqual(reason);
          await store.setWaitReasons([{ key: a, reason: null }]);
          expect((await store.getTi(a))?.waitReason).toBeNull();
          expect((await store.getTi(a))?.state).toBe('none');
        }));
    });

    describeClaims(withStore);
    describeConsistency(withStore);
    describeTries(withStore);

    describe('pools, backfills, import errors', () => {
      it('has a default_pool of 128 that cannot be deleted, and resizes below use', () =>
        withStore(async (store) => {
          expect((await store.getPool('default_pool'))?.slots).toBe(128);
          await expect(store.deletePool('default_pool')).rejects.toBeInstanceOf(ConflictError);
          await store.putPool({ name: 'gpu', slots: 4, description: '', includeDeferred: false });
          await store.putPool({ name: 'gpu', slots: 1, description: 'smaller', includeDeferred: false });
          expect((await store.getPool('gpu'))?.slots).toBe(1);
          expect((await store.listPools()).map((p) => p.name).sort()).toEqual(['default_pool', 'gpu']);
          expect(await store.deletePool('gpu')).toBe(true);
          expect(await store.deletePool('gpu')).toBe(false);
          expect(await store.getPool('gpu')).toBeNull();
          await store.putPool({ name: 'default_pool', slots: 4, description: '', includeDeferred: false });
          expect((await store.getPool('default_pool'))?.slots).toBe(4);
          expect((await store.listPools()).map((p) => p.name)).toEqual(['default_pool']);
        }));

      it('creates a pool only when no pool has its name, default_pool included', () =>
        withStore(async (store) => {
          const gpu = { name: 'gpu', slots: 4, description: 'GPUs', includeDeferred: false };
          expect(await store.createPool(gpu)).toBe(true);
          expect(await store.createPool({ ...gpu, slots: 9 })).toBe(false);
          expect((await store.getPool('gpu'))?.slots).toBe(4);
          expect(await store.createPool({ ...gpu, name: 'default_pool' })).toBe(false);
          expect((await store.getPool('default_pool'))?.slots).toBe(128);
          expect(await store.deletePool('gpu')).toBe(true);
          expect(await store.createPool(gpu)).toBe(true);
        }));

      it('creates a backfill once and updates it only at the revision the writer read', () =>
        withStore(async (store) => {
          // Prepare
          const id = backfill().backfillId;
          expect(await store.createBackfill(backfill())).toEqual({ created: true });
          expect(await store.createBackfill(backfill({ maxActiveRuns: 3 }))).toEqual({ created: false });
          // Act: two writers read revision 0; the first wins, the second loses and changes nothing.
          const first = await store.updateBackfill(id, { revision: 0 }, { materialized: 2 });
          const second = await store.updateBackfill(id, { revision: 0 }, { cancelledAt: T0 });
          // Assess
          expect([first, second]).toEqual([true, false]);
          expect(await store.getBackfill(id)).toMatchObject({
            materialized: 2,
            cancelledAt: null,
            revision: 1,
            maxActiveRuns: 10,
          });
          expect(await store.updateBackfill(id, { revision: 1 }, { completedAt: T0 + 1 })).toBe(true);
          expect((await store.listBackfills('etl'))[0]).toMatchObject({ completedAt: T0 + 1, revision: 2 });
          expect(await store.updateBackfill('ghost', { revision: 0 }, { cancelledAt: T0 })).toBe(false);
          expect(await store.getBackfill('ghost')).toBeNull();
        }));

      it('lists unfinished backfills of every DAG, and drops them once completed or cancelled', () =>
        withStore(async (store) => {
          await store.createBackfill(backfill({ backfillId: 'b1' }));
          await store.createBackfill(backfill({ backfillId: 'b2' }));
          await store.createBackfill(backfill({ backfillId: 'o1', dagId: 'other' }));
          expect((await store.listUnfinishedBackfills()).map((b) => b.backfillId).sort()).toEqual([
            'b1',
            'b2',
            'o1',
          ]);
          await store.updateBackfill('b1', { revision: 0 }, { completedAt: T0 });
          await store.updateBackfill('o1', { revision: 0 }, { cancelledAt: T0 });
          expect((await store.listUnfinishedBackfills()).map((b) => b.backfillId)).toEqual(['b2']);
        }));

      it('lists the backfills of one DAG only', () =>
        withStore(async (store) => {
          await store.createBackfill(backfill({ backfillId: 'b1' }));
          await store.createBackfill(backfill({ backfillId: 'b2', createdAt: T0 + 1 }));
          await store.createBackfill(backfill({ backfillId: 'o1', dagId: 'other' }));
          expect((await store.listBackfills('etl')).map((b) => b.backfillId).sort()).toEqual(['b1', 'b2']);
          expect(await store.getBackfill('o1')).toEqual(backfill({ backfillId: 'o1', dagId: 'other' }));
          expect(await store.listBackfills('none')).toEqual([]);
        }));

      it('records and clears import errors', () =>
        withStore(async (store) => {
          await store.recordImportError(null, { fileloc: 'bad.ts', message: 'boom', at: T0 });
          expect(await store.listImportErrors()).toEqual([{ fileloc: 'bad.ts', message: 'boom', at: T0 }]);
          await store.clearImportError('bad.ts');
          expect(await store.listImportErrors()).toEqual([]);
        }));

      it('shows the latest import error of a DAG file on the DAG until it is cleared', () =>
        withStore(async (store) => {
          await store.registerDagVersion(manifest(), { now: T0, fileloc: 'etl.ts', warnings: [] });
          await store.recordImportError('etl', { fileloc: 'etl.ts', message: 'first', at: T0 });
          await store.recordImportError('etl', { fileloc: 'etl.ts', message: 'second', at: T0 + 1 });
          expect(await store.listImportErrors()).toEqual([
            { fileloc: 'etl.ts', message: 'second', at: T0 + 1 },
          ]);
          expect((await store.getDag('etl'))?.importError).toEqual({
            fileloc: 'etl.ts',
            message: 'second',
            at: T0 + 1,
          });
          await store.clearImportError('etl.ts');
          expect((await store.getDag('etl'))?.importError).toBeNull();
          expect(await store.listImportErrors()).toEqual([]);
        }));
    });
  });
}

export { describeStateStore };
