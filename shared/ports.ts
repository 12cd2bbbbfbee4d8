/**
 * The interfaces the services need. Adapters implement them: `shared/adapters/memory` (simulator,
 * unit tests), `shared/adapters/dynamodb`, `sqs`, `s3`, `eventbridge`, `ecs`.
 *
 * The state store is shaped for DynamoDB: every state change is a conditional write whose loser
 * gets `false` / a `lost` entry (a lost race is a normal outcome, never an exception), reads are
 * keyed or index queries with a limit, and there is no "load everything" call on a hot path.
 */
import type { DagManifest } from '#core/manifest.ts';
import type {
  Backfill,
  BackfillPatch,
  CounterKey,
  DagRecord,
  DagRun,
  DagVersionInfo,
  Hold,
  ImportError,
  Pool,
  RunOfTry,
  TaskInstance,
  TiKey,
  WaitReason,
} from '#core/model.ts';
import type { Reconciliation } from '#core/reconcile.ts';
import type { RunState, TiState } from '#core/states.ts';
import type { TryRecord } from '#core/try-history.ts';

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; null when there is none. */
  next: string | null;
}

export interface PageRequest {
  limit?: number;
  cursor?: string | null;
}

/** Expected current state of a task instance for a conditional change. */
export interface TiExpect {
  state: TiState;
  tryNumber: number;
}

/** A conditional change of one task instance: applied only if it is still as `expect` says. */
export interface TiChange {
  key: TiKey;
  expect: TiExpect;
  set: Partial<Omit<TaskInstance, keyof TiKey>>;
}

export interface CounterState {
  key: CounterKey;
  used: number;
}

/** One task instance to move scheduled → queued, with the counters it raises and their limits. */
export interface ClaimRequest {
  key: TiKey;
  /** The try claimed (for a `schedule` request: the try its scheduling change gives it). */
  tryNumber: number;
  /** Each counter raised by `amount`, only while `used + amount <= limit` (limit -1 = unlimited). */
  holds: (Hold & { limit: number })[];
  queuedAt: number;
  /**
   * The instance is not scheduled yet: the pass that schedules it claims it at once, so it moves
   * from the state and try it was `read` in (none, up_for_retry, up_for_reschedule) straight to
   * queued, with `set` (the scheduling change, as `updateTis` would have written it) applied in the
   * claim's own write; it is never listed as scheduled. Lost `ti_changed` if it is no longer as read.
   * An instance in none may have no item of its own yet (DynamoDB's pending blocks): the claim
   * then creates it.
   */
  schedule?: { read: TaskInstance; set: TiChange['set'] };
}

export type ClaimLossReason = 'ti_changed' | 'limit_reached' | 'conflict';

export interface ClaimResult {
  claimed: TiKey[];
  lost: { key: TiKey; reason: ClaimLossReason; counter?: CounterKey }[];
}

/** How a try ends: the new state and fields, written together with the release of its holds. */
export interface TryEnd {
  key: TiKey;
  expect: { state: 'queued' | 'running'; tryNumber: number };
  set: Partial<Omit<TaskInstance, keyof TiKey>> & { state: TiState };
}

export interface StateStore {
  // ---- DAGs
  /** Stores a manifest version (idempotent by hash) and creates or points the DAG record at it. */
  registerDagVersion(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ): Promise<{ dag: DagRecord; newVersion: boolean }>;
  getDag(dagId: string): Promise<DagRecord | null>;
  listDags(page?: PageRequest): Promise<Page<DagRecord>>;
  getDagVersion(dagId: string, version: string): Promise<DagManifest | null>;
  /**
   * The versions of a DAG (hash and when it was first registered), newest first. `registeredAt` is
   * null for a version stored before registration times were kept; those sort last, by hash.
   */
  listDagVersions(dagId: string): Promise<DagVersionInfo[]>;
  /** Conditional on `expectUpdatedAt` (optimistic lock); false if someone else changed it first. */
  updateDag(
    dagId: string,
    expectUpdatedAt: number,
    patch: Partial<Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>>,
    now: number,
  ): Promise<boolean>;
  /** Active, unpaused DAGs whose next run is due (`nextRun.runAfter <= now`), oldest first. */
  listDagsDue(now: number, limit: number): Promise<DagRecord[]>;
  recordImportError(dagId: string | null, error: ImportError): Promise<void>;
  listImportErrors(): Promise<ImportError[]>;
  clearImportError(fileloc: string): Promise<void>;

