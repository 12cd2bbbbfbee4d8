/**
 * A worker's try: queued → running (conditional: a duplicate delivery is a no-op), run the task,
 * then end the try and release its slots in one atomic write, and tell the scheduler at once.
 * `beginTry` and `finishTry` are separate so the simulator can place them in virtual time.
 */
import { type DagManifest, type TaskManifest, taskOf } from '#core/manifest.ts';
import type { RunOfTry, TaskInstance } from '#core/model.ts';
import { isEligibleToRetry, nextRetryAt } from '#core/retry.ts';
import type { DispatchMessage, SchedulerEvent, TaskOutcome } from '#ports';
import type { ServiceDeps } from './deps.ts';

export interface StartedTry {
  ti: TaskInstance;
  run: RunOfTry;
  dag: DagManifest;
  task: TaskManifest;
  startedAt: number;
}

export type BeginResult =
  | { kind: 'started'; started: StartedTry }
  /** Already started, finished or superseded: acknowledge the message and do nothing. */
  | { kind: 'duplicate' }
  /** The run ended before the try could start: the instance was handed back (state none). */
  | { kind: 'run_finished' };

/**
 * How far apart the scheduler's and a worker's clocks may be: a carried run is read all the same
 * when its dagrunTimeout passes within this much of the worker's now.
 */
const CLOCK_SKEW_MS = 60_000;

/**
 * The run a message carries (`DispatchMessage.run`), when the worker may take it without reading
 * the run: whether the run finished is advisory here (it may finish just after any read), and a
 * run that a mark finishes ends its queued tries itself, so a start after it loses its condition.
 * A dagrunTimeout does not end them (they are left to their workers, evaluate-run.ts): so when
 * the DAG has one and it may have passed, the run is read after all. Null: read the run.
 */
async function carriedRun(
  deps: ServiceDeps,
  message: DispatchMessage,
  now: number,
): Promise<RunOfTry | null> {
  const { run } = message;
  if (!run) return null;
  const { dagId, runId } = message.key;
  const dag =
    deps.manifests.peek(dagId, message.dagVersion) ?? (await deps.manifests.get(dagId, message.dagVersion));
  const timeout = dag.dagrunTimeoutMs;
  if (timeout !== null && (run.startedAt === null || now + CLOCK_SKEW_MS >= run.startedAt + timeout))
    return null;
  return {
    dagId,
    runId,
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataIntervalStart,
    dataIntervalEnd: run.dataIntervalEnd,
    dagVersion: message.dagVersion,
    conf: run.conf,
  };
}

async function beginTry(
  deps: ServiceDeps,
  message: DispatchMessage,
  opts: { now: number; workerId: string },
): Promise<BeginResult> {
  const { store } = deps;
  // The instance is not read: the start is conditional on the message's try and returns the
  // instance as started, and a duplicate delivery is its failed condition. Nor is the run, when
  // the message carries it (carriedRun).
  const { dagId, runId } = message.key;
  let run: RunOfTry | null = await carriedRun(deps, message, opts.now);
  if (!run) {
    // Read eventually consistent: whether it is finished is advisory here, as it may finish just
    // after any read (its settlement then ends the try). A run not found at all is read again
    // consistently (an older image cannot be trusted to lack it).
    const read =
      (await store.getRun(dagId, runId, { consistent: false })) ?? (await store.getRun(dagId, runId));
    if (!read || read.state === 'success' || read.state === 'failed') {
      const handedBack = await store.endTry({
        key: message.key,
        expect: { state: 'queued', tryNumber: message.tryNumber },
        set: { state: 'none', queuedAt: null },
      });
      return handedBack ? { kind: 'run_finished' } : { kind: 'duplicate' };
    }
    run = read;
  }
  const ti = await store.startTry(message.key, message.tryNumber, opts);
  if (!ti) return { kind: 'duplicate' };
  const dag =
    deps.manifests.peek(ti.dagId, run.dagVersion) ?? (await deps.manifests.get(ti.dagId, run.dagVersion));
  const task = taskOf(dag, ti.taskId);
  const started: StartedTry = {
    ti,
    run,
    dag,
    task,
    startedAt: opts.now,
  };
  return { kind: 'started', started };
}

/**
 * The state a try ends in, from its outcome (SEMANTICS.md §7; sensors in reschedule mode). Each
 * end is one literal (`{ ...common, state }` takes V8's slow path on Node 20: see ti-copy.ts).
 */
