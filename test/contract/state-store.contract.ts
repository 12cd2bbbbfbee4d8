/**
 * The state-store contract: what every implementation of the `StateStore` port must do, written
 * against the port only. Each implementation's test file calls `describeStateStore` with a factory.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#core/errors.ts';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { ClaimRequest, StateStore } from '#ports';
import { backfill, manifest, run, T0, ti } from '../support/factories.ts';

type MakeStore = () => Promise<{ store: StateStore; cleanup: () => Promise<void> }>;

const GLOBAL: CounterKey = { kind: 'global' };
const POOL: CounterKey = { kind: 'pool', pool: 'default_pool' };

function claimOf(
  t: TaskInstance,
  holds: ClaimRequest['holds'] = [{ counter: GLOBAL, amount: 1, limit: 10 }],
): ClaimRequest {
  return { key: t, tryNumber: t.tryNumber, holds, queuedAt: T0 + 1 };
}

async function used(store: StateStore, key: CounterKey): Promise<number> {
  return (await store.readCounters([key]))[0]!.used;
}

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
    });

    describe('claims', () => {
      async function scheduled(
        store: StateStore,
        n: number,
        patch: (i: number) => Partial<TaskInstance> = () => ({}),
      ) {
        const r = run();
        const tis = Array.from({ length: n }, (_, i) =>
          ti({ runId: r.runId, taskId: `t${String(i).padStart(3, '0')}`, ...patch(i) }),
        );
        await store.createRun(r, tis);
        return tis;
      }

      it('moves a scheduled instance to queued and raises its counters', () =>
        withStore(async (store) => {
          const [a] = await scheduled(store, 1);
          const result = await store.claim([
            claimOf(a!, [
              { counter: GLOBAL, amount: 1, limit: 32 },
              { counter: POOL, amount: 3, limit: 128 },
            ]),
          ]);
          expect(result.claimed).toHaveLength(1);
          expect((await store.getTi(a!))?.state).toBe('queued');
          expect([await used(store, GLOBAL), await used(store, POOL)]).toEqual([1, 3]);
        }));

      it('loses a claim on a stale try without touching counters', () =>
        withStore(async (store) => {
          const [a] = await scheduled(store, 1);
          const result = await store.claim([{ ...claimOf(a!), tryNumber: 7 }]);
          expect(result.lost).toEqual([
            { key: expect.objectContaining({ taskId: a!.taskId }), reason: 'ti_changed' },
          ]);
          expect(await used(store, GLOBAL)).toBe(0);
        }));

      it('gives the last slot to exactly one of two requests sharing a counter', () =>
        withStore(async (store) => {
          const [a, b] = await scheduled(store, 2);
          const holds = [{ counter: POOL, amount: 1, limit: 1 }];
          const result = await store.claim([claimOf(a!, holds), claimOf(b!, holds)]);
          expect(result.claimed).toHaveLength(1);
          expect(result.lost).toEqual([{ key: expect.anything(), reason: 'limit_reached', counter: POOL }]);
          expect(await used(store, POOL)).toBe(1);
        }));

      it('raises an unlimited (-1) counter without limit', () =>
        withStore(async (store) => {
          const tis = await scheduled(store, 5);
          const result = await store.claim(
            tis.map((t) => claimOf(t, [{ counter: POOL, amount: 10, limit: -1 }])),
          );
          expect(result.claimed).toHaveLength(5);
          expect(await used(store, POOL)).toBe(50);
        }));

      it('claims a batch of 100', () =>
        withStore(async (store) => {
          const tis = await scheduled(store, 100);
          const result = await store.claim(
            tis.map((t) => claimOf(t, [{ counter: GLOBAL, amount: 1, limit: 100 }])),
          );
          expect(result.claimed).toHaveLength(100);
          expect(await used(store, GLOBAL)).toBe(100);
        }));

      it('starts a try once, heartbeats it while running, and releases its holds exactly once', () =>
        withStore(async (store) => {
          const [a] = await scheduled(store, 1);
          await store.claim([claimOf(a!, [{ counter: POOL, amount: 2, limit: 128 }])]);
          expect(await store.heartbeat(a!, 1, T0 + 2)).toBe(false);
          expect(await store.startTry(a!, 1, { now: T0 + 2, workerId: 'w1' })).toBe(true);
          expect(await store.startTry(a!, 1, { now: T0 + 3, workerId: 'w2' })).toBe(false);
          expect(await store.heartbeat(a!, 1, T0 + 4)).toBe(true);
          const end = {
            key: a!,
            expect: { state: 'running' as const, tryNumber: 1 },
            set: { state: 'success' as const, endedAt: T0 + 5 },
          };
          expect(await store.endTry(end)).toBe(true);
          expect(await store.endTry(end)).toBe(false);
          expect(await used(store, POOL)).toBe(0);
          expect((await store.getTi(a!))?.holds).toEqual([]);
        }));

      it('lists candidates in claim order, leaves out excluded DAGs and tasks, and pages', () =>
        withStore(async (store) => {
          await scheduled(store, 250, (i) => ({ priorityWeight: i % 7, logicalDate: T0 + (i % 3) }));
          const seen: TaskInstance[] = [];
          let cursor: string | null = null;
          do {
            const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 40, cursor });
            seen.push(...page.items);
            cursor = page.next;
          } while (cursor);
          expect(seen).toHaveLength(250);
          for (let i = 1; i < seen.length; i += 1) {
            const [p, q] = [seen[i - 1]!, seen[i]!];
            const ordered =
              p.priorityWeight > q.priorityWeight ||
              (p.priorityWeight === q.priorityWeight &&
                (p.logicalDate < q.logicalDate || (p.logicalDate === q.logicalDate && p.taskId < q.taskId)));
            expect(ordered).toBe(true);
          }
          const excluded = await store.listClaimCandidates({
            pool: 'default_pool',
            limit: 300,
            exclude: { tasks: [{ dagId: 'etl', taskId: 't000' }] },
          });
          expect(excluded.items).toHaveLength(249);
          expect(
            (
              await store.listClaimCandidates({
                pool: 'default_pool',
                limit: 10,
                exclude: { dagIds: ['etl'] },
              })
            ).items,
          ).toEqual([]);
        }));

      it('lists every counter it raised, with its value', () =>
        withStore(async (store) => {
          const [a, b] = await scheduled(store, 2);
          await store.claim([claimOf(a!, [{ counter: POOL, amount: 2, limit: 128 }]), claimOf(b!)]);
          const counters = await store.listCounters();
          const byKey = Object.fromEntries(counters.map((c) => [c.key.kind, c.used]));
          expect(byKey).toEqual({ pool: 2, global: 1 });
        }));

      it('lists holding instances and due waits', () =>
        withStore(async (store) => {
          const r = run();
          await store.createRun(r, [
            ti({ runId: r.runId, taskId: 'q', state: 'scheduled' }),
            ti({ runId: r.runId, taskId: 'retry_due', state: 'up_for_retry', nextRetryAt: T0 - 1 }),
            ti({ runId: r.runId, taskId: 'retry_now', state: 'up_for_retry', nextRetryAt: T0 }),
            ti({ runId: r.runId, taskId: 'poke_now', state: 'up_for_reschedule', rescheduleAt: T0 }),
          ]);
          await store.claim([claimOf(ti({ runId: r.runId, taskId: 'q' }))]);
          expect((await store.listHoldingTis()).items.map((t) => t.taskId)).toEqual(['q']);
          // Retries are due strictly after their time; reschedules at it.
          expect((await store.listDueWaits(T0, 10)).map((t) => t.taskId).sort()).toEqual([
            'poke_now',
            'retry_due',
          ]);
        }));
    });

    describe('pools, backfills, import errors', () => {
      it('has a default_pool of 128 that cannot be deleted, and resizes below use', () =>
        withStore(async (store) => {
          expect((await store.getPool('default_pool'))?.slots).toBe(128);
          await expect(store.deletePool('default_pool')).rejects.toBeInstanceOf(ConflictError);
          await store.putPool({ name: 'gpu', slots: 4, description: '', includeDeferred: false });
          await store.putPool({ name: 'gpu', slots: 1, description: 'smaller', includeDeferred: false });
          expect((await store.getPool('gpu'))?.slots).toBe(1);
          expect(await store.deletePool('gpu')).toBe(true);
          expect(await store.deletePool('gpu')).toBe(false);
        }));

      it('creates a backfill once and updates it', () =>
        withStore(async (store) => {
          expect(await store.createBackfill(backfill())).toEqual({ created: true });
          expect(await store.createBackfill(backfill())).toEqual({ created: false });
          expect(await store.updateBackfill(backfill().backfillId, { completedAt: T0 + 1 })).toBe(true);
          expect((await store.listBackfills('etl'))[0]?.completedAt).toBe(T0 + 1);
        }));

      it('records and clears import errors', () =>
        withStore(async (store) => {
          await store.recordImportError(null, { fileloc: 'bad.ts', message: 'boom', at: T0 });
          expect(await store.listImportErrors()).toEqual([{ fileloc: 'bad.ts', message: 'boom', at: T0 }]);
          await store.clearImportError('bad.ts');
          expect(await store.listImportErrors()).toEqual([]);
        }));
    });
  });
}

export { describeStateStore };
