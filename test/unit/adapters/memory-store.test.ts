import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
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
  it('refuses a try end that would take a counter below zero, naming it and changing nothing', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    // Simulate a bug: the instance claims to hold a counter that was never raised.
    await store.updateTis([
      {
        key: a,
        expect: { state: 'queued', tryNumber: 1 },
        set: {
          holds: [
            { counter: POOL, amount: 2 },
            { counter: GHOST, amount: 1 },
          ],
        },
      },
    ]);
    const end = {
      key: a,
      expect: { state: 'queued' as const, tryNumber: 1 },
      set: { state: 'up_for_retry' as const },
    };
    await expect(store.endTry(end)).rejects.toThrow(/dag\/ghost/);
    expect(store.counterSnapshot().get('pool/default_pool')).toBe(2);
    expect((await store.getTi(a))?.state).toBe('queued');
  });

  it('refuses to end a try that holds slots through updateTis', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    await expect(
      store.updateTis([
        { key: a, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'up_for_retry' } },
      ]),
    ).rejects.toThrow(/endTry/);
    // Changes that keep it queued are fine.
    const kept = await store.updateTis([
      { key: a, expect: { state: 'queued', tryNumber: 1 }, set: { dispatchAttempts: 1 } },
    ]);
    expect(kept.applied).toHaveLength(1);
    expect(store.counterSnapshot()).toEqual(new Map([['pool/default_pool', 2]]));
  });

  it('hands out records that cannot change the store', async () => {
    const store = new MemoryStateStore();
    const a = await queuedTi(store);
    const read = (await store.getTi(a))!;
    expect(() => {
      read.state = 'success';
    }).toThrow(TypeError);
    expect(() => read.holds.push({ counter: POOL, amount: 1 })).toThrow(TypeError);
    const { dag } = await store.registerDagVersion(manifest(), { now: T0, fileloc: null, warnings: ['w'] });
    dag.warnings.push('mutated');
    const fresh = (await store.getDag('etl'))!;
    fresh.paused = false;
    expect(await store.getDag('etl')).toMatchObject({ warnings: ['w'], paused: true });
  });

  it('drains a backlog of 20,000 scheduled instances page by page in linear-ish time', async () => {
    const store = new MemoryStateStore();
    const n = 20_000;
    for (let r = 0; r < 20; r += 1) {
      const dagRun = run({ runId: `r${r}`, logicalDate: T0 + r * 3_600_000 });
      const tis = Array.from({ length: n / 20 }, (_, i) =>
        ti({ runId: dagRun.runId, logicalDate: dagRun.logicalDate, taskId: `t${i}`, priorityWeight: i % 5 }),
      );
      await store.createRun(dagRun, tis);
    }
    const started = performance.now();
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
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
