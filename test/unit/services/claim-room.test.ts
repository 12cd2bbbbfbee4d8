import { describe, expect, it } from 'vitest';
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { ClaimRequest, ClaimResult, StateStore } from '#ports';
import { dag } from '#sdk/index.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { makeHarness } from '../../support/service-harness.ts';

const noop = async () => null;
const POOL: CounterKey = { kind: 'pool', pool: 'p' };

function wide(id: string, n: number) {
  return dag(id, { schedule: null, startDate: '2026-01-01' }, (d) => {
    for (let i = 0; i < n; i += 1) d.task(`t${i}`, { pool: 'p' }, noop);
  });
}

async function usedOf(h: ReturnType<typeof makeHarness>, counter: CounterKey): Promise<number> {
  return (await h.store.readCounters([counter]))[0]?.used ?? 0;
}

describe('a claim step whose counters another pass raised since it read them', () => {
  it('sends only the claims that still fit, in claim order, and loses none of the rest', async () => {
    // Prepare: 4 slots, 10 tasks; the first pass fills the pool, two tries end
    const h = makeHarness();
    await h.store.putPool({ name: 'p', slots: 4, description: '', includeDeferred: false });
    await h.register(wide('w', 10));
    const run = await triggerRun(h.deps, { dagId: 'w', now: h.clock.now() });
    await h.pass();
    expect(h.dispatched.map((m) => m.key.taskId)).toEqual(['t0', 't1', 't2', 't3']);
    const later = h.dispatched.splice(2);
    await h.work();
    h.dispatched.push(...later);
    expect(await usedOf(h, POOL)).toBe(2);
    // Another pass claims one of the two free slots (for t9) once this one has listed its candidates.
    const { store } = h;
    const list = store.listClaimCandidates.bind(store);
    const claim = store.claim.bind(store);
    let raced = false;
    store.listClaimCandidates = async (query) => {
      const page = await list(query);
      if (!raced) {
        raced = true;
        const t9 = (await store.getTi({ dagId: 'w', runId: run.runId, taskId: 't9', mapIndex: -1 }))!;
        const holds = [{ counter: POOL, amount: 1, limit: 4 }];
        expect((await claim([{ key: t9, tryNumber: 1, queuedAt: 0, holds }])).claimed).toHaveLength(1);
        h.dispatched.push({ key: t9, tryNumber: 1, dagVersion: t9.dagVersion, executor: t9.executor });
      }
      return page;
    };
    const sent: ClaimRequest[][] = [];
    const results: ClaimResult[] = [];
    store.claim = async (requests) => {
      sent.push(requests);
      const result = await claim(requests);
      results.push(result);
      return result;
    };

    // Act
    const report = await h.pass();

    // Assess: one slot was left; the pass sent the first candidate alone and the store lost nothing
    expect(await usedOf(h, POOL)).toBe(4);
    expect(sent.map((batch) => batch.map((r) => r.key.taskId))).toEqual([['t4']]);
    expect(results.flatMap((r) => r.lost)).toEqual([]);
    expect(report.claim).toMatchObject({ claimed: 1, lost: 1 });
    const states = new Map((await store.listTis('w', run.runId)).map((t) => [t.taskId, t.state]));
    expect(states.get('t4')).toBe('queued');
    expect(states.get('t5')).toBe('scheduled');
    // Nothing is lost: once every try has ended, every task has run once and the pool is empty.
    store.listClaimCandidates = list;
    store.claim = claim;
    await h.drain();
    const done = await store.listTis('w', run.runId);
    expect(done.map((t) => [t.taskId, t.state, t.tryNumber])).toEqual(
      done.map((t) => [t.taskId, 'success', 1]),
    );
    expect(await usedOf(h, POOL)).toBe(0);
  });
});

describe("a claim step's reads", () => {
  it('reads no counter of an unlimited executor, and sets nothing aside for a full pool', async () => {
    // Prepare: 2 slots, 6 tasks, so 4 wait with pool_full
    const h = makeHarness();
    await h.store.putPool({ name: 'p', slots: 2, description: '', includeDeferred: false });
    await h.register(wide('w', 6));
    await triggerRun(h.deps, { dagId: 'w', now: h.clock.now() });
    const { store } = h;
    const readCounters = store.readCounters.bind(store);
    const read: CounterKey[] = [];
    store.readCounters = async (keys) => {
      read.push(...keys);
      return readCounters(keys);
    };
    const setAside: string[] = [];
    // The memory store sets nothing aside; a store that does is stood in for.
    const asStore: StateStore = store;
    asStore.setAsideBlocked = async (_pool: string, tis: TaskInstance[]) =>
      void setAside.push(...tis.map((t) => t.taskId));

    // Act
    await h.pass();

    // Assess
    expect(h.dispatched).toHaveLength(2);
    expect(read.filter((k) => k.kind === 'executor')).toEqual([]);
    expect(setAside).toEqual([]);
  });
});
