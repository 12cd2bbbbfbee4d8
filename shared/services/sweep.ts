/**
 * The sweep (every minute in AWS): tries whose heartbeat went silent, dispatches that never arrived
 * (queued too long: re-dispatched up to `numStuckInQueuedRetries` times, then failed), and retries
 * and sensor reschedules that are now due. Every change is conditional: a try that finishes while
 * the sweep looks at it wins, and the sweep's write is simply lost.
 */
import { taskOf } from '#core/manifest.ts';
import type { TaskInstance } from '#core/model.ts';
import type { Reconciliation } from '#core/reconcile.ts';
import { isEligibleToRetry, nextRetryAt } from '#core/retry.ts';
import { holdsSlot } from '#core/states.ts';
import { inFlight } from './advance-runs.ts';
import { CONTAINER_WORKER, isContainerWorker } from './container-try.ts';
import { allPages, type ServiceDeps } from './deps.ts';
import { reconcileCounters } from './reconcile.ts';
import { afterTryElsewhere, notifyTaskFailed, taskFinished } from './worker.ts';

export interface SweepReport {
  heartbeatTimeouts: number;
  redispatched: number;
  stuckFailed: number;
  /** Runs with due retries or reschedules, or a try the sweep just failed: to be evaluated now. */
  dueRuns: { dagId: string; runId: string }[];
  /**
   * Runs (`dagId/runId`) with an instance queued or running that the sweep left so — and, where the
   * store lists them with the holders (`listLiveTis`), one scheduled or waiting for a retry or
   * reschedule not yet due: each of those brings news by itself (a try's end, a claim, a due wait),
   * so the sweep need not look at them.
   */
  busyRuns: Set<string>;
  /** The slot counters checked against their holders (drift is a bug: logged, and repaired). */
  counters: Reconciliation;
}

function keyOf(ti: TaskInstance) {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

/** Fails a try (retry if eligible) the way a task failure would, releasing its slots. */
async function failTry(
  deps: ServiceDeps,
  ti: TaskInstance,
  from: 'queued' | 'running',
  error: string,
  now: number,
) {
  const dag = await deps.manifests.get(ti.dagId, ti.dagVersion);
  const task = taskOf(dag, ti.taskId);
  const retry = isEligibleToRetry({ tryNumber: ti.tryNumber, maxTries: ti.maxTries, retries: task.retries });
  const ended = await deps.store.endTry({
    key: keyOf(ti),
    expect: { state: from, tryNumber: ti.tryNumber },
    set: retry
      ? {
          state: 'up_for_retry',
          endedAt: now,
          error,
          nextRetryAt: nextRetryAt({
            task,
            dagId: ti.dagId,
            logicalDate: ti.logicalDate,
            tryNumber: ti.tryNumber,
            endedAt: now,
          }),
        }
      : { state: 'failed', endedAt: now, error },
  });
  if (ended) {
    deps.logger.warn(error, { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, tryNumber: ti.tryNumber });
    await deps.events.publish([taskFinished(ti)]);
    if (!retry) await notifyTaskFailed(deps, ti, error, now);
    // onRetry or onFailure, as if the try had failed in the worker (Airflow runs them for zombies).
    const run =
      deps.callbacks && task.callbacks.length > 0 ? await deps.store.getRun(ti.dagId, ti.runId) : null;
    if (run) await afterTryElsewhere(deps, { ti, run, dag, task }, { state: 'failed', error });
  }
  return ended;
}

/**
 * A container try sends no heartbeats (its end comes as a task event): it is only failed, and its
 * container stopped, once it outlives its executionTimeout by a heartbeat timeout.
 */
async function sweepContainerTry(deps: ServiceDeps, ti: TaskInstance, now: number): Promise<boolean> {
  const dag = await deps.manifests.get(ti.dagId, ti.dagVersion);
  const timeoutMs = taskOf(dag, ti.taskId).executionTimeoutMs;
  if (timeoutMs === null || ti.startedAt === null) return false;
  if (now < ti.startedAt + timeoutMs + deps.settings.heartbeatTimeoutMs) return false;
  const containerId = ti.workerId!.slice(CONTAINER_WORKER.length);
  try {
    await deps.containers?.stop(containerId, 'execution timeout');
  } catch (error) {
    deps.logger.warn('container not stopped', { containerId, error: String(error) });
  }
  return failTry(
    deps,
    ti,
    'running',
    `execution timeout: the container ran longer than ${timeoutMs} ms`,
    now,
  );
}

async function runSweep(deps: ServiceDeps, now: number): Promise<SweepReport> {
  const { settings, store } = deps;
  const report: SweepReport = {
    heartbeatTimeouts: 0,
    redispatched: 0,
    stuckFailed: 0,
    dueRuns: [],
    busyRuns: new Set(),
    counters: { drift: [], repaired: [], unsettled: 0 },
  };
  // A store that reads every live instance to find the holders hands them all over: the runs with
  // work in flight are then known without reading each run (sweepLook, advance-runs.ts).
  const live = store.listLiveTis ? await allPages((cursor) => store.listLiveTis!({ cursor })) : null;
  const holding = live
    ? live.filter((ti) => holdsSlot(ti.state))
    : await allPages((cursor) => store.listHoldingTis({ cursor }));
  for (const ti of live ?? [])
    if (!holdsSlot(ti.state) && inFlight(ti, now)) report.busyRuns.add(`${ti.dagId}/${ti.runId}`);
  const failed: TaskInstance[] = [];
  for (const ti of holding) {
    let ended = false;
    if (ti.state === 'running' && isContainerWorker(ti.workerId)) {
      ended = await sweepContainerTry(deps, ti, now);
      if (ended) report.heartbeatTimeouts += 1;
    } else if (
      ti.state === 'running' &&
      (ti.heartbeatAt ?? ti.startedAt ?? now) < now - settings.heartbeatTimeoutMs
    ) {
      const silentFor = Math.round((now - (ti.heartbeatAt ?? now)) / 1000);
      ended = await failTry(deps, ti, 'running', `heartbeat timeout: no heartbeat for ${silentFor}s`, now);
      if (ended) report.heartbeatTimeouts += 1;
    } else if (ti.state === 'queued' && (ti.queuedAt ?? now) < now - settings.taskQueuedTimeoutMs) {
      if (ti.dispatchAttempts < settings.numStuckInQueuedRetries) {
        const requeued = await store.endTry({
          key: keyOf(ti),
          expect: { state: 'queued', tryNumber: ti.tryNumber },
          set: { state: 'scheduled', queuedAt: null, dispatchAttempts: ti.dispatchAttempts + 1 },
        });
        if (requeued) report.redispatched += 1;
      } else {
        const error = `stuck in queued: dispatched ${ti.dispatchAttempts + 1} times without starting`;
        ended = await failTry(deps, ti, 'queued', error, now);
        if (ended) report.stuckFailed += 1;
      }
    }
    // A try the sweep failed is its run's news now (its event is also published); a re-dispatched
    // one is scheduled again, so its claim brings news as any other.
    if (ended) failed.push(ti);
    else report.busyRuns.add(`${ti.dagId}/${ti.runId}`);
  }
  const due = await store.listDueWaits(now, 1000);
  const runs = new Map(
    [...failed, ...due].map((ti) => [`${ti.dagId}/${ti.runId}`, { dagId: ti.dagId, runId: ti.runId }]),
  );
  report.dueRuns = [...runs.values()];
  // The reconciler (store issue): counters recounted from their holders, drift repaired and logged.
  report.counters = await reconcileCounters(deps, { repair: true });
  return report;
}

export { runSweep };
