/**
 * The records the scheduler reasons about. Instants are epoch milliseconds (UTC); `null` means "not yet".
 * These are plain data: stores persist them, services change them only through conditional writes.
 */
import { type DagDefaults, DEFAULT_DAG_DEFAULTS } from './dag-defaults.ts';
import type { DagManifest } from './manifest.ts';
import type { RunState, RunType, TiState } from './states.ts';

/** A DAG as registered: its current version and scheduling bookkeeping (Airflow's DagModel). */
export interface DagRecord {
  dagId: string;
  /** Hash of the manifest new runs use. */
  currentVersion: string;
  paused: boolean;
  /** False once its file is deleted: no new runs. */
  active: boolean;
  fileloc: string | null;
  /** Next scheduled run to create (Airflow's next_dagrun / next_dagrun_create_after); null = none due. */
  nextRun: {
    logicalDate: number;
    dataIntervalStart: number;
    dataIntervalEnd: number;
    runAfter: number;
  } | null;
  /** Data interval of the last scheduled run created; the timetable continues from it. */
  lastAutomatedInterval: { start: number; end: number } | null;
  registeredAt: number;
  updatedAt: number;
  /** Latest import problem for this DAG's file, if its newest upload failed. */
  importError: ImportError | null;
  /** Warnings shown beside the DAG (unknown pool, poolSlots larger than the pool). */
  warnings: string[];
}

/** One registered version of a DAG: its hash and when it was first registered (null if not recorded). */
export interface DagVersionInfo {
  version: string;
  registeredAt: number | null;
}

