/**
 * `updraft simulate`: the real scheduler services in virtual time, on the in-memory store, with
 * task durations and failures from a scenario. Deterministic for a seed. It answers "what will my
 * limits do to this workload" before anything is deployed.
 */
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { compileDag } from '#core/compile.ts';
import { type DagDefaults, resolveDagDefaults } from '#core/dag-defaults.ts';
import type { DagDefinition } from '#core/definition.ts';
import { durationMs } from '#core/duration.ts';
import type { DagManifest } from '#core/manifest.ts';
import { DEFAULT_SETTINGS, type SchedulerSettings } from '#core/model.ts';
import type { DispatchMessage, SchedulerEvent, TaskOutcome } from '#ports';
import { createBackfill } from '#services/backfill.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry, type StartedTry } from '#services/worker.ts';
import { Recorder } from './recorder.ts';
import type { SimReport } from './report.ts';
import { buildReport } from './report-builder.ts';
import type { Scenario, TaskBehavior } from './scenario.ts';
import { EventQueue, mulberry32 } from './timeline.ts';

export interface SimulationInput {
  dags: (DagDefinition | DagManifest)[];
  scenario: Scenario;
  onProgress?: (progress: { now: number; start: number; end: number }) => void;
}

type RunRef = { dagId: string; runId: string };

type SimEvent =
  /** `dagId`: the DAG's one-shot wake-up (EventBridge Scheduler's at() in AWS). */
  | { kind: 'pass'; sweep: boolean; run?: RunRef; dagId?: string }
  | { kind: 'finish'; started: StartedTry; outcome: TaskOutcome }
  | { kind: 'trigger'; dagId: string; conf: Record<string, unknown> }
  | { kind: 'backfill'; spec: NonNullable<Scenario['backfills']>[number] }
  | { kind: 'pool'; name: string; slots: number };

/** The scenario's `settings.dagDefaults` over Airflow's (the schema already checked them). */
function scenarioDagDefaults(scenario: Scenario): DagDefaults {
  const resolved = resolveDagDefaults(scenario.settings?.dagDefaults, 'settings.dagDefaults');
  if (!resolved.ok) throw new Error(resolved.issues.map((i) => `${i.field} ${i.message}`).join('; '));
  return resolved.defaults;
}

function settingsOf(scenario: Scenario): SchedulerSettings {
  const s = scenario.settings ?? {};
  return {
    ...DEFAULT_SETTINGS,
    parallelism: s.parallelism ?? DEFAULT_SETTINGS.parallelism,
    maxTisPerQuery: s.maxTisPerQuery ?? DEFAULT_SETTINGS.maxTisPerQuery,
    heartbeatTimeoutMs:
      s.heartbeatTimeout === undefined
        ? DEFAULT_SETTINGS.heartbeatTimeoutMs
        : durationMs(s.heartbeatTimeout as never),
    taskQueuedTimeoutMs:
      s.taskQueuedTimeout === undefined
        ? DEFAULT_SETTINGS.taskQueuedTimeoutMs
        : durationMs(s.taskQueuedTimeout as never),
    executorCapacity: {
      lambda: s.workerConcurrency?.lambda ?? null,
      fargate: s.workerConcurrency?.fargate ?? null,
    },
    dagDefaults: scenarioDagDefaults(scenario),
  };
}

/** The behaviour that applies to a task: most specific pattern first. */
function behaviorOf(scenario: Scenario, dagId: string, taskId: string): TaskBehavior {
  const tasks = scenario.tasks ?? {};
  // Object.assign rather than spreads, which take V8's slow path on Node 20 (services/ti-copy.ts).
  return Object.assign(
    {},
    tasks['*'],
    tasks[`*.${taskId}`],
    tasks[`${dagId}.*`],
    tasks[`${dagId}.${taskId}`],
  ) as TaskBehavior;
}

