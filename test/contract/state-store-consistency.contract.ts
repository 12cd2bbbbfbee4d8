/**
 * The part of the state-store contract about what callers see across calls: a walk over a list's
 * pages sees every item that stays in the list exactly once, even while others leave it (the
 * scheduler and the sweep change what they page over), and a record belongs to the store once
 * written — changing what was written or read afterwards changes nothing stored.
 */
import { describe, expect, it } from 'vitest';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { StateStore } from '#ports';
import { run, T0, tiOf } from '../support/factories.ts';

type WithStore = (body: (store: StateStore) => Promise<void>) => Promise<void>;

const HOUR = 3_600_000;
const POOL: CounterKey = { kind: 'pool', pool: 'default_pool' };

/** Changes a record the way careless caller code would; a store may refuse (frozen), never be changed. */
function scribble(change: () => void): void {
  try {
    change();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
  }
}

function describeConsistency(withStore: WithStore): void {
  describe('pages while the list changes', () => {
    it('walks the unfinished runs of DAGs sharing run ids, seeing each once while others finish', () =>
      withStore(async (store) => {
        // Prepare: 12 DAGs × 2 dates; every DAG's runs have the same ids as the others'.
        const ids = Array.from({ length: 12 }, (_, i) => `dag_${String((i * 7) % 12).padStart(2, '0')}`);
        const all: string[] = [];
        for (const at of [T0 + HOUR, T0]) {
          for (const dagId of ids) {
            const r = run({ dagId, logicalDate: at, runId: `scheduled__${at}` });
            await store.createRun(r, []);
            all.push(`${dagId}/${r.runId}`);
          }
        }
        // Act: finish a run already seen after every page.
        const seen: string[] = [];
        const finished = new Set<string>();
        let cursor: string | null = null;
        do {
          const page = await store.listUnfinishedRuns({ limit: 5, cursor });
          seen.push(...page.items.map((r) => `${r.dagId}/${r.runId}`));
          const done = page.items[0];
          if (done) {
            const patch = { state: 'success' as const, endedAt: T0 };
            expect(await store.updateRun(done.dagId, done.runId, { state: 'running' }, patch)).toBe(true);
            finished.add(`${done.dagId}/${done.runId}`);
          }
          cursor = page.next;
        } while (cursor);
        // Assess
        expect(seen).toHaveLength(new Set(seen).size);
        expect([...seen].sort()).toEqual([...all].sort());
        expect(finished.size).toBeGreaterThanOrEqual(5);
      }));

    it('walks the holding instances, seeing each once while tries already seen end', () =>
      withStore(async (store) => {
        const r = run();
        const tis = Array.from({ length: 25 }, (_, i) => tiOf(r, { taskId: `t${(i * 11) % 25}` }));
        await store.createRun(r, tis);
        const claimed = await store.claim(
          tis.map((t) => ({
            key: t,
            tryNumber: 1,
            holds: [{ counter: POOL, amount: 1, limit: -1 }],
            queuedAt: T0,
          })),
        );
        expect(claimed.claimed).toHaveLength(25);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listHoldingTis({ limit: 4, cursor });
          seen.push(...page.items.map((t) => t.taskId));
          for (const t of page.items.slice(0, 2)) {
            const end = {
              key: t,
              expect: { state: 'queued' as const, tryNumber: 1 },
              set: { state: 'failed' as const },
            };
            expect(await store.endTry(end)).toBe(true);
          }
          cursor = page.next;
        } while (cursor);
        expect(seen).toHaveLength(25);
        expect(new Set(seen).size).toBe(25);
      }));
  });

  describe('records belong to the store', () => {
    it('keeps what was written as it was, whatever the caller does to its objects afterwards', () =>
      withStore(async (store) => {
        // Prepare
        const conf = { target: { table: 'sales' } };
        const r = run({ conf });
        const a = tiOf(r, { taskId: 'a' });
        const b = tiOf(r, { taskId: 'b', state: 'none', tryNumber: 0 });
        await store.createRun(r, [a, b]);
        const counter: CounterKey = { kind: 'pool', pool: 'default_pool' };
        await store.claim([
          { key: a, tryNumber: 1, holds: [{ counter, amount: 2, limit: 10 }], queuedAt: T0 },
        ]);
        await store.startTry(a, 1, { now: T0, workerId: 'w' });
        const result = { rows: [1, 2] };
        await store.endTry({
          key: a,
          expect: { state: 'running', tryNumber: 1 },
          set: { state: 'success', result },
        });
        const reason = { kind: 'upstream_pending' as const, pending: ['a'] };
        await store.setWaitReasons([{ key: b, reason }]);
        // Act: the caller goes on using its own objects (this must not throw).
        conf.target.table = 'changed';
        result.rows.push(3);
        reason.pending.push('x');
        (counter as { pool: string }).pool = 'changed';
        // Assess
        expect((await store.getRun('etl', r.runId))?.conf).toEqual({ target: { table: 'sales' } });
        expect((await store.getTi(a))?.result).toEqual({ rows: [1, 2] });
        expect((await store.getTi(b))?.waitReason).toEqual({ kind: 'upstream_pending', pending: ['a'] });
        expect(await store.listCounters()).toEqual([{ key: POOL, used: 0 }]);
      }));

    it('keeps a record as it was when a caller changes what it read', () =>
      withStore(async (store) => {
        const r = run({ conf: { n: 1 } });
        const a = tiOf(r);
        await store.createRun(r, [a]);
        await store.claim([
          { key: a, tryNumber: 1, holds: [{ counter: POOL, amount: 1, limit: 10 }], queuedAt: T0 },
        ]);
        const readTi = (await store.getTi(a))!;
        const [listed] = (await store.listHoldingTis()).items as [TaskInstance];
        const readRun = (await store.getRun('etl', r.runId))!;
        scribble(() => {
          readTi.state = 'success';
        });
        scribble(() => readTi.holds.pop());
        scribble(() => listed.holds.push({ counter: POOL, amount: 5 }));
        scribble(() => {
          readRun.conf.n = 2;
        });
        expect(await store.getTi(a)).toMatchObject({
          state: 'queued',
          holds: [{ counter: POOL, amount: 1 }],
        });
        expect((await store.getRun('etl', r.runId))?.conf).toEqual({ n: 1 });
        expect(
          await store.endTry({ key: a, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } }),
        ).toBe(true);
        expect((await store.readCounters([POOL]))[0]?.used).toBe(0);
      }));

    it('never changes a record it handed out when it writes that instance later', () =>
      withStore(async (store) => {
        // Prepare: one instance, read (by key, by run, by listing) before each write of its life.
        const r = run();
        const a = tiOf(r, { taskId: 'a' });
        await store.createRun(r, [a]);
        const handed: { record: TaskInstance; copy: TaskInstance }[] = [];
        const keep = (record: TaskInstance | null | undefined) => {
          expect(record).toBeTruthy();
          handed.push({ record: record!, copy: structuredClone(record!) });
        };
        const readAll = async () => {
          keep(await store.getTi(a));
          keep((await store.listTis('etl', r.runId))[0]);
        };
        // Act
        await readAll();
        keep((await store.listClaimCandidates({ pool: 'default_pool', limit: 10 })).items[0]);
        await store.setWaitReasons([{ key: a, reason: { kind: 'parallelism', used: 1, limit: 1 } }]);
        await readAll();
        await store.updateTis([
          { key: a, expect: { state: 'scheduled', tryNumber: 1 }, set: { dispatchAttempts: 2 } },
        ]);
        await readAll();
        await store.claim([
          { key: a, tryNumber: 1, holds: [{ counter: POOL, amount: 1, limit: 10 }], queuedAt: T0 },
        ]);
        await readAll();
        keep((await store.listHoldingTis()).items[0]);
        await store.startTry(a, 1, { now: T0 + 1, workerId: 'w' });
        await readAll();
        await store.heartbeat(a, 1, T0 + 2);
        await readAll();
        await store.endTry({
          key: a,
          expect: { state: 'running', tryNumber: 1 },
          set: { state: 'up_for_retry', nextRetryAt: T0 + 9, endedAt: T0 + 3 },
        });
        await readAll();
        keep((await store.listDueWaits(T0 + 10, 10))[0]);
        await store.updateTis([
          {
            key: a,
            expect: { state: 'up_for_retry', tryNumber: 1 },
            set: { state: 'scheduled', tryNumber: 2, nextRetryAt: null },
          },
        ]);
        // Assess: every record handed out is as it was when handed out; the last read sees the last write.
        for (const { record, copy } of handed) expect(record).toEqual(copy);
        expect(new Set(handed.map((h) => h.record.heartbeatAt))).toEqual(new Set([null, T0 + 1, T0 + 2]));
        expect(await store.getTi(a)).toMatchObject({
          state: 'scheduled',
          tryNumber: 2,
          dispatchAttempts: 2,
          holds: [],
        });
      }));
  });
}

export { describeConsistency };
