/** Wait reasons in plain words, for the CLI, the console and the simulator report. */
import { formatDuration } from './duration.ts';
import type { CounterKey, TiKey, WaitReason } from './model.ts';
import { assertNever } from './states.ts';

/** Upstream task ids listed before the rest are summarised as "and N more". */
const MAX_LISTED_UPSTREAM = 5;

function plural(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/** `2026-01-01T10:05:00Z` (seconds precision), plus "(in 4m)" when `now` is known. */
function describeInstant(at: number, now: number | undefined): string {
  const iso = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (now === undefined) return iso;
  return at > now ? `${iso} (in ${formatDuration(at - now)})` : `${iso} (due now)`;
}

function describeUpstream(pending: string[]): string {
  if (pending.length === 0) return 'waiting for upstream tasks';
  const listed = pending.slice(0, MAX_LISTED_UPSTREAM).join(', ');
  const more = pending.length - MAX_LISTED_UPSTREAM;
  const label = plural(pending.length, 'upstream task', 'upstream tasks');
  return `waiting for ${label}: ${listed}${more > 0 ? ` and ${more} more` : ''}`;
}

/** e.g. "pool etl is full (128/128 slots used; needs 1)". `now` lets times read as "in 4m". */
function describeWaitReason(reason: WaitReason, now?: number): string {
  switch (reason.kind) {
    case 'upstream_pending':
      return describeUpstream(reason.pending);
    case 'retry_at':
      return `retry at ${describeInstant(reason.at, now)}`;
    case 'reschedule_at':
      return `sensor pokes again at ${describeInstant(reason.at, now)}`;
    case 'run_not_running':
      return `DAG run is ${reason.runState}, not running`;
    case 'run_limit':
      return `DAG is at maxActiveRuns (${reason.running}/${reason.limit} runs running)`;
    case 'pool_full':
      return `pool ${reason.pool} is full (${reason.used}/${reason.slots} slots used; needs ${reason.needs})`;
    case 'pool_missing':
      return `pool ${reason.pool} does not exist — create it with \`updraft pools set ${reason.pool} <slots>\``;
    case 'pool_too_small':
      return `needs ${reason.needs} ${plural(reason.needs, 'slot')} but pool ${reason.pool} has only ${reason.slots}`;
    case 'dag_max_active_tasks':
      return `DAG is at maxActiveTasks (${reason.used}/${reason.limit})`;
    case 'task_max_active_tis_per_dag':
      return `task is at maxActiveTisPerDag (${reason.used}/${reason.limit})`;
    case 'task_max_active_tis_per_dagrun':
      return `task is at maxActiveTisPerDagrun in this run (${reason.used}/${reason.limit})`;
    case 'parallelism':
      return `parallelism is reached (${reason.used}/${reason.limit} task instances queued or running)`;
    case 'executor_capacity':
      return `every ${reason.executor} worker slot is busy (worker concurrency reached)`;
    case 'dag_paused':
      return 'DAG is paused';
    default:
      return assertNever(reason, 'wait reason');
  }
}

/** Whether two wait reasons say the same thing (so an unchanged reason is not written again). */
function sameWaitReason(a: WaitReason | null, b: WaitReason | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.kind !== b.kind) return false;
  return sameFields(a, b, false);
}

/** The fields of a reason that are a live count, not its cause. */
const isLiveCount = (key: string) => key === 'used' || key === 'running';

/**
 * Whether `a` and `b` have the same fields with the same values (arrays item by item), leaving out
 * the live counts when `causeOnly`. No copy is made (a rest copy, `{ used, ...rest }`, takes V8's
 * slow generic path on Node 20, and every claim step compares a reason per blocked candidate).
 */
function sameFields(a: WaitReason, b: WaitReason, causeOnly: boolean): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let count = 0;
  for (const key of Object.keys(x)) {
    if (causeOnly && isLiveCount(key)) continue;
    count += 1;
    const u = x[key];
    const v = y[key];
    if (Array.isArray(u) && Array.isArray(v)) {
      if (u.length !== v.length || u.some((item, i) => item !== v[i])) return false;
    } else if (u !== v) return false;
  }
  let other = 0;
  for (const key of Object.keys(y)) if (!causeOnly || !isLiveCount(key)) other += 1;
  return count === other;
}

/**
 * Whether two wait reasons give the same cause, apart from the live count in it (`used`, and a
 * run limit's `running`): a store writes a reason only when its cause changes, since rewriting a
 * blocked instance whenever a counter moves would cost a write per claim and release. Readers
 * show the live count (`liveCounter`, `withLiveCount`).
 */
function sameWaitCause(a: WaitReason | null, b: WaitReason | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.kind !== b.kind) return false;
  return sameFields(a, b, true);
}

/** The counter whose value is a reason's live `used` count, or null when it has none. */
function liveCounter(ti: TiKey, reason: WaitReason): CounterKey | null {
  switch (reason.kind) {
    case 'pool_full':
      return { kind: 'pool', pool: reason.pool };
    case 'dag_max_active_tasks':
      return { kind: 'dag', dagId: ti.dagId };
    case 'task_max_active_tis_per_dag':
      return { kind: 'task', dagId: ti.dagId, taskId: ti.taskId };
    case 'task_max_active_tis_per_dagrun':
      return { kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId };
    case 'parallelism':
      return { kind: 'global' };
    default:
      return null;
  }
}

/** The reason with its `used` count replaced by the counter's current value (others unchanged). */
function withLiveCount(reason: WaitReason, used: number): WaitReason {
  return 'used' in reason ? { ...reason, used } : reason;
}

export { describeWaitReason, liveCounter, sameWaitCause, sameWaitReason, withLiveCount };
