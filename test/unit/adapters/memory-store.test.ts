import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { InputError } from '#core/errors.ts';
import type { CounterKey } from '#core/model.ts';
import { manifest, run, T0, ti } from '../../support/factories.ts';

const POOL: CounterKey = { kind: 'pool', pool: 'default_pool' };
const GHOST: CounterKey = { kind: 'dag', dagId: 'ghost' };

async function queuedTi(store: MemoryStateStore) {
  const r = run();
  const a = ti({ runId: r.runId });
  await store.createRun(r, [a]);
  await store.claim([
    { key: a, tryNumber: 1, holds: [{ counter: POOL, amount: 2, limit: 128 }], queuedAt: T0 },
  ]);
  return a;
}

describe('MemoryStateStore', () => {
  it('reconciles drift between its counters and what its holders hold, and repairs it', async () => {
    // Prepare: a real claim (2 slots), and a bug's instance written as queued with holds no claim raised.
    const store = new MemoryStateStore();
    await queuedTi(store);
    const r = run({ runId: 'other' });
    const holds = [
      { counter: POOL, amount: 1 },
      { counter: GHOST, amount: 1 },
    ];
    await store.createRun(r, [ti({ runId: r.runId, state: 'queued', holds })]);
    // Act
    const found = await store.reconcileCounters({ repair: false });
    const repaired = await store.reconcileCounters({ repair: true });
    const after = await store.reconcileCounters({ repair: true });
    // Assess
    const drift = [
      { counter: GHOST, used: 0, held: 1 },
      { counter: POOL, used: 2, held: 3 },
    ];
    expect(found).toEqual({ drift, repaired: [], unsettled: 0 });
    expect(repaired).toEqual({ drift, repaired: drift, unsettled: 0 });
    expect(after).toEqual({ drift: [], repaired: [], unsettled: 0 });
    expect(store.counterSnapshot()).toEqual(
      new Map([
        ['pool/default_pool', 3],
        ['dag/ghost', 1],
      ]),
    );
  });

  it('refuses a try end that would take a counter below zero, naming it and changing nothing', async () => {
    // Prepare: a bug wrote an instance as queued with a hold no claim raised, beside a real claim.
    const store = new MemoryStateStore();
    await queuedTi(store);
    const r = run({ runId: 'other' });
    const bad = ti({
      runId: r.runId,
      state: 'queued',
      holds: [
        { counter: POOL, amount: 1 },
        { counter: GHOST, amount: 1 },
      ],
    });
    await store.createRun(r, [bad]);
    const end = {
      key: bad,
      expect: { state: 'queued' as const, tryNumber: 1 },
      set: { state: 'up_for_retry' as const },
    };
    // Act / Assess
    await expect(store.endTry(end)).rejects.toThrow(/dag\/ghost/);
    expect(store.counterSnapshot().get('pool/default_pool')).toBe(2);
    expect((await store.getTi(bad))?.state).toBe('queued');
  });

  it('refuses to end a try that holds slots through updateTis', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    await expect(
      store.updateTis([
        { key: a, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'up_for_retry' } },
      ]),
    ).rejects.toThrow(/endTry/);
    await expect(
      store.updateTis([
        {
          key: a,
          expect: { state: 'queued', tryNumber: 1 },
          set: { holds: [{ counter: POOL, amount: 1 }] },
        },
      ]),
    ).rejects.toThrow(/holds/);
    // Changes that keep it queued are fine.
    const kept = await store.updateTis([
      { key: a, expect: { state: 'queued', tryNumber: 1 }, set: { dispatchAttempts: 1 } },
    ]);
    expect(kept.applied).toHaveLength(1);
    expect(store.counterSnapshot()).toEqual(new Map([['pool/default_pool', 2]]));
  });

  it('refuses a try end into queued or running, which would keep it running with nothing held', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    await expect(
      store.endTry({ key: a, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'running' } }),
    ).rejects.toThrow(/endTry/);
    expect(await store.getTi(a)).toMatchObject({ state: 'queued', holds: [{ counter: POOL, amount: 2 }] });
    expect(store.counterSnapshot().get('pool/default_pool')).toBe(2);
  });

  it('names the cursor when given one it never handed out', async () => {
    const store = new MemoryStateStore();
    await expect(store.listUnfinishedRuns({ cursor: 'not-a-cursor' })).rejects.toThrow(InputError);
    await expect(store.listRuns('etl', { cursor: 'bm9wZQ' })).rejects.toThrow(/cursor/);
  });

  it('hands out records that cannot change the store', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    const read = (await store.getTi(a))!;
    expect(() => {
      read.state = 'success';
    }).toThrow(TypeError);
    expect(() => read.holds.push({ counter: POOL, amount: 1 })).toThrow(TypeError);
    const warnings = ['w'];
    const { dag } = await store.registerDagVersion(manifest(), { now: T0, fileloc: null, warnings });
    warnings.push('mutated');
    expect(() => dag.warnings.push('mutated')).toThrow(TypeError);
    const fresh = (await store.getDag('etl'))!;
    expect(() => {
      fresh.paused = false;
    }).toThrow(TypeError);
    const version = (await store.getDagVersion('etl', fresh.currentVersion))!;
    expect(() => version.tasks.pop()).toThrow(TypeError);
    expect(await store.getDag('etl')).toMatchObject({ warnings: ['w'], paused: true });
  });

  it('drains a backlog of 20,000 scheduled instances page by page, leaving every counter at zero', async () => {
    const store = new MemoryStateStore();
    const n = 20_000;
    for (let r = 0; r < 20; r += 1) {
      const dagRun = run({ runId: `r${r}`, logicalDate: T0 + r * 3_600_000 });
      const tis = Array.from({ length: n / 20 }, (_, i) =>
        ti({ runId: dagRun.runId, logicalDate: dagRun.logicalDate, taskId: `t${i}`, priorityWeight: i % 5 }),
      );
      await store.createRun(dagRun, tis);
    }
    let claimed = 0;
    for (;;) {
      const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 100 });
      if (page.items.length === 0) break;
      const result = await store.claim(
        page.items.map((t) => ({
          key: t,
          tryNumber: 1,
          holds: [{ counter: POOL, amount: 1, limit: -1 }],
          queuedAt: T0,
        })),
      );
      for (const key of result.claimed) {
        await store.endTry({ key, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
      }
      claimed += result.claimed.length;
    }
    expect(claimed).toBe(n);
    expect(store.counterSnapshot().get('pool/default_pool')).toBe(0);
  });
});
