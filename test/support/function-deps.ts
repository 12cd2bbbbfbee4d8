/**
 * `makeTestDeps(overrides)`: the dependencies every function's `createHandler` takes, on the memory
 * store with a hand-driven clock and recording queues, so handler tests run without emulators.
 */
import type { Context } from 'aws-lambda';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { MemoryBundleStore, MemoryLogStore, MemoryStateStore } from '#adapters/memory/index.ts';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import { DEFAULT_SETTINGS, type TiKey, tiKeyString } from '#core/model.ts';
import type { DispatchMessage, Notification, ResultStore, SchedulerEvent } from '#ports';
import { ManifestCache, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import type { WorkerFunctionDeps } from '../../functions/worker/dispatch.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

class MemoryResultStore implements ResultStore {
  readonly objects = new Map<string, string>();
  async put(key: TiKey, tryNumber: number, json: string) {
    const ref = `mem://${tiKeyString(key)}#${tryNumber}`;
    this.objects.set(ref, json);
    return ref;
  }
  async get(ref: string) {
    return this.objects.get(ref) ?? null;
  }
}

function makeTestDeps(overrides: Partial<WorkerFunctionDeps> = {}) {
  let now = T0;
  const store = new MemoryStateStore();
  const dispatched: DispatchMessage[] = [];
  const events: SchedulerEvent[] = [];
  const wakeUps = new Map<string, number | null>();
  const notifications: Notification[] = [];
  const runtimes = new Map<string, DagDefinition>();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const deps: WorkerFunctionDeps = {
    store,
    clock,
    settings: DEFAULT_SETTINGS,
    logger: silentLogger,
    manifests: new ManifestCache(store),
    dispatcher: { dispatch: async (m) => void dispatched.push(...m) },
    events: { publish: async (e) => void events.push(...e) },
    schedules: { setNextWakeUp: async (dagId, at) => void wakeUps.set(dagId, at) },
    notifier: { publish: async (n) => void notifications.push(n) },
    logs: new MemoryLogStore(),
    results: new MemoryResultStore(),
    executor: new LocalTaskExecutor((dagId) => runtimes.get(dagId)?.runtime),
    workerId: 'test-worker',
    heartbeatEveryMs: 60_000,
    ...overrides,
  };

  /** Registers and unpauses a DAG whose code the executor runs, triggers a run, claims its first tasks. */
  async function runOf(def: DagDefinition, conf: Record<string, unknown> = {}) {
    runtimes.set(def.dagId, def);
    const { dag: record } = await registerDag(deps, compileDag(def), { now, fileloc: null });
    await store.updateDag(record.dagId, record.updatedAt, { paused: false, nextRun: null }, now);
    const run = await triggerRun(deps, { dagId: def.dagId, now, conf });
    await schedulerPass(deps, { now, runs: [run], dagIds: [] });
    return run;
  }

  return {
    deps,
    store,
    clock,
    dispatched,
    events,
    wakeUps,
    notifications,
    bundles: new MemoryBundleStore(),
    runOf,
  };
}

/** A Lambda context with `remainingMs` left. */
function lambdaContext(remainingMs = 900_000): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as Context;
}

/** An SQS event with one record per body. */
function sqsEvent(bodies: string[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body,
      attributes: { ApproximateReceiveCount: '1' },
    })),
  } as unknown as import('aws-lambda').SQSEvent;
}

export { lambdaContext, MemoryResultStore, makeTestDeps, sqsEvent, T0 };