async function runSimulation(input: SimulationInput): Promise<SimReport> {
  const { scenario } = input;
  const start = Date.parse(scenario.start);
  const end = Date.parse(scenario.end);
  const seed = scenario.seed ?? 1;
  const random = mulberry32(seed);
  let now = start;
  const clock = () => now;
  const recorder = new Recorder(clock);
  const store = recorder.wrap(new MemoryStateStore());
  const queue = new EventQueue<SimEvent>();
  const dispatched: DispatchMessage[] = [];
  const wakeUps = new Map<string, number>();
  const latencyMs = durationMs((scenario.schedulerLatency ?? '1s') as never);
  const sweepMs = durationMs((scenario.sweepEvery ?? '1m') as never);
  const pokes = new Map<string, number>();
  /**
   * Tries the simulated workers are running, with their last heartbeat. Before every sweep, as live
   * workers beating on an interval would have, each beats whose last beat is half a heartbeat
   * timeout old: so no sweep finds a live try silent, and a sweep costs no write per running try.
   */
  const inFlight = new Map<StartedTry, number>();
  let passes = 0;
  /** Runs that have news (a task finished, a retry is due): the next event-driven pass looks at them only. */
  const pendingRuns = new Map<string, RunRef>();
  const touch = (run: RunRef) => {
    const id = `${run.dagId}/${run.runId}`;
    if (!pendingRuns.has(id)) pendingRuns.set(id, { dagId: run.dagId, runId: run.runId });
  };
  /** DAGs with news about no particular run (a backfill was created). */
  const pendingDags = new Set<string>();
  /** DAGs whose wake-up is due: an event-driven pass creates runs for these only, as a wake-up does in AWS. */
  const wokenDags = new Set<string>();
  let pendingPassAt: number | null = null;

  const schedulePass = (at: number) => {
    if (pendingPassAt !== null && pendingPassAt <= at && pendingPassAt >= now) return;
    pendingPassAt = at;
    queue.push(at, { kind: 'pass', sweep: false });
  };
  const deps: ServiceDeps = {
    store,
    settings: settingsOf(scenario),
    logger: silentLogger,
    manifests: new ManifestCache(store),
    dispatcher: { dispatch: async (messages) => void dispatched.push(...messages) },
    events: {
      publish: async (events: SchedulerEvent[]) => {
        for (const event of events) {
          if ('runId' in event) touch(event);
          else if ('dagId' in event && event.dagId) pendingDags.add(event.dagId);
        }
        if (events.length > 0) schedulePass(now + latencyMs);
      },
    },
    schedules: {
      setNextWakeUp: async (dagId, at) => {
        if (at === null) wakeUps.delete(dagId);
        else if (wakeUps.get(dagId) !== at) {
          wakeUps.set(dagId, at);
          queue.push(Math.max(at, now), { kind: 'pass', sweep: false, dagId });
        }
      },
    },
  };

  for (const pool of scenario.pools ?? []) {
    await store.putPool({
      name: pool.name,
      slots: pool.slots,
      description: pool.description ?? '',
      includeDeferred: false,
    });
  }
  const wanted = scenario.dags ? new Set(scenario.dags) : null;
  const paused = new Set(scenario.paused ?? []);
  for (const def of input.dags) {
    const manifest = 'manifestVersion' in def ? def : compileDag(def, deps.settings.dagDefaults);
    if (wanted && !wanted.has(manifest.dagId)) continue;
    const { dag } = await registerDag(deps, manifest, { now, fileloc: null });
    await store.updateDag(dag.dagId, dag.updatedAt, { paused: paused.has(dag.dagId) }, now);
  }
  for (const t of scenario.triggers ?? [])
    queue.push(Date.parse(t.at), { kind: 'trigger', dagId: t.dagId, conf: t.conf ?? {} });
  for (const b of scenario.backfills ?? []) queue.push(Date.parse(b.at), { kind: 'backfill', spec: b });
  for (const p of scenario.poolChanges ?? [])
    queue.push(Date.parse(p.at), { kind: 'pool', name: p.name, slots: p.slots });
  for (let t = start; t <= end; t += sweepMs) queue.push(t, { kind: 'pass', sweep: true });

  /** Each task's behaviour and base duration, worked out at its first try. */
  const behaviors = new Map<string, Map<string, { behavior: TaskBehavior; base: number }>>();
  const behaviorFor = (dagId: string, taskId: string) => {
    let ofDag = behaviors.get(dagId);
    if (!ofDag) {
      ofDag = new Map();
      behaviors.set(dagId, ofDag);
    }
    let known = ofDag.get(taskId);
    if (!known) {
      const behavior = behaviorOf(scenario, dagId, taskId);
      known = { behavior, base: durationMs((behavior.duration ?? '1m') as never) };
      ofDag.set(taskId, known);
    }
    return known;
  };
  const outcomeOf = (started: StartedTry): { durationMs: number; outcome: TaskOutcome } => {
    const { ti, task } = started;
    const { behavior, base } = behaviorFor(ti.dagId, ti.taskId);
    const jitter = behavior.jitter ?? 0;
    const duration = Math.max(1, Math.round(base * (1 + jitter * (2 * random() - 1))));
    if (task.operator.kind === 'sensor') {
      const id = `${ti.dagId}/${ti.runId}/${ti.taskId}`;
      const count = (pokes.get(id) ?? 0) + 1;
      pokes.set(id, count);
      const done = count > (behavior.pokesUntilDone ?? 0);
      return { durationMs: duration, outcome: { state: done ? 'success' : 'up_for_reschedule' } };
    }
    const fails =
      (behavior.failTries ?? []).includes(ti.tryNumber) ||
      (behavior.failRate !== undefined && random() < behavior.failRate);
    return {
      durationMs: duration,
      outcome: fails ? { state: 'failed', error: 'simulated failure' } : { state: 'success', result: null },
    };
  };

  while (queue.size > 0) {
    const at = queue.peekTime()!;
    if (at > end) break;
    now = at;
    const events = queue.popAt(at);
    let pass = false;
    let sweep = false;
    for (const event of events) {
      switch (event.kind) {
        case 'pass':
          pass = true;
          sweep ||= event.sweep;
          if (event.run) touch(event.run);
          if (event.dagId) wokenDags.add(event.dagId);
          if (pendingPassAt === at) pendingPassAt = null;
          break;
        case 'finish': {
          inFlight.delete(event.started);
          const { state } = await finishTry(deps, event.started, event.outcome, now);
          const ti = event.started.ti;
          if (state === 'up_for_retry' || state === 'up_for_reschedule') {
            const fresh = await store.getTi(ti);
            const due = fresh?.nextRetryAt ?? fresh?.rescheduleAt;
            if (due)
              queue.push(due + 1, { kind: 'pass', sweep: false, run: { dagId: ti.dagId, runId: ti.runId } });
          }
          break;
        }
        case 'trigger':
          await triggerRun(deps, { dagId: event.dagId, now, conf: event.conf });
          pass = true;
          break;
        case 'backfill':
          await createBackfill(deps, {
            dagId: event.spec.dagId,
            from: Date.parse(event.spec.from),
            to: Date.parse(event.spec.to),
            reprocessBehavior: event.spec.reprocessBehavior,
            runBackwards: event.spec.runBackwards,
            maxActiveRuns: event.spec.maxActiveRuns,
            now,
          });
          pass = true;
          break;
        case 'pool':
          await store.putPool({
            name: event.name,
            slots: event.slots,
            description: '',
            includeDeferred: false,
          });
          pass = true;
          break;
      }
    }
    if (sweep) {
      const beatEvery = deps.settings.heartbeatTimeoutMs / 2;
      for (const [started, beatAt] of inFlight) {
        if (now - beatAt < beatEvery) continue;
        await store.heartbeat(started.ti, started.ti.tryNumber, now);
        inFlight.set(started, now);
      }
    }
    if (pass) {
      passes += 1;
      // Every pass looks at the runs with news (as the events queue does in AWS); a sweep also at
      // those it finds need a look. A sweep creates runs for the due DAGs it lists (up to a page
      // of them), other passes for the DAGs woken up; a wake-up a sweep did not reach stays for the next pass.
      const runs = [...pendingRuns.values()];
      const dags = sweep ? undefined : [...pendingDags];
      const dagIds = sweep ? undefined : [...wokenDags];
      pendingRuns.clear();
      pendingDags.clear();
      if (!sweep) wokenDags.clear();
      await schedulerPass(deps, { now, sweep, runs, dags, dagIds });
    }
    for (const message of dispatched.splice(0)) {
      const begun = await beginTry(deps, message, { now, workerId: 'simulated-worker' });
      if (begun.kind !== 'started') continue;
      const { durationMs: d, outcome } = outcomeOf(begun.started);
      inFlight.set(begun.started, now);
      queue.push(now + d, { kind: 'finish', started: begun.started, outcome });
    }
    input.onProgress?.({ now, start, end });
  }
  now = end;
  return buildReport({ store, recorder, scenario, settings: deps.settings, seed, passes });
}

export { runSimulation };
