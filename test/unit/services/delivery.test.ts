import { describe, expect, it } from 'vitest';
import { MemoryDispatcher, MemoryStateStore, VirtualClock } from '#adapters/memory/index.ts';
import { compileDag } from '#core/compile.ts';
import { DEFAULT_SETTINGS } from '#core/model.ts';
import { dag } from '#sdk/index.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

describe('delivery through an at-least-once queue', () => {
  it('runs every try once when messages are duplicated and lost, and ends at rest', async () => {
    // Prepare: every third message is delivered twice, every fifth is lost on its first send.
    const clock = new VirtualClock(T0);
    let sent = 0;
    const lostOnce = new Set<string>();
    const dispatcher = new MemoryDispatcher({
      clock,
      visibilityTimeoutMs: 30_000,
      duplicate: () => sent++ % 3 === 0,
      drop: (m) => {
        const id = `${m.key.taskId}#${m.tryNumber}`;
        if (sent % 5 !== 0 || lostOnce.has(id)) return false;
        lostOnce.add(id);
        return true;
      },
    });
    const store = new MemoryStateStore();
    await store.putPool({ name: 'narrow', slots: 3, description: '', includeDeferred: false });
    const deps: ServiceDeps = {
      store,
      dispatcher,
      settings: { ...DEFAULT_SETTINGS, taskQueuedTimeoutMs: 60_000, numStuckInQueuedRetries: 5 },
      logger: silentLogger,
      manifests: new ManifestCache(store),
      events: { publish: async () => {} },
      schedules: { setNextWakeUp: async () => {} },
    };
    const manifest = compileDag(
      dag('fan', {}, (d) => {
        const parts = Array.from({ length: 12 }, (_, i) =>
          d.task(`part${i}`, { pool: 'narrow' }, async () => null),
        );
        d.chain(
          d.task('start', async () => null),
          parts,
          d.task('end', async () => null),
        );
      }),
    );
    const { dag: record } = await registerDag(deps, manifest, { now: T0, fileloc: null });
    await store.updateDag('fan', record.updatedAt, { paused: false }, T0);
    const run = await triggerRun(deps, { dagId: 'fan', now: T0 });
    const starts = new Map<string, number>();

    // Act: passes, deliveries and acks until the run is over.
    for (let round = 0; round < 200; round += 1) {
      await schedulerPass(deps, { now: clock.now(), sweep: true });
      for (const delivery of dispatcher.receive(10)) {
        const begun = await beginTry(deps, delivery.message, { now: clock.now(), workerId: 'w' });
        if (begun.kind === 'started') {
          const id = `${begun.started.ti.taskId}#${begun.started.ti.tryNumber}`;
          starts.set(id, (starts.get(id) ?? 0) + 1);
          await finishTry(deps, begun.started, { state: 'success' }, clock.now());
        }
        dispatcher.ack(delivery.receiptHandle);
      }
      if ((await store.getRun('fan', run.runId))?.state === 'success') break;
      clock.advance(20_000);
    }

    // Assess
    expect((await store.getRun('fan', run.runId))?.state).toBe('success');
    expect(lostOnce.size).toBeGreaterThan(0);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect(starts.size).toBe(14);
    expect([...store.counterSnapshot().values()].every((v) => v === 0)).toBe(true);
  });

  it('redelivers a message that was received but never acknowledged', async () => {
    const clock = new VirtualClock(T0);
    const dispatcher = new MemoryDispatcher({ clock, visibilityTimeoutMs: 1_000 });
    const message = {
      key: { dagId: 'd', runId: 'r', taskId: 't', mapIndex: -1 },
      tryNumber: 1,
      dagVersion: 'v',
      executor: 'lambda' as const,
    };
    await dispatcher.dispatch([message]);
    expect(dispatcher.receive().map((d) => d.receiveCount)).toEqual([1]);
    expect(dispatcher.receive()).toEqual([]);
    clock.advance(1_000);
    const [again] = dispatcher.receive();
    expect(again?.receiveCount).toBe(2);
    dispatcher.ack(again!.receiptHandle);
    expect(dispatcher.size).toBe(0);
  });
});