/** Newest registration first; versions without a time last, by hash. */
function byRegistration(a: DagVersionInfo, b: DagVersionInfo): number {
  if (a.registeredAt !== b.registeredAt) {
    if (a.registeredAt === null) return 1;
    if (b.registeredAt === null) return -1;
    return b.registeredAt - a.registeredAt;
  }
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

export interface ImportError {
  fileloc: string;
  message: string;
  at: number;
}

export interface DagRun {
  dagId: string;
  runId: string;
  runType: RunType;
  state: RunState;
  /** Logical date = data interval start (interval timetables) or fire time (trigger timetables). */
  logicalDate: number;
  dataIntervalStart: number;
  dataIntervalEnd: number;
  /** Earliest instant the run may start. */
  runAfter: number;
  /** DAG version (manifest hash) this run uses for its whole life. */
  dagVersion: string;
  conf: Record<string, unknown>;
  backfillId: string | null;
  /** Start order inside a backfill (1..n); null for other runs. */
  backfillOrdinal: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Incremented each time the run is cleared back to queued. */
  clearNumber: number;
  /** Why the run ended as it did (e.g. "all_tasks_deadlocked", "dagrun_timeout"). */
  note: string | null;
}

/**
 * What a try uses of its run: fields that never change in the run's life (a clear keeps them), so a
 * dispatch message can carry them and the worker need not read the run (DispatchMessage.run).
 */
export type RunOfTry = Pick<
  DagRun,
  'dagId' | 'runId' | 'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd' | 'dagVersion' | 'conf'
>;

export interface TiKey {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 for unmapped tasks (Airflow's convention). */
  mapIndex: number;
}

/**
 * A counter a claim raises: the unit is slots for pools and task instances for the rest.
 * `taskRun` is max_active_tis_per_dagrun; `task` is max_active_tis_per_dag.
 */
export type CounterKey =
  | { kind: 'global' }
  | { kind: 'pool'; pool: string }
  | { kind: 'dag'; dagId: string }
  | { kind: 'task'; dagId: string; taskId: string }
  | { kind: 'taskRun'; dagId: string; runId: string; taskId: string }
  /** Worker concurrency of an executor (Airflow's worker concurrency), when bounded. */
  | { kind: 'executor'; executor: 'lambda' | 'fargate' };

export interface Hold {
  counter: CounterKey;
  amount: number;
}

export interface TaskInstance extends TiKey {
  state: TiState;
  /** Airflow's try_number: incremented when the instance becomes scheduled (not from up_for_reschedule). */
  tryNumber: number;
  /** Airflow's max_tries: retries allowed (raised by clearing). */
  maxTries: number;
  /** Effective priority weight (priorityWeightTotal of the task). */
  priorityWeight: number;
  pool: string;
  poolSlots: number;
  executor: 'lambda' | 'fargate';
  logicalDate: number;
  dagVersion: string;
  /** Counters this instance holds while queued or running; released exactly once when its try ends. */
  holds: Hold[];
  scheduledAt: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  heartbeatAt: number | null;
  /** up_for_retry: when the next try may be scheduled. */
  nextRetryAt: number | null;
  /** up_for_reschedule: when the sensor pokes again. */
  rescheduleAt: number | null;
  /** First poke of the current sensor try, for the sensor timeout. */
  firstPokeAt: number | null;
  /** Times the current try was sent back to scheduled after sitting in queued too long. */
  dispatchAttempts: number;
  /** Why the instance is not running, when it is waiting; null otherwise. */
  waitReason: WaitReason | null;
  /** Worker that owns the running try (for logs and diagnostics). */
  workerId: string | null;
  /** Short error message of the last failed try. */
  error: string | null;
  /** Small JSON result of a successful try (larger results are stored elsewhere and referenced). */
  result: unknown;
}

/** Every reason a task instance may be waiting, as one structured value (answers "why isn't my task running?"). */
export type WaitReason =
  | { kind: 'upstream_pending'; pending: string[] }
  | { kind: 'retry_at'; at: number }
  | { kind: 'reschedule_at'; at: number }
  | { kind: 'run_not_running'; runState: RunState }
  | { kind: 'run_limit'; running: number; limit: number }
  | { kind: 'pool_full'; pool: string; used: number; slots: number; needs: number }
  | { kind: 'pool_missing'; pool: string }
  | { kind: 'pool_too_small'; pool: string; needs: number; slots: number }
  | { kind: 'dag_max_active_tasks'; used: number; limit: number }
  | { kind: 'task_max_active_tis_per_dag'; used: number; limit: number }
  | { kind: 'task_max_active_tis_per_dagrun'; used: number; limit: number }
  | { kind: 'parallelism'; used: number; limit: number }
  | { kind: 'executor_capacity'; executor: 'lambda' | 'fargate' }
  | { kind: 'dag_paused' };

export interface Pool {
  name: string;
  /** -1 means unlimited. */
  slots: number;
  description: string;
  /** Whether deferred tasks count (kept for Airflow parity; Updraft has no deferred state yet). */
  includeDeferred: boolean;
}

export const DEFAULT_POOL = 'default_pool';
export const DEFAULT_POOL_SLOTS = 128;

export type ReprocessBehavior = 'none' | 'failed' | 'completed';

export interface Backfill {
  backfillId: string;
  dagId: string;
  from: number;
  to: number;
  reprocessBehavior: ReprocessBehavior;
  runBackwards: boolean;
  maxActiveRuns: number;
  conf: Record<string, unknown>;
  createdAt: number;
  completedAt: number | null;
  cancelledAt: number | null;
  /**
   * Logical dates left alone, with the reason ("in flight", "already exists"): the first
   * `MAX_SKIPS_KEPT`; `skippedCount` counts them all.
   */
  skipped: { logicalDate: number; reason: string }[];
  skippedCount: number;
  /**
   * Identifies the request that created it: the client's idempotency key, or one derived from the
   * request's content. A retried request with the same key gets this backfill back, not a second one.
   */
  idempotencyKey: string;
  /** DAG version whose timetable gave the backfill's logical dates (fixed for its whole life). */
  dagVersion: string;
  /** Logical dates in [from, to] whose interval had ended at creation: what the backfill looks at. */
  planned: number;
  /**
   * How many of the planned logical dates (in start order) have been acted on: runs are created
   * (or re-run) as the window rolls, a few ahead of those running, never all up front.
   */
  materialized: number;
  /** Bumped by every update; updates are conditional on the revision the writer read. */
  revision: number;
}

/** Skipped logical dates kept on a backfill with their reasons (the rest are only counted). */
export const MAX_SKIPS_KEPT = 200;

/** What a backfill update may change (conditionally on its revision). */
export type BackfillPatch = Partial<
  Pick<Backfill, 'completedAt' | 'cancelledAt' | 'skipped' | 'skippedCount' | 'materialized'>
>;

/** Scheduler-wide settings (Airflow's [core]/[scheduler] config). */
export interface SchedulerSettings {
  /** Global limit on queued + running task instances. Default 32; must be ≥ 1. */
  parallelism: number;
  /** How long a task instance may sit in queued before its dispatch is retried. Default 600 s. */
  taskQueuedTimeoutMs: number;
  /** Re-dispatches of a stuck queued try before it fails. Default 2. */
  numStuckInQueuedRetries: number;
  /** A running try silent this long is failed. Default 300 s. */
  heartbeatTimeoutMs: number;
  /** Batch size of one claim transaction. */
  maxTisPerQuery: number;
  /** Worker concurrency per executor (how many tries may be queued+running on it); null = unbounded. */
  executorCapacity: { lambda: number | null; fargate: number | null };
  /** The deployment's DAG limits and task retry defaults, under every DAG's own options (the dag-processor compiles with them). */
  dagDefaults: DagDefaults;
  /**
   * Airflow's `[scheduler] schedule_after_task_execution`: the worker that ends a try of a task with
   * downstream tasks runs the scheduler's narrow pass for it itself (claims and dispatches what
   * follows) instead of sending the `task_finished` event. Default true.
   */
  scheduleAfterTaskExecution: boolean;
}

export const DEFAULT_SETTINGS: SchedulerSettings = {
  parallelism: 32,
  taskQueuedTimeoutMs: 600_000,
  numStuckInQueuedRetries: 2,
  heartbeatTimeoutMs: 300_000,
  maxTisPerQuery: 100,
  executorCapacity: { lambda: null, fargate: null },
  dagDefaults: DEFAULT_DAG_DEFAULTS,
  scheduleAfterTaskExecution: true,
};

/**
 * The DAG record after registering a version: a new DAG starts as its manifest says (paused on
 * creation by default); a known DAG points at the new version and keeps its paused state and its
 * scheduling bookkeeping. `updatedAt` always moves, even twice at one instant.
 */
function registeredDag(
  existing: DagRecord | null,
  manifest: DagManifest,
  opts: { now: number; fileloc: string | null; warnings: string[] },
): DagRecord {
  if (existing) {
    return {
      ...existing,
      currentVersion: manifest.hash,
      active: true,
      fileloc: opts.fileloc ?? existing.fileloc,
      warnings: [...opts.warnings],
      importError: null,
      updatedAt: Math.max(opts.now, existing.updatedAt + 1),
    };
  }
  return {
    dagId: manifest.dagId,
    currentVersion: manifest.hash,
    paused: manifest.isPausedUponCreation,
    active: true,
    fileloc: opts.fileloc,
    nextRun: null,
    lastAutomatedInterval: null,
    registeredAt: opts.now,
    updatedAt: opts.now,
    importError: null,
    warnings: [...opts.warnings],
  };
}

/** The fields of a task instance that describe one try, as they are before any try starts (new or cleared). */
function blankTry(): Pick<
  TaskInstance,
  | 'scheduledAt'
  | 'queuedAt'
  | 'startedAt'
  | 'endedAt'
  | 'heartbeatAt'
  | 'nextRetryAt'
  | 'rescheduleAt'
  | 'firstPokeAt'
  | 'dispatchAttempts'
  | 'waitReason'
  | 'workerId'
  | 'error'
  | 'result'
> {
  return {
    scheduledAt: null,
    queuedAt: null,
    startedAt: null,
    endedAt: null,
    heartbeatAt: null,
    nextRetryAt: null,
    rescheduleAt: null,
    firstPokeAt: null,
    dispatchAttempts: 0,
    waitReason: null,
    workerId: null,
    error: null,
    result: null,
  };
}

function tiKeyString(key: TiKey): string {
  return `${key.dagId}/${key.runId}/${key.taskId}/${key.mapIndex}`;
}

function counterKeyString(key: CounterKey): string {
  switch (key.kind) {
    case 'global':
      return 'global';
    case 'pool':
      return `pool/${key.pool}`;
    case 'dag':
      return `dag/${key.dagId}`;
    case 'task':
      return `task/${key.dagId}/${key.taskId}`;
    case 'taskRun':
      return `taskRun/${key.dagId}/${key.runId}/${key.taskId}`;
    case 'executor':
      return `executor/${key.executor}`;
  }
}

export type { DagManifest };
export { blankTry, byRegistration, counterKeyString, registeredDag, tiKeyString };