  // ---- runs
  /**
   * Creates the run and its task instances; a no-op returning `created: false` if a run with that
   * runId exists. If an earlier call died half-way, calling again completes the missing instances.
   */
  createRun(run: DagRun, tis: TaskInstance[]): Promise<{ created: boolean }>;
  /**
   * A run by id; `consistent: false` lets the store answer from a possibly older image (DynamoDB: an
   * eventually consistent read at half the price), for a caller whose decision on the run's state
   * is advisory anyway (the run may change just after any read).
   */
  getRun(dagId: string, runId: string, opts?: { consistent?: boolean }): Promise<DagRun | null>;
  /** Runs of a DAG, newest logical date first. */
  listRuns(dagId: string, opts?: PageRequest & { states?: RunState[] }): Promise<Page<DagRun>>;
  /** Queued and running runs of every DAG (a sparse index): the scheduler's working set. */
  listUnfinishedRuns(opts?: PageRequest & { dagId?: string }): Promise<Page<DagRun>>;
  /** The run of a DAG at a logical date, if any (latest created). */
  findRunByLogicalDate(dagId: string, logicalDate: number): Promise<DagRun | null>;
  updateRun(
    dagId: string,
    runId: string,
    expect: { state: RunState },
    patch: Partial<Omit<DagRun, 'dagId' | 'runId'>>,
  ): Promise<boolean>;

  // ---- task instances
  listTis(dagId: string, runId: string): Promise<TaskInstance[]>;
  getTi(key: TiKey): Promise<TaskInstance | null>;
  /**
   * Optional: instances by key, each as `getTi` reads it, in the order asked. A store that reads
   * neighbours more cheaply together (DynamoDB: one query of the range of a run's partition they
   * span, instead of a read per item) implements it; callers otherwise call `getTi` for each.
   */
  getTis?(keys: TiKey[]): Promise<(TaskInstance | null)[]>;
  /** Applies each change independently under its own condition. */
  updateTis(changes: TiChange[]): Promise<{ applied: TiKey[]; lost: TiKey[] }>;
  /** Records wait reasons without conditions (advisory, last writer wins); skips unchanged ones. */
  setWaitReasons(reasons: { key: TiKey; reason: WaitReason | null }[]): Promise<void>;

