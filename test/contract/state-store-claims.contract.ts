/**
 * The claiming half of the state-store contract: claims, try starts and ends, counters, and the
 * indexes the scheduler and the sweep read (claim candidates, holders, due waits).
 */
import { describe, expect, it } from 'vitest';
import type { CounterKey, TaskInstance, TiKey } from '#core/model.ts';
import type { ClaimRequest, StateStore } from '#ports';
import { run, T0, ti } from '../support/factories.ts';

type WithStore = (body: (store: StateStore) => Promise<void>) => Promise<void>;

const GLOBAL: CounterKey = { kind: 'global' };
const POOL: CounterKey = { kind: 'pool', pool: 'default_pool' };
const DAG: CounterKey = { kind: 'dag', dagId: 'etl' };

function claimOf(
  t: TaskInstance,
  holds: ClaimRequest['holds'] = [{ counter: GLOBAL, amount: 1, limit: 10 }],
): ClaimRequest {
  return { key: t, tryNumber: t.tryNumber, holds, queuedAt: T0 + 1 };
}

async function used(store: StateStore, key: CounterKey): Promise<number> {
  return (await store.readCounters([key]))[0]!.used;
}

/** `n` scheduled instances of one new run (task ids t000, t001, …), each adjusted by `patch`. */
async function scheduled(
  store: StateStore,
  n: number,
  patch: (i: number) => Partial<TaskInstance> = () => ({}),
  runId = run().runId,
) {
  const r = run({ runId });
  const tis = Array.from({ length: n }, (_, i) =>
    ti({ runId: r.runId, taskId: `t${String(i).padStart(3, '0')}`, ...patch(i) }),
  );
  await store.createRun(r, tis);
  return tis;
}

const name = (k: TiKey) => `${k.runId}/${k.taskId}/${k.mapIndex}`;

