import { describe, expect, it } from 'vitest';
import type { TiKey } from '#core/model.ts';
import type { ClaimRequest, TiChange } from '#ports';
import { dag } from '#sdk/index.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { makeHarness } from '../../support/service-harness.ts';

const noop = async () => null;

/** Records what the pass asks of the store: scheduling writes, claims that schedule, wait reasons. */
function watch(h: ReturnType<typeof makeHarness>) {
  const seen = { scheduledPuts: [] as TiChange[], scheduleClaims: [] as ClaimRequest[], reasonWrites: 0 };
  const { store } = h;
  const updateTis = store.updateTis.bind(store);
  const claim = store.claim.bind(store);
  const setWaitReasons = store.setWaitReasons.bind(store);
  store.updateTis = async (changes) => {
    seen.scheduledPuts.push(...changes.filter((c) => c.set.state === 'scheduled'));
    return updateTis(changes);
  };
  store.claim = async (requests) => {
    seen.scheduleClaims.push(...requests.filter((r) => r.schedule));
    return claim(requests);
  };
  store.setWaitReasons = async (reasons) => {
    seen.reasonWrites += reasons.length;
    return setWaitReasons(reasons);
  };
  return seen;
}

function wide(id: string, pool: string, n: number, priorityWeight: number) {
  return dag(id, { schedule: null, startDate: '2026-01-01' }, (d) => {
    for (let i = 0; i < n; i += 1) d.task(`t${i}`, { pool, priorityWeight, weightRule: 'absolute' }, noop);
  });
}

const key = (dagId: string, runId: string, taskId: string): TiKey => ({ dagId, runId, taskId, mapIndex: -1 });

describe('a pass that schedules and claims', () => {
  it('claims what it schedules in the claim itself, and writes the rest scheduled with its wait reason in the put', async () => {
    // Prepare
    const h = makeHarness();
    await h.store.putPool({ name: 'p', slots: 2, description: '', includeDeferred: false });
    await h.register(wide('w', 'p', 5, 1));
    const run = await triggerRun(h.deps, { dagId: 'w', now: h.clock.now() });
    const seen = watch(h);

    // Act
    await h.pass();

    // Assess: two go none → queued in the claim, three are written scheduled, each with its reason.
    expect(h.dispatched.map((m) => m.key.taskId)).toEqual(['t0', 't1']);
    expect(seen.scheduleClaims.map((r) => [r.key.taskId, r.schedule?.read.state])).toEqual([
      ['t0', 'none'],
      ['t1', 'none'],
    ]);
    expect(seen.scheduledPuts.map((c) => [c.key.taskId, c.set.waitReason?.kind])).toEqual([
      ['t2', 'pool_full'],
      ['t3', 'pool_full'],
      ['t4', 'pool_full'],
    ]);
    expect(seen.reasonWrites).toBe(0);
    const states = (await h.store.listTis('w', run.runId)).map((t) => [t.taskId, t.state, t.tryNumber]);
    expect(states).toEqual([
      ['t0', 'queued', 1],
      ['t1', 'queued', 1],
      ['t2', 'scheduled', 1],
      ['t3', 'scheduled', 1],
      ['t4', 'scheduled', 1],
    ]);
  });

  it('does not let what it schedules jump ahead of higher-priority work already waiting in its pool', async () => {
    // Prepare: two urgent instances wait in a full pool; a low-priority run arrives as slots free up.
    const h = makeHarness();
    await h.store.putPool({ name: 'p', slots: 2, description: '', includeDeferred: false });
    await h.register(wide('blocker', 'p', 2, 100));
    await h.register(wide('urgent', 'p', 2, 10));
    await h.register(wide('late', 'p', 1, 1));
    await triggerRun(h.deps, { dagId: 'blocker', now: h.clock.now() });
    await h.pass();
    const urgent = await triggerRun(h.deps, { dagId: 'urgent', now: h.clock.now() });
    await h.pass();
    expect((await h.store.getTi(key('urgent', urgent.runId, 't0')))?.waitReason?.kind).toBe('pool_full');
    await h.work();
    const late = await triggerRun(h.deps, { dagId: 'late', now: h.clock.now() });

    // Act: one pass schedules `late` and claims the two free slots.
    await h.pass();

    // Assess
    expect(h.dispatched.map((m) => `${m.key.dagId}/${m.key.taskId}`)).toEqual(['urgent/t0', 'urgent/t1']);
    const waiting = await h.store.getTi(key('late', late.runId, 't0'));
    expect(waiting).toMatchObject({ state: 'scheduled', tryNumber: 1 });
    expect(waiting?.waitReason?.kind).toBe('pool_full');
  });

  it('goes ahead of lower-priority work already waiting when it outranks it', async () => {
    const h = makeHarness();
    await h.store.putPool({ name: 'p', slots: 1, description: '', includeDeferred: false });
    await h.register(wide('blocker', 'p', 1, 100));
    await h.register(wide('low', 'p', 1, 1));
    await h.register(wide('high', 'p', 1, 10));
    await triggerRun(h.deps, { dagId: 'blocker', now: h.clock.now() });
    await h.pass();
    await triggerRun(h.deps, { dagId: 'low', now: h.clock.now() });
    await h.pass();
    await h.work();
    await triggerRun(h.deps, { dagId: 'high', now: h.clock.now() });

    await h.pass();

    expect(h.dispatched.map((m) => m.key.dagId)).toEqual(['high']);
  });
});