  // ---- claiming
  /**
   * Scheduled task instances in `pool` in claim order (priority desc, logical date asc, dagId, runId,
   * taskId, mapIndex asc), skipping the DAGs and tasks in `exclude` when the store can do so cheaply.
   */
  listClaimCandidates(query: {
    pool: string;
    limit: number;
    cursor?: string | null;
    exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
  }): Promise<Page<TaskInstance>>;
  /**
   * Optional: instances of `pool` a claim pass read as candidates before it knew that their own
   * DAG's or task's limit blocks them (`exclude`, as for listClaimCandidates). A store that keeps
   * such work out of later listings (DynamoDB parks it while the limit's counter is full) does the
   * same for these, so no pass reads them again; a store whose listing skips excluded work cheaply
   * (memory) need not implement it. Advisory: an instance that changed meanwhile is left alone.
   */
  setAsideBlocked?(
    pool: string,
    tis: TaskInstance[],
    exclude: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] },
  ): Promise<void>;
  /** Current values of counters (absent counters read as 0). */
  readCounters(keys: CounterKey[]): Promise<CounterState[]>;
  /**
   * Atomically per batch: each task instance scheduled(tryNumber) → queued (or, for a `schedule`
   * request, from the state it was read in) with `holds` recorded and
   * its wait reason cleared, and every counter raised under its limit. What lost (instance changed, limit reached) is reported and
   * the rest is still claimed: never partially applied per instance.
   */
  claim(requests: ClaimRequest[]): Promise<ClaimResult>;
  /**
   * queued(tryNumber) → running, returning the instance as started (so a worker need not read it
   * first); null for a duplicate delivery or a stale try.
   */
  startTry(
    key: TiKey,
    tryNumber: number,
    opts: { now: number; workerId: string },
  ): Promise<TaskInstance | null>;
  /** Refreshes heartbeatAt of a running try; false if the try is no longer running. */
  heartbeat(key: TiKey, tryNumber: number, now: number): Promise<boolean>;
  /**
   * Ends a try and releases its holds in one atomic write; false if the try already ended. The
   * same write adds the try to the instance's bounded history (`recordTry`, core/try-history.ts).
   */
  endTry(end: TryEnd): Promise<boolean>;
  /**
   * Optional: resolves once what the store still does for calls that already returned is done
   * (DynamoDB lets parked work back after a try end has committed and resolved). A worker awaits it
   * before it tells the scheduler of the end and before its invocation ends.
   */
  settled?(): Promise<void>;
  /**
   * The instance's ended tries, oldest first, the newest MAX_TRY_HISTORY of them (kept inside the
   * instance, so this is one keyed read); empty for an instance never tried or not there.
   */
  listTries(key: TiKey): Promise<TryRecord[]>;
  /**
   * Every counter that holds slots or has held some since the reconciler last found it idle at
   * zero, with its value (a sharded counter as the sum of its shards).
   */
  listCounters(): Promise<CounterState[]>;
  /**
   * The reconciler (run by the sweep through `reconcileCounters` in shared/services/reconcile.ts):
   * recounts the slots held by queued and running task instances from their recorded holds,
   * compares every counter (every shard) with them, and with `repair` sets a drifted one to what
   * its holders add up to, only where it has not moved since it was read. Safe at any time, beside
   * claims and try ends: a counter that moves while it is recounted is left `unsettled`, not judged.
   * Drift means a bug; every drift is reported, repaired or not.
   */
  reconcileCounters(opts: { repair: boolean }): Promise<Reconciliation>;
  /** Task instances in queued or running (sparse index), for the sweep and the reconciler. */
  listHoldingTis(opts?: PageRequest): Promise<Page<TaskInstance>>;
  /**
   * Optional: the instances of unfinished runs that hold slots or may come to (scheduled, queued,
   * running, up_for_retry, up_for_reschedule), for a store that reads them all anyway to find the
   * holders (DynamoDB: holders.ts). The sweep then reads no run it can see has work in flight; a
   * store without it (memory: a run's instances are a lookup) is asked per run.
   */
  listLiveTis?(opts?: PageRequest): Promise<Page<TaskInstance>>;
  /** Task instances in up_for_retry / up_for_reschedule whose time has come. */
  listDueWaits(now: number, limit: number): Promise<TaskInstance[]>;

  // ---- pools
  getPool(name: string): Promise<Pool | null>;
  listPools(): Promise<Pool[]>;
  /** Creates or resizes. Resizing below what is in use is allowed (nothing more is admitted until usage falls). */
  putPool(pool: Pool): Promise<void>;
  /** Creates a pool only if none has that name (default_pool always has); false if one exists. */
  createPool(pool: Pool): Promise<boolean>;
  /** false if the pool does not exist; throws ConflictError for default_pool. */
  deletePool(name: string): Promise<boolean>;

  // ---- backfills
  /** Creates a backfill only if none has its id; `created: false` otherwise. */
  createBackfill(backfill: Backfill): Promise<{ created: boolean }>;
  getBackfill(backfillId: string): Promise<Backfill | null>;
  /** The DAG's backfills, newest first. */
  listBackfills(dagId: string): Promise<Backfill[]>;
  /** Backfills neither completed nor cancelled, of every DAG (a sparse index): the sweep's safety net. */
  listUnfinishedBackfills(): Promise<Backfill[]>;
  /**
   * Applies the patch and bumps `revision` only if the backfill is still at `expect.revision`;
   * false when it moved (a lost race) or does not exist.
   */
  updateBackfill(backfillId: string, expect: { revision: number }, patch: BackfillPatch): Promise<boolean>;
}

/** A message handing one claimed try to an executor. */
export interface DispatchMessage {
  key: TiKey;
  tryNumber: number;
  /** The instance's DAG version, which is its run's. */
  dagVersion: string;
  executor: 'lambda' | 'fargate';
  /**
   * The run as the claim pass read it, so the worker need not read it: what the try uses (fixed for
   * the run's life) and when the run started (the worker reads the run only when the DAG's
   * dagrunTimeout may have passed). Absent (a producer from before 2026-12-03, a run the pass could
   * not read, or a conf too large to carry): the worker reads the run.
   */
  run?: DispatchedRun;
}

/** The run fields a dispatch message carries (`DispatchMessage.run`). */
export type DispatchedRun = Pick<
  DagRun,
  'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd' | 'conf' | 'startedAt'
>;

export interface Dispatcher {
  dispatch(messages: DispatchMessage[]): Promise<void>;
}

/** Events that make the scheduler look at something now instead of at the next sweep. */
export type SchedulerEvent =
  | {
      type: 'task_finished';
      dagId: string;
      runId: string;
      /** The task whose try ended, its try and DAG version; absent (older producers): the run is evaluated whole. */
      taskId?: string;
      tryNumber?: number;
      dagVersion?: string;
    }
  | { type: 'run_triggered'; dagId: string; runId: string }
  | { type: 'dag_registered'; dagId: string }
  | { type: 'pool_changed'; pool: string }
  | { type: 'tick'; dagId?: string };

export interface SchedulerEvents {
  publish(events: SchedulerEvent[]): Promise<void>;
}

/** Where each DAG's next wake-up is kept (EventBridge Scheduler in AWS, timers locally). */
export interface ScheduleRegistry {
  /** Creates or moves the one-shot schedule that wakes the scheduler for `dagId` at `at`; null removes it. */
  setNextWakeUp(dagId: string, at: number | null): Promise<void>;
}