/** Reads every page of claim candidates of a pool. */
async function allCandidates(store: StateStore, pool: string, limit: number): Promise<TaskInstance[]> {
  const seen: TaskInstance[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listClaimCandidates({ pool, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    seen.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return seen;
}

/** A claim that schedules `t` (read in state none, try 0, unless patched) and claims it at once. */
function scheduleClaimOf(
  t: TaskInstance,
  holds: ClaimRequest['holds'] = [{ counter: GLOBAL, amount: 1, limit: 10 }],
): ClaimRequest {
  const set = { state: 'scheduled' as const, tryNumber: t.tryNumber + 1, scheduledAt: T0, waitReason: null };
  return { key: t, tryNumber: t.tryNumber + 1, holds, queuedAt: T0 + 1, schedule: { read: t, set } };
}

/** `n` instances of one new run in state none (in DynamoDB they stay in the run's pending block). */
function pending(store: StateStore, n: number) {
  return scheduled(store, n, () => ({ state: 'none', tryNumber: 0, scheduledAt: null }));
}

function describeClaims(withStore: WithStore): void {
  describe('claims', () => {
    it('moves a scheduled instance to queued, records its holds and raises its counters', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        const result = await store.claim([
          claimOf(a!, [
            { counter: GLOBAL, amount: 1, limit: 32 },
            { counter: POOL, amount: 3, limit: 128 },
          ]),
        ]);
        expect(result).toEqual({ claimed: [expect.objectContaining({ taskId: 't000' })], lost: [] });
        const after = (await store.getTi(a!))!;
        expect(after).toMatchObject({ state: 'queued', queuedAt: T0 + 1, tryNumber: 1 });
        expect(after.holds).toEqual([
          { counter: GLOBAL, amount: 1 },
          { counter: POOL, amount: 3 },
        ]);
        expect([await used(store, GLOBAL), await used(store, POOL)]).toEqual([1, 3]);
      }));

    it('loses a claim on a stale try, a missing or a non-scheduled instance without touching counters', () =>
      withStore(async (store) => {
        const [a, b] = await scheduled(store, 2, (i) => (i === 1 ? { state: 'none', tryNumber: 0 } : {}));
        const ghost = ti({ taskId: 'ghost' });
        const result = await store.claim([{ ...claimOf(a!), tryNumber: 7 }, claimOf(b!), claimOf(ghost)]);
        expect(result.claimed).toEqual([]);
        expect(result.lost.map((l) => [l.key.taskId, l.reason])).toEqual([
          ['t000', 'ti_changed'],
          ['t001', 'ti_changed'],
          ['ghost', 'ti_changed'],
        ]);
        expect(await used(store, GLOBAL)).toBe(0);
        expect((await store.getTi(a!))?.state).toBe('scheduled');
      }));

    it('reports the full counter and leaves the instance scheduled when a limit is reached', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        const result = await store.claim([
          claimOf(a!, [
            { counter: GLOBAL, amount: 1, limit: 10 },
            { counter: DAG, amount: 1, limit: 0 },
          ]),
        ]);
        expect(result.lost).toEqual([
          { key: expect.objectContaining({ taskId: 't000' }), reason: 'limit_reached', counter: DAG },
        ]);
        expect((await store.getTi(a!))?.state).toBe('scheduled');
        expect([await used(store, GLOBAL), await used(store, DAG)]).toEqual([0, 0]);
      }));

    it('gives the last slot to exactly one of two requests sharing a counter', () =>
      withStore(async (store) => {
        const [a, b] = await scheduled(store, 2);
        const holds = [{ counter: POOL, amount: 1, limit: 1 }];
        const result = await store.claim([claimOf(a!, holds), claimOf(b!, holds)]);
        expect(result.claimed).toHaveLength(1);
        expect(result.lost).toEqual([{ key: expect.anything(), reason: 'limit_reached', counter: POOL }]);
        expect(await used(store, POOL)).toBe(1);
        const states = [(await store.getTi(a!))!.state, (await store.getTi(b!))!.state].sort();
        expect(states).toEqual(['queued', 'scheduled']);
      }));

    it('claims one instance once even when a batch names it twice', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        const result = await store.claim([claimOf(a!), claimOf(a!)]);
        expect(result.claimed).toHaveLength(1);
        expect(result.lost).toEqual([{ key: expect.anything(), reason: 'ti_changed' }]);
        expect(await used(store, GLOBAL)).toBe(1);
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

    it('clears the wait reason of an instance it claims, in the same write', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        await store.setWaitReasons([
          { key: a!, reason: { kind: 'pool_full', pool: 'p', used: 1, slots: 1, needs: 1 } },
        ]);
        expect((await store.claim([claimOf(a!)])).claimed).toHaveLength(1);
        expect((await store.getTi(a!))?.waitReason).toBeNull();
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

    it('counts what earlier requests of a batch raised: 100 requests for 60 slots claim exactly 60', () =>
      withStore(async (store) => {
        const tis = await scheduled(store, 100);
        const result = await store.claim(
          tis.map((t) => claimOf(t, [{ counter: POOL, amount: 2, limit: 120 }])),
        );
        expect(result.claimed).toHaveLength(60);
        expect(result.lost).toHaveLength(40);
        for (const lost of result.lost)
          expect(lost).toMatchObject({ reason: 'limit_reached', counter: POOL });
        expect(await used(store, POOL)).toBe(120);
      }));

    it('starts a try once, heartbeats it while running, and releases its holds exactly once', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        await store.claim([claimOf(a!, [{ counter: POOL, amount: 2, limit: 128 }])]);
        expect(await store.heartbeat(a!, 1, T0 + 2)).toBe(false);
        expect(await store.startTry(a!, 2, { now: T0 + 2, workerId: 'stale' })).toBeNull();
        const started = await store.startTry(a!, 1, { now: T0 + 2, workerId: 'w1' });
        expect(await store.startTry(a!, 1, { now: T0 + 3, workerId: 'w2' })).toBeNull();
        const running = {
          state: 'running',
          tryNumber: 1,
          startedAt: T0 + 2,
          heartbeatAt: T0 + 2,
          workerId: 'w1',
        };
        // The start answers with the instance as it left it, so a worker need not read it first.
        expect(started).toEqual(await store.getTi(a!));
        expect(started).toMatchObject({
          ...running,
          taskId: a!.taskId,
          holds: [{ counter: POOL, amount: 2 }],
        });
        expect(await store.heartbeat(a!, 1, T0 + 4)).toBe(true);
        expect((await store.getTi(a!))?.heartbeatAt).toBe(T0 + 4);
        const end = {
          key: a!,
          expect: { state: 'running' as const, tryNumber: 1 },
          set: { state: 'success' as const, endedAt: T0 + 5 },
        };
        expect(await store.endTry({ ...end, expect: { state: 'running', tryNumber: 2 } })).toBe(false);
        expect(await used(store, POOL)).toBe(2);
        expect(await store.endTry(end)).toBe(true);
        expect(await store.endTry(end)).toBe(false);
        expect(await store.heartbeat(a!, 1, T0 + 6)).toBe(false);
        expect(await used(store, POOL)).toBe(0);
        expect(await store.getTi(a!)).toMatchObject({ state: 'success', endedAt: T0 + 5, holds: [] });
      }));

    it('ends a try still in queued (stuck) and releases its holds', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        await store.claim([claimOf(a!)]);
        const end = {
          key: a!,
          expect: { state: 'queued' as const, tryNumber: 1 },
          set: { state: 'scheduled' as const },
        };
        expect(await store.endTry(end)).toBe(true);
        expect(await used(store, GLOBAL)).toBe(0);
        expect((await store.getTi(a!))?.state).toBe('scheduled');
      }));

    it('leaves every counter at 0 once every claimed try has ended', () =>
      withStore(async (store) => {
        const tis = await scheduled(store, 30, (i) => ({ poolSlots: 1 + (i % 3) }));
        const result = await store.claim(
          tis.map((t) =>
            claimOf(t, [
              { counter: GLOBAL, amount: 1, limit: 32 },
              { counter: POOL, amount: t.poolSlots, limit: 128 },
              { counter: DAG, amount: 1, limit: 16 },
              { counter: { kind: 'task', dagId: 'etl', taskId: t.taskId }, amount: 1, limit: 1 },
            ]),
          ),
        );
        expect(result.claimed).toHaveLength(16);
        expect(await used(store, DAG)).toBe(16);
        for (const [i, key] of result.claimed.entries()) {
          if (i % 2 === 0) await store.startTry(key, 1, { now: T0 + 2, workerId: 'w' });
          const state = i % 2 === 0 ? ('running' as const) : ('queued' as const);
          const ended = await store.endTry({
            key,
            expect: { state, tryNumber: 1 },
            set: { state: 'failed' },
          });
          expect(ended).toBe(true);
        }
        const counters = await store.listCounters();
        expect(counters.length).toBeGreaterThanOrEqual(3);
        for (const c of counters) expect(c).toMatchObject({ used: 0 });
      }));

    it('reconciles to nothing to report or repair while slots are held and after they are released', () =>
      withStore(async (store) => {
        // Prepare
        const tis = await scheduled(store, 6, (i) => ({ poolSlots: 1 + (i % 2) }));
        const result = await store.claim(
          tis.map((t) =>
            claimOf(t, [
              { counter: GLOBAL, amount: 1, limit: 32 },
              { counter: POOL, amount: t.poolSlots, limit: 128 },
              { counter: DAG, amount: 1, limit: 4 },
            ]),
          ),
        );
        expect(result.claimed).toHaveLength(4);
        await store.startTry(result.claimed[0]!, 1, { now: T0 + 2, workerId: 'w' });
        await store.endTry({
          key: result.claimed[1]!,
          expect: { state: 'queued', tryNumber: 1 },
          set: { state: 'failed' },
        });
        // Act
        const holding = await store.reconcileCounters({ repair: true });
        for (const [i, key] of result.claimed.entries()) {
          if (i === 1) continue;
          const state = i === 0 ? ('running' as const) : ('queued' as const);
          await store.endTry({ key, expect: { state, tryNumber: 1 }, set: { state: 'failed' } });
        }
        const atRest = await store.reconcileCounters({ repair: true });
        // Assess
        expect(holding).toEqual({ drift: [], repaired: [], unsettled: 0 });
        expect(atRest).toEqual({ drift: [], repaired: [], unsettled: 0 });
        expect(await used(store, DAG)).toBe(0);
      }));

    it('still finds the holders of a run marked finished while its tries hold slots, until they end', () =>
      withStore(async (store) => {
        // Prepare: a run marked failed (an operator's mark) while one try runs and one is queued
        const r = run();
        const tis = await scheduled(store, 2, () => ({}), r.runId);
        const holds = [
          { counter: GLOBAL, amount: 1, limit: 32 },
          { counter: POOL, amount: 1, limit: 128 },
        ];
        await store.claim(tis.map((t) => claimOf(t, holds)));
        await store.startTry(tis[0]!, 1, { now: T0 + 2, workerId: 'w' });
        expect(await store.updateRun(r.dagId, r.runId, { state: 'running' }, { state: 'failed' })).toBe(true);
        // Act, assess: the run is finished, yet its holders are still listed and counted
        expect((await store.listUnfinishedRuns()).items.map((u) => u.runId)).not.toContain(r.runId);
        const held = (await store.listHoldingTis()).items.map((t) => [t.taskId, t.state]);
        expect(held.sort()).toEqual([
          ['t000', 'running'],
          ['t001', 'queued'],
        ]);
        expect(await store.reconcileCounters({ repair: true })).toEqual({
          drift: [],
          repaired: [],
          unsettled: 0,
        });
        expect(await used(store, POOL)).toBe(2);
        // … and once their tries end nothing is held, nothing drifted, and the run stays finished
        await store.endTry({
          key: tis[0]!,
          expect: { state: 'running', tryNumber: 1 },
          set: { state: 'failed' },
        });
        await store.endTry({
          key: tis[1]!,
          expect: { state: 'queued', tryNumber: 1 },
          set: { state: 'failed' },
        });
        expect(await store.reconcileCounters({ repair: true })).toEqual({
          drift: [],
          repaired: [],
          unsettled: 0,
        });
        expect((await store.listHoldingTis()).items).toEqual([]);
        expect(await used(store, POOL)).toBe(0);
        expect((await store.listUnfinishedRuns()).items.map((u) => u.runId)).not.toContain(r.runId);
        expect((await store.getRun(r.dagId, r.runId))?.state).toBe('failed');
      }));

    it('lists every counter it raised, with its value', () =>
      withStore(async (store) => {
        const [a, b] = await scheduled(store, 2);
        await store.claim([claimOf(a!, [{ counter: POOL, amount: 2, limit: 128 }]), claimOf(b!)]);
        const counters = await store.listCounters();
        const byKey = Object.fromEntries(counters.map((c) => [c.key.kind, c.used]));
        expect(byKey).toEqual({ pool: 2, global: 1 });
        expect(await store.readCounters([{ kind: 'executor', executor: 'fargate' }])).toEqual([
          { key: { kind: 'executor', executor: 'fargate' }, used: 0 },
        ]);
      }));
  });

  describe('scheduling and claiming at once (ClaimRequest.schedule)', () => {
    it('moves an instance from none straight to queued with the scheduling change, never listed as scheduled', () =>
      withStore(async (store) => {
        const [a] = await pending(store, 1);
        const result = await store.claim([
          scheduleClaimOf(a!, [
            { counter: GLOBAL, amount: 1, limit: 32 },
            { counter: POOL, amount: 2, limit: 128 },
          ]),
        ]);
        expect(result).toEqual({ claimed: [expect.objectContaining({ taskId: 't000' })], lost: [] });
        const after = (await store.getTi(a!))!;
        expect(after).toMatchObject({ state: 'queued', tryNumber: 1, queuedAt: T0 + 1, scheduledAt: T0 });
        expect(after.waitReason).toBeNull();
        expect(after.holds).toEqual([
          { counter: GLOBAL, amount: 1 },
          { counter: POOL, amount: 2 },
        ]);
        expect([await used(store, GLOBAL), await used(store, POOL)]).toEqual([1, 2]);
        expect(await allCandidates(store, 'default_pool', 10)).toEqual([]);
        expect((await store.listTis(a!.dagId, a!.runId)).map((t) => [t.taskId, t.state])).toEqual([
          ['t000', 'queued'],
        ]);
        // From here it is an ordinary claimed try.
        expect(await store.startTry(a!, 1, { now: T0 + 2, workerId: 'w' })).not.toBeNull();
        const end = { key: a!, expect: { state: 'running' as const, tryNumber: 1 } };
        expect(await store.endTry({ ...end, set: { state: 'success', endedAt: T0 + 3 } })).toBe(true);
        expect([await used(store, GLOBAL), await used(store, POOL)]).toEqual([0, 0]);
      }));

    it('loses to a writer that scheduled the instance first, and the other way round', () =>
      withStore(async (store) => {
        const [a, b] = await pending(store, 2);
        const toScheduled = (t: TaskInstance) => ({
          key: t,
          expect: { state: 'none' as const, tryNumber: 0 },
          set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
        });
        expect((await store.updateTis([toScheduled(a!)])).applied).toHaveLength(1);
        const result = await store.claim([scheduleClaimOf(a!), scheduleClaimOf(b!)]);
        expect(result.claimed.map((k) => k.taskId)).toEqual(['t001']);
        expect(result.lost).toEqual([
          { key: expect.objectContaining({ taskId: 't000' }), reason: 'ti_changed' },
        ]);
        expect(await used(store, GLOBAL)).toBe(1);
        expect((await store.getTi(a!))?.state).toBe('scheduled');
        expect((await allCandidates(store, 'default_pool', 10)).map((t) => t.taskId)).toEqual(['t000']);
        // The claimed one is no longer in none: scheduling it again loses.
        expect((await store.updateTis([toScheduled(b!)])).lost).toHaveLength(1);
        expect((await store.getTi(b!))?.state).toBe('queued');
      }));

    it('leaves the instance as read when a limit is reached, and a plain claim beside it still fits', () =>
      withStore(async (store) => {
        const [a] = await pending(store, 1);
        const [b] = await scheduled(store, 1, () => ({}), 'other_run');
        const holds = [{ counter: POOL, amount: 1, limit: 1 }];
        const result = await store.claim([claimOf(b!, holds), scheduleClaimOf(a!, holds)]);
        expect(result.claimed.map((k) => k.runId)).toEqual(['other_run']);
        expect(result.lost).toEqual([
          { key: expect.objectContaining({ taskId: 't000' }), reason: 'limit_reached', counter: POOL },
        ]);
        expect(await store.getTi(a!)).toMatchObject({ state: 'none', tryNumber: 0, holds: [] });
        expect(await used(store, POOL)).toBe(1);
        // Still as read: scheduling it is not lost.
        const set = { state: 'scheduled' as const, tryNumber: 1 };
        expect(
          (await store.updateTis([{ key: a!, expect: { state: 'none', tryNumber: 0 }, set }])).applied,
        ).toHaveLength(1);
      }));

    it('claims an instance in none that already has an item (a wait reason), clearing its reason', () =>
      withStore(async (store) => {
        const [a] = await pending(store, 1);
        await store.setWaitReasons([{ key: a!, reason: { kind: 'upstream_pending', pending: ['up'] } }]);
        const read = (await store.getTi(a!))!;
        expect(read.waitReason).not.toBeNull();
        expect((await store.claim([scheduleClaimOf(read)])).claimed).toHaveLength(1);
        expect(await store.getTi(a!)).toMatchObject({ state: 'queued', tryNumber: 1, waitReason: null });
        // A stale read (try 0 again) of an instance that moved on loses.
        expect((await store.claim([scheduleClaimOf(read)])).lost).toEqual([
          { key: expect.anything(), reason: 'ti_changed' },
        ]);
        expect(await used(store, GLOBAL)).toBe(1);
      }));

    it('claims a due retry in its next try, keeping the history of the tries before and leaving the due waits', () =>
      withStore(async (store) => {
        const [a] = await scheduled(store, 1);
        await store.claim([claimOf(a!)]);
        await store.startTry(a!, 1, { now: T0 + 2, workerId: 'w' });
        const set = { state: 'up_for_retry' as const, endedAt: T0 + 3, nextRetryAt: T0 + 4, error: 'boom' };
        await store.endTry({ key: a!, expect: { state: 'running', tryNumber: 1 }, set });
        const read = (await store.getTi(a!))!;
        expect((await store.listDueWaits(T0 + 5, 10)).map((t) => t.taskId)).toEqual(['t000']);
        const retry = {
          state: 'scheduled' as const,
          tryNumber: 2,
          scheduledAt: T0 + 5,
          nextRetryAt: null,
          waitReason: null,
        };
        const request = { ...claimOf(read), tryNumber: 2, schedule: { read, set: retry } };
        expect((await store.claim([request])).claimed).toHaveLength(1);
        expect(await store.getTi(a!)).toMatchObject({ state: 'queued', tryNumber: 2, nextRetryAt: null });
        expect(await store.listDueWaits(T0 + 5, 10)).toEqual([]);
        expect((await store.listTries(a!)).map((t) => [t.tryNumber, t.state])).toEqual([[1, 'up_for_retry']]);
        expect(await used(store, GLOBAL)).toBe(1);
      }));
  });

  describe('claim candidates', () => {
    it('lists candidates in claim order over pages, leaving out excluded DAGs and tasks', () =>
      withStore(async (store) => {
        await scheduled(store, 250, (i) => ({ priorityWeight: i % 7, logicalDate: T0 + (i % 3) }));
        const seen = await allCandidates(store, 'default_pool', 40);
        expect(seen).toHaveLength(250);
        expect(new Set(seen.map(name)).size).toBe(250);
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
        expect(excluded.items.map((t) => t.taskId)).not.toContain('t000');
        const none = await store.listClaimCandidates({
          pool: 'default_pool',
          limit: 10,
          exclude: { dagIds: ['etl'] },
        });
        expect(none.items).toEqual([]);
      }));

    it('lists work scheduled while its DAG is at its limit once a try of that DAG ends, and claims it', () =>
      withStore(async (store) => {
        const limit = [{ counter: DAG, amount: 1, limit: 1 }];
        const [a] = await scheduled(store, 1);
        expect((await store.claim([claimOf(a!, limit)])).claimed).toHaveLength(1);
        // A second run's instances become scheduled while the DAG's one slot is held.
        const later = await scheduled(store, 3, () => ({ state: 'none', tryNumber: 0 }), 'manual__later');
        const { applied } = await store.updateTis(
          later.map((t) => ({
            key: t,
            expect: { state: 'none', tryNumber: 0 },
            set: { state: 'scheduled', tryNumber: 1 },
          })),
        );
        expect(applied).toHaveLength(3);
        // Still claimable directly (the counters decide), even while a store keeps it out of listings.
        expect((await store.claim([claimOf({ ...later[2]!, tryNumber: 1 }, limit)])).lost).toEqual([
          expect.objectContaining({ reason: 'limit_reached' }),
        ]);
        expect(
          await store.endTry({
            key: a!,
            expect: { state: 'queued', tryNumber: 1 },
            set: { state: 'success' },
          }),
        ).toBe(true);
        const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
        expect(page.items.map((t) => t.taskId)).toContain('t000');
        const first = page.items.find((t) => t.runId === 'manual__later')!;
        expect(first).toMatchObject({ state: 'scheduled', tryNumber: 1 });
        expect((await store.claim([claimOf(first, limit)])).claimed).toHaveLength(1);
        expect(await used(store, DAG)).toBe(1);
      }));

    it('breaks ties by DAG, run, task and map index, comparing ids by code unit', () =>
      withStore(async (store) => {
        const r1 = run({ dagId: 'b', runId: 'r1' });
        const r2 = run({ dagId: 'a', runId: 'r2' });
        const r3 = run({ dagId: 'a', runId: 'R3' });
        await store.createRun(r1, [ti({ dagId: 'b', runId: 'r1', taskId: 'x' })]);
        await store.createRun(r2, [
          ti({ dagId: 'a', runId: 'r2', taskId: 'y', mapIndex: 10 }),
          ti({ dagId: 'a', runId: 'r2', taskId: 'y', mapIndex: 2 }),
          ti({ dagId: 'a', runId: 'r2', taskId: 'Z' }),
        ]);
        await store.createRun(r3, [ti({ dagId: 'a', runId: 'R3', taskId: 'y' })]);
        const seen = await allCandidates(store, 'default_pool', 2);
        expect(seen.map((t) => `${t.dagId}/${name(t)}`)).toEqual([
          'a/R3/y/-1',
          'a/r2/Z/-1',
          'a/r2/y/2',
          'a/r2/y/10',
          'b/r1/x/-1',
        ]);
      }));

    it('lists only scheduled instances of the asked pool, with their current wait reason', () =>
      withStore(async (store) => {
        const tis = await scheduled(store, 6, (i) => ({
          pool: i < 4 ? 'default_pool' : 'gpu',
          state: i === 3 ? 'none' : 'scheduled',
        }));
        await store.claim([claimOf(tis[0]!)]);
        const reason = { kind: 'pool_full', pool: 'default_pool', used: 1, slots: 1, needs: 1 } as const;
        await store.setWaitReasons([{ key: tis[1]!, reason }]);
        const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
        expect(page.items.map((t) => t.taskId)).toEqual(['t001', 't002']);
        expect(page.items[0]?.waitReason).toEqual(reason);
        expect(page.next).toBeNull();
        const gpu = await store.listClaimCandidates({ pool: 'gpu', limit: 10 });
        expect(gpu.items.map((t) => t.taskId)).toEqual(['t004', 't005']);
        expect((await store.listClaimCandidates({ pool: 'nope', limit: 10 })).items).toEqual([]);
      }));

    it('continues after the cursor even when its item was claimed and new work arrived meanwhile', () =>
      withStore(async (store) => {
        const tis = await scheduled(store, 30, () => ({ priorityWeight: 5 }));
        const first = await store.listClaimCandidates({ pool: 'default_pool', limit: 10 });
        expect(first.items.map((t) => t.taskId)).toEqual(tis.slice(0, 10).map((t) => t.taskId));
        await store.claim([claimOf(first.items.at(-1)!, [])]);
        await scheduled(store, 3, () => ({ priorityWeight: 1 }), 'later');
        const second = await store.listClaimCandidates({
          pool: 'default_pool',
          limit: 10,
          cursor: first.next,
        });
        expect(second.items.map((t) => t.taskId)).toEqual(tis.slice(10, 20).map((t) => t.taskId));
      }));
  });

  describe('holders and waits', () => {
    it('lists queued and running instances page by page, and drops them when their try ends', () =>
      withStore(async (store) => {
        const tis = await scheduled(store, 25);
        await store.claim(
          tis.slice(0, 23).map((t) => claimOf(t, [{ counter: GLOBAL, amount: 1, limit: -1 }])),
        );
        await store.startTry(tis[0]!, 1, { now: T0 + 2, workerId: 'w' });
        await store.endTry({
          key: tis[1]!,
          expect: { state: 'queued', tryNumber: 1 },
          set: { state: 'failed' },
        });
        const seen: TaskInstance[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listHoldingTis({ limit: 10, cursor });
          expect(page.items.length).toBeLessThanOrEqual(10);
          seen.push(...page.items);
          cursor = page.next;
        } while (cursor);
        expect(seen.map((t) => t.taskId).sort()).toEqual(
          tis
            .slice(0, 23)
            .filter((_, i) => i !== 1)
            .map((t) => t.taskId),
        );
        expect(seen.find((t) => t.taskId === 't000')?.state).toBe('running');
      }));

    it('lists due retries (strictly after their time) and reschedules (at their time), earliest first, up to a limit', () =>
      withStore(async (store) => {
        const r = run();
        await store.createRun(r, [
          ti({ runId: r.runId, taskId: 'q', state: 'scheduled' }),
          ti({ runId: r.runId, taskId: 'retry_early', state: 'up_for_retry', nextRetryAt: T0 - 50 }),
          ti({ runId: r.runId, taskId: 'retry_due', state: 'up_for_retry', nextRetryAt: T0 - 1 }),
          ti({ runId: r.runId, taskId: 'retry_now', state: 'up_for_retry', nextRetryAt: T0 }),
          ti({ runId: r.runId, taskId: 'poke_now', state: 'up_for_reschedule', rescheduleAt: T0 }),
          ti({ runId: r.runId, taskId: 'poke_later', state: 'up_for_reschedule', rescheduleAt: T0 + 1 }),
        ]);
        await store.claim([claimOf(ti({ runId: r.runId, taskId: 'q' }))]);
        expect((await store.listHoldingTis()).items.map((t) => t.taskId)).toEqual(['q']);
        expect((await store.listDueWaits(T0, 10)).map((t) => t.taskId)).toEqual([
          'retry_early',
          'retry_due',
          'poke_now',
        ]);
        expect((await store.listDueWaits(T0, 2)).map((t) => t.taskId)).toEqual(['retry_early', 'retry_due']);
        await store.updateTis([
          {
            key: ti({ runId: r.runId, taskId: 'retry_early' }),
            expect: { state: 'up_for_retry', tryNumber: 1 },
            set: { state: 'scheduled', tryNumber: 2 },
          },
        ]);
        expect((await store.listDueWaits(T0, 10)).map((t) => t.taskId)).toEqual(['retry_due', 'poke_now']);
      }));
  });
}

export { describeClaims };