function endOf(
  started: StartedTry,
  outcome: TaskOutcome,
  now: number,
): Partial<TaskInstance> & { state: TaskInstance['state'] } {
  const { ti, task, run } = started;
  if (outcome.state === 'success')
    return { endedAt: now, heartbeatAt: null, state: 'success', result: outcome.result ?? null, error: null };
  if (outcome.state === 'up_for_reschedule' && task.operator.kind === 'sensor') {
    const firstPokeAt = ti.firstPokeAt ?? started.startedAt;
    const rescheduleAt = now + task.operator.pokeIntervalMs;
    if (rescheduleAt - firstPokeAt <= task.operator.timeoutMs) {
      return { endedAt: now, heartbeatAt: null, state: 'up_for_reschedule', rescheduleAt, firstPokeAt };
    }
    // A sensor that runs out of time fails without retrying (Airflow's AirflowSensorTimeout).
    return {
      endedAt: now,
      heartbeatAt: null,
      state: 'failed',
      error: `sensor timed out after ${task.operator.timeoutMs} ms`,
    };
  }
  const error = outcome.error ?? 'task failed';
  const retryable = outcome.retryable !== false;
  if (
    retryable &&
    isEligibleToRetry({ tryNumber: ti.tryNumber, maxTries: ti.maxTries, retries: task.retries })
  ) {
    const at =
      outcome.retryAfterMs !== undefined
        ? now + outcome.retryAfterMs
        : nextRetryAt({
            task,
            dagId: ti.dagId,
            logicalDate: run.logicalDate,
            tryNumber: ti.tryNumber,
            endedAt: now,
          });
    return { endedAt: now, heartbeatAt: null, state: 'up_for_retry', nextRetryAt: at, error };
  }
  return { endedAt: now, heartbeatAt: null, state: 'failed', error };
}

/** Runs the pass an ended try's event would cause, in the worker (downstream-pass.ts). */
export interface DownstreamPass {
  /** true once the pass ran; false when it failed and the event must go to the scheduler. */
  run(event: SchedulerEvent): Promise<boolean>;
}

/**
 * Whether an end is handed to the worker's own downstream pass: a final state (a retry or
 * reschedule wait changes nothing downstream) of a task that has downstream tasks. A leaf's end
 * frees a slot for work of any DAG, which the scheduler claims in batches of events (cheaper than
 * a pass per end), and tells it whether the run is finished.
 */
function passesDownstream(started: StartedTry, state: TaskInstance['state']): boolean {
  return (
    started.task.downstream.length > 0 && (state === 'success' || state === 'failed' || state === 'skipped')
  );
}

/**
 * Ends the try (releasing its slots atomically), then schedules what follows: by the worker's own
 * downstream pass when it has one and the end qualifies, otherwise (or when that pass fails) by
 * the `task_finished` event to the scheduler; publishes a failure.
 */
async function finishTry(
  deps: ServiceDeps,
  started: StartedTry,
  outcome: TaskOutcome,
  now: number,
  opts: { downstream?: DownstreamPass } = {},
): Promise<{ ended: boolean; state: TaskInstance['state'] }> {
  const { ti } = started;
  const set = endOf(started, outcome, now);
  const ended = await deps.store.endTry({
    key: { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex },
    expect: { state: 'running', tryNumber: ti.tryNumber },
    set,
  });
  if (ended) {
    const event = taskFinished(ti);
    const passed =
      opts.downstream && passesDownstream(started, set.state) && (await opts.downstream.run(event));
    // The scheduler's pass for the event sees what the end let back (the downstream pass's claim
    // listing waits for it itself), and the invocation leaves nothing of it in flight.
    await deps.store.settled?.();
    if (!passed) await deps.events.publish([event]);
    if (set.state === 'failed') await notifyTaskFailed(deps, ti, set.error ?? 'task failed', now);
  } else
    deps.logger.warn('try ended elsewhere (cleared or timed out); result discarded', { ...keyFields(ti) });
  return { ended, state: set.state };
}

/**
 * The task's callback for a try that ended outside the executor (a container, the sweep), with
 * no upstream results; what goes wrong in it is logged and goes no further.
 */
async function afterTryElsewhere(
  deps: ServiceDeps,
  parts: Pick<StartedTry, 'ti' | 'run' | 'dag' | 'task'>,
  outcome: TaskOutcome,
): Promise<void> {
  if (!deps.callbacks || parts.task.callbacks.length === 0) return;
  const fields = keyFields(parts.ti);
  try {
    await deps.callbacks.afterTry(
      {
        ...parts,
        upstreamResults: {},
        signal: new AbortController().signal,
        log: (line) => deps.logger.warn(line, fields),
      },
      outcome,
    );
  } catch (error) {
    deps.logger.error('task callback not run', { ...fields, error: String(error) });
  }
}

/** Publishes a task failure; a notifier that fails is logged, never fails the try a second time. */
async function notifyTaskFailed(deps: ServiceDeps, ti: TaskInstance, error: string, at: number) {
  if (!deps.notifier) return;
  try {
    await deps.notifier.publish({
      type: 'task_failed',
      dagId: ti.dagId,
      runId: ti.runId,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      tryNumber: ti.tryNumber,
      error,
      at,
    });
  } catch (cause) {
    deps.logger.error('failure notification not published', { ...keyFields(ti), error: String(cause) });
  }
}

function keyFields(ti: TaskInstance) {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, tryNumber: ti.tryNumber };
}

/**
 * The scheduler event for a try that ended: it names the task, so the scheduler looks at the
 * task's downstream instead of the whole run.
 */
function taskFinished(ti: TaskInstance): SchedulerEvent {
  return {
    type: 'task_finished',
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    tryNumber: ti.tryNumber,
    dagVersion: ti.dagVersion,
  };
}

export { afterTryElsewhere, beginTry, endOf, finishTry, keyFields, notifyTaskFailed, taskFinished };
