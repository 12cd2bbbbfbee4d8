import { describe, expect, it } from 'vitest';
import { MemoryDispatcher, MemoryStateStore, VirtualClock } from '#adapters/memory/index.ts';
import { compileDag } from '#core/compile.ts';
import { type DagRun, DEFAULT_SETTINGS } from '#core/model.ts';
import type { DispatchMessage } from '#ports';
import { dag } from '#sdk/index.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { MAX_CONF_CHARS } from '#services/dispatch-runs.ts';
import { registerDag } from '#services/register-dag.ts';
import { markRun } from '#services/runs.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry } from '#services/worker.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

/** A one-task DAG, triggered with `conf`, and its claim pass's dispatch message; `getRun` counted from there. */
async function dispatched(opts: { conf?: Record<string, unknown>; dagrunTimeout?: `${number}m` } = {}) {
  const clock = new VirtualClock(T0);
  const dispatcher = new MemoryDispatcher({ clock, visibilityTimeoutMs: 30_000 });
  const store = new MemoryStateStore();
  const deps: ServiceDeps = {
    store,
    dispatcher,
    settings: DEFAULT_SETTINGS,
    logger: silentLogger,
    manifests: new ManifestCache(store),
    events: { publish: async () => {} },
    schedules: { setNextWakeUp: async () => {} },
  };
  const options = opts.dagrunTimeout ? { dagrunTimeout: opts.dagrunTimeout } : {};
  const manifest = compileDag(dag('one', options, (d) => void d.task('only', async () => null)));
  const { dag: record } = await registerDag(deps, manifest, { now: T0, fileloc: null });
  await store.updateDag('one', record.updatedAt, { paused: false }, T0);
  const run = await triggerRun(deps, { dagId: 'one', now: T0, ...(opts.conf && { conf: opts.conf }) });
  const pass = await schedulerPass(deps, { now: T0, runs: [{ dagId: 'one', runId: run.runId }] });
  const message = pass.claim.dispatched[0]!;
  let runReads = 0;
  const getRun = store.getRun.bind(store);
  store.getRun = (...args: Parameters<MemoryStateStore['getRun']>) => {
    runReads += 1;
    return getRun(...args);
  };
  return { deps, store, clock, run, message, runReads: () => runReads };
}

/** The message as a producer from before `run` was carried sends it. */
function withoutRun(message: DispatchMessage): DispatchMessage {
  const { key, tryNumber, dagVersion, executor } = message;
  return { key, tryNumber, dagVersion, executor };
}

describe('beginTry', () => {
  it("starts a try from a message that carries its run, without reading the run, with the run's fields", async () => {
    // Prepare
    const { deps, run, message, runReads } = await dispatched({ conf: { table: 'users' } });

    // Act
    const begun = await beginTry(deps, message, { now: T0 + 1_000, workerId: 'w' });

    // Assess
    expect(message.run).toEqual({
      logicalDate: run.logicalDate,
      dataIntervalStart: run.dataIntervalStart,
      dataIntervalEnd: run.dataIntervalEnd,
      conf: { table: 'users' },
      startedAt: T0,
    });
    expect(begun.kind).toBe('started');
    if (begun.kind !== 'started') return;
    expect(runReads()).toBe(0);
    expect(begun.started.ti.state).toBe('running');
    expect(begun.started.run).toEqual({
      dagId: 'one',
      runId: run.runId,
      logicalDate: run.logicalDate,
      dataIntervalStart: run.dataIntervalStart,
      dataIntervalEnd: run.dataIntervalEnd,
      dagVersion: run.dagVersion,
      conf: { table: 'users' },
    });
  });

  it('reads the run for a message without it (an older producer), and starts the try as before', async () => {
    // Prepare
    const { deps, run, message, runReads } = await dispatched({ conf: { table: 'users' } });

    // Act
    const begun = await beginTry(deps, withoutRun(message), { now: T0 + 1_000, workerId: 'w' });

    // Assess
    expect(begun.kind).toBe('started');
    if (begun.kind !== 'started') return;
    expect(runReads()).toBe(1);
    expect(begun.started.run.conf).toEqual({ table: 'users' });
    expect(begun.started.run.logicalDate).toBe(run.logicalDate);
  });

  it('hands the try back when a message without its run finds the run finished', async () => {
    // Prepare: the run finished after the claim, with its try still queued (as a mark leaves it for a moment).
    const { deps, store, run, message } = await dispatched();
    await store.updateRun('one', run.runId, { state: 'running' }, { state: 'failed', endedAt: T0 + 500 });

    // Act
    const begun = await beginTry(deps, withoutRun(message), { now: T0 + 1_000, workerId: 'w' });

    // Assess
    expect(begun.kind).toBe('run_finished');
    expect((await store.getTi(message.key))?.state).toBe('none');
  });

  it('does not start a try carried with its run once a mark has finished the run (its queued try was ended)', async () => {
    // Prepare
    const { deps, store, run, message } = await dispatched();
    await markRun(deps, { dagId: 'one', runId: run.runId, state: 'failed', now: T0 + 500 });

    // Act
    const begun = await beginTry(deps, message, { now: T0 + 1_000, workerId: 'w' });

    // Assess
    expect(begun.kind).toBe('duplicate');
    expect((await store.getTi(message.key))?.state).not.toBe('running');
  });

  it.each([
    { case: 'well before it', at: T0 + 60_000, reads: 0, kind: 'started' },
    { case: 'within a minute of it (clocks may differ)', at: T0 + 9 * 60_000 + 1, reads: 1, kind: 'started' },
  ])(
    "reads a carried run only near or after its DAG's dagrunTimeout ($case)",
    async ({ at, reads, kind }) => {
      // Prepare
      const { deps, message, runReads } = await dispatched({ dagrunTimeout: '10m' });

      // Act
      const begun = await beginTry(deps, message, { now: at, workerId: 'w' });

      // Assess
      expect(begun.kind).toBe(kind);
      expect(runReads()).toBe(reads);
    },
  );

  it('hands back a try carried with its run when the dagrunTimeout finished the run', async () => {
    // Prepare: the timeout fails the run and leaves its queued try to the worker (evaluate-run.ts).
    const { deps, store, run, message } = await dispatched({ dagrunTimeout: '10m' });
    const timedOut: Partial<DagRun> = { state: 'failed', endedAt: T0 + 11 * 60_000, note: 'dagrun_timeout' };
    await store.updateRun('one', run.runId, { state: 'running' }, timedOut);

    // Act
    const begun = await beginTry(deps, message, { now: T0 + 11 * 60_000, workerId: 'w' });

    // Assess
    expect(begun.kind).toBe('run_finished');
    expect((await store.getTi(message.key))?.state).toBe('none');
  });

  it('sends a run whose conf is too large to carry without it, and the worker reads the run', async () => {
    // Prepare
    const conf = { blob: 'x'.repeat(MAX_CONF_CHARS) };
    const { deps, message, runReads } = await dispatched({ conf });

    // Act
    const begun = await beginTry(deps, message, { now: T0 + 1_000, workerId: 'w' });

    // Assess
    expect(message.run).toBeUndefined();
    expect(begun.kind).toBe('started');
    if (begun.kind !== 'started') return;
    expect(runReads()).toBe(1);
    expect(begun.started.run.conf).toEqual(conf);
  });
});
