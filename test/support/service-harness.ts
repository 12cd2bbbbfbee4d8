/**
 * Runs the real services on the in-memory store with a hand-driven clock, dispatcher and event
 * bus, so service tests can play out races, lost messages and dead workers step by step.
 */
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import type { DagManifest } from '#core/manifest.ts';
import { DEFAULT_SETTINGS, type SchedulerSettings, type TaskInstance } from '#core/model.ts';
import type { DispatchMessage, SchedulerEvent, StateStore, TaskOutcome } from '#ports';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { type PassReport, schedulerPass } from '#services/scheduler-pass.ts';
import { beginTry, finishTry } from '#services/worker.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

function makeHarness(settings: Partial<SchedulerSettings> = {}) {
  return harnessOn(new MemoryStateStore(), settings);
}

/** The harness on `store` (a DynamoDB store in integration tests). */
function harnessOn<S extends StateStore>(store: S, settings: Partial<SchedulerSettings> = {}) {
  let now = T0;
  const dispatched: DispatchMessage[] = [];
  const events: SchedulerEvent[] = [];
  const wakeUps = new Map<string, number | null>();
  const deps: ServiceDeps = {
    store,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    logger: silentLogger,
    manifests: new ManifestCache(store),
    dispatcher: { dispatch: async (messages) => void dispatched.push(...messages) },
    events: { publish: async (e) => void events.push(...e) },
    schedules: { setNextWakeUp: async (dagId, at) => void wakeUps.set(dagId, at) },
  };
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (t: number) => {
      now = t;
    },
  };

  async function register(def: DagDefinition | DagManifest, opts: { paused?: boolean } = {}) {
    const manifest = 'manifestVersion' in def ? def : compileDag(def);
    const { dag } = await registerDag(deps, manifest, { now, fileloc: null });
    await store.updateDag(dag.dagId, dag.updatedAt, { paused: opts.paused ?? false }, now);
    return manifest;
  }

  function pass(options: { sweep?: boolean } = {}): Promise<PassReport> {
    return schedulerPass(deps, { now, ...options });
  }

  /** Takes every dispatched message and runs each try to completion at the current time. */
  async function work(outcome: (ti: TaskInstance) => TaskOutcome = () => ({ state: 'success' })) {
    const ran: string[] = [];
    for (const message of dispatched.splice(0)) {
      const begun = await beginTry(deps, message, { now, workerId: 'test-worker' });
      if (begun.kind !== 'started') continue;
      ran.push(begun.started.ti.taskId);
      await finishTry(deps, begun.started, outcome(begun.started.ti), now);
    }
    return ran;
  }

  /** Alternates passes and work until nothing is dispatched, advancing `stepMs` per round. */
  async function drain(
    outcome?: (ti: TaskInstance) => TaskOutcome,
    opts: { stepMs?: number; maxRounds?: number } = {},
  ) {
    const order: string[] = [];
    for (let round = 0; round < (opts.maxRounds ?? 50); round += 1) {
      await pass({ sweep: true });
      const ran = await work(outcome);
      order.push(...ran);
      if (ran.length === 0 && dispatched.length === 0 && !opts.stepMs) break;
      clock.advance(opts.stepMs ?? 1000);
    }
    return order;
  }

  return { deps, store, dispatched, events, wakeUps, clock, register, pass, work, drain };
}

export { harnessOn, makeHarness, T0 };