export interface Clock {
  now(): number;
}

/** Stores DAG bundles (code) and task logs and large results. */
export interface BundleStore {
  putBundle(dagId: string, version: string, code: string): Promise<void>;
  getBundle(dagId: string, version: string): Promise<string | null>;
}

export interface LogStore {
  append(key: TiKey, tryNumber: number, lines: string[]): Promise<void>;
  read(key: TiKey, tryNumber: number): Promise<string[]>;
}

/** Things a task can do at run time; executors implement them for their environment. */
export interface TaskOutcome {
  state: 'success' | 'failed' | 'up_for_reschedule';
  /** For failed: whether the failure may be retried (NonRetryableError → false). */
  retryable?: boolean;
  /** RetryAfterError's delay overrides the computed retry time. */
  retryAfterMs?: number;
  error?: string;
  result?: unknown;
}

/** One try handed to whatever runs task code (in-process, a Lambda worker, a subprocess, a simulator). */
export interface TaskRunRequest {
  dag: DagManifest;
  task: import('#core/manifest.ts').TaskManifest;
  ti: TaskInstance;
  run: RunOfTry;
  /** Results of the direct upstream tasks, by task id. */
  upstreamResults: Record<string, unknown>;
  /** Aborted when executionTimeout passes or the try is taken away. */
  signal: AbortSignal;
  log(line: string): void;
}

export interface TaskExecutor {
  execute(request: TaskRunRequest): Promise<TaskOutcome>;
}

/**
 * Runs a task's callback for how a try ended (onSuccess, onRetry with retries left, onFailure),
 * for tries that end outside the executor: a container's exit, the sweep's heartbeat and
 * stuck-in-queued timeouts. Never rejects: a callback that throws is reported on `request.log`.
 */
export interface CallbackRunner {
  afterTry(request: TaskRunRequest, outcome: TaskOutcome): Promise<void>;
}

/** Structured logging as the services need it (Powertools Logger satisfies it). */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

// ---- the local stack and the functions (issue 4)

/** Results too large for the task-instance item, stored elsewhere (S3) and referenced from it. */
export interface ResultStore {
  /** Stores the result of a try and returns the reference to keep in the item. */
  put(key: TiKey, tryNumber: number, json: string): Promise<string>;
  /** The JSON text behind a reference, or null when it is gone. */
  get(ref: string): Promise<string | null>;
}

/** What is published when something fails (SNS in AWS; the log and the console locally). */
export type Notification =
  | {
      type: 'task_failed';
      dagId: string;
      runId: string;
      taskId: string;
      mapIndex: number;
      tryNumber: number;
      error: string;
      at: number;
    }
  | { type: 'run_failed'; dagId: string; runId: string; note: string | null; at: number };

export interface Notifier {
  publish(notification: Notification): Promise<void>;
}

/** Builds raw DAG files into bundles and loads bundles into DAG definitions (the dag-processor). */
export interface DagBundler {
  build(
    source: string,
    filename: string,
  ): Promise<{ ok: true; code: string } | { ok: false; message: string }>;
  load(
    code: string,
  ): Promise<
    { ok: true; dags: import('#core/definition.ts').DagDefinition[] } | { ok: false; message: string }
  >;
}

/** The code of each DAG version, loaded from its bundle once per process. */
export interface RuntimeSource {
  runtime(dagId: string, version: string): Promise<import('#core/definition.ts').DagRuntime | undefined>;
}

/** One try handed to a container runtime (ECS RunTask on Fargate; a subprocess locally). */
export interface ContainerLaunch {
  key: TiKey;
  tryNumber: number;
  /** The command to run (shell tasks: `bash -c <command>`), templates already rendered. */
  command: string[];
  /** Container image; absent for shell tasks (the deployment's default task image). */
  image?: string;
  env: Record<string, string>;
  cpu?: number;
  memoryMiB?: number;
}

export interface ContainerLauncher {
  /** Starts the container and returns its id (the ECS task ARN); its end arrives as a task event. */
  launch(launch: ContainerLaunch): Promise<{ taskId: string }>;
  /** Stops a running container (the try timed out or was taken away); a stopped one is fine. */
  stop(taskId: string, reason: string): Promise<void>;
}

/** Invokes a Lambda function for a `lambdaInvoke` task. */
export interface FunctionInvoker {
  /**
   * `RequestResponse` waits and returns the function's result (a function error rejects with its
   * message); `Event` returns once the invocation is queued.
   */
  invoke(
    functionName: string,
    payload: unknown,
    invocationType: 'RequestResponse' | 'Event',
    signal: AbortSignal,
  ): Promise<unknown>;
}
