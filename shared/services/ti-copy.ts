/**
 * Copies of task instances for hot paths, without object spread. On Node 20, `{ ...ti, state }`
 * (a spread followed by more properties, or a spread of a frozen record, as the memory store hands
 * out) takes V8's slow generic path: about 2 µs for an instance's 27 fields, where a copy made
 * from one literal takes about 0.1 µs and gives every copy one shape. The simulator's day made
 * ~100,000 such copies per hour of simulated time.
 *
 * The copy has exactly the model's fields (the type checker keeps the list complete); neither
 * store's records have others.
 */
import type { TaskInstance } from '#core/model.ts';

function copyTi(ti: TaskInstance): TaskInstance {
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    mapIndex: ti.mapIndex,
    state: ti.state,
    tryNumber: ti.tryNumber,
    maxTries: ti.maxTries,
    priorityWeight: ti.priorityWeight,
    pool: ti.pool,
    poolSlots: ti.poolSlots,
    executor: ti.executor,
    logicalDate: ti.logicalDate,
    dagVersion: ti.dagVersion,
    holds: ti.holds,
    scheduledAt: ti.scheduledAt,
    queuedAt: ti.queuedAt,
    startedAt: ti.startedAt,
    endedAt: ti.endedAt,
    heartbeatAt: ti.heartbeatAt,
    nextRetryAt: ti.nextRetryAt,
    rescheduleAt: ti.rescheduleAt,
    firstPokeAt: ti.firstPokeAt,
    dispatchAttempts: ti.dispatchAttempts,
    waitReason: ti.waitReason,
    workerId: ti.workerId,
    error: ti.error,
    result: ti.result,
  };
}

/** `{ ...ti, ...patch }`, as a copy of the model's fields with `patch` assigned over it. */
function tiWith(ti: TaskInstance, patch: Partial<TaskInstance>): TaskInstance {
  return Object.assign(copyTi(ti), patch);
}

export { copyTi, tiWith };
