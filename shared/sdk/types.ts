/** Types DAG authors see. Every option is documented with its default (Airflow's, unless noted). */
import type { Duration } from '#core/duration.ts';
import type { ExecutorKind, TriggerRule, WeightRule } from '#core/manifest.ts';

/** What a task function, a sensor's poke and a callback receive. */
export interface TaskContext {
  dagId: string;
  runId: string;
  taskId: string;
  /** 1 for the first try, 2 for the first retry, … */
  tryNumber: number;
  /** The run's logical date (= data interval start for interval schedules). */
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  /** Logical date as `YYYY-MM-DD` (UTC). */
  ds: string;
  /** Logical date as `YYYYMMDD`. */
  dsNodash: string;
  /** Logical date as an ISO-8601 instant. */
  ts: string;
  /** DAG params, overridden by the run's conf. */
  params: Record<string, unknown>;
  /** The run's conf (manual triggers and backfills). */
  conf: Record<string, unknown>;
  /** Results of the direct upstream tasks, by task id. */
  upstream: Record<string, unknown>;
  /** Writes a line to this try's log. */
  log: (...args: unknown[]) => void;
  /** Aborted when the try times out or is taken away: long work should stop. */
  signal: AbortSignal;
}

export type TaskFunction<R = unknown> = (ctx: TaskContext) => R | Promise<R>;
export type Callback = (ctx: TaskContext & { error?: string }) => void | Promise<void>;
export type DateInput = string | number | Date;

export interface TaskOptions {
  /** Retries after the first try fails. @default 0 */
  retries?: number;
  /** @default "300s" */
  retryDelay?: Duration;
  /** Doubles the delay each try, with deterministic jitter. @default false */
  retryExponentialBackoff?: boolean;
  /** Cap on the (backed-off) retry delay. @default none (24 h global cap) */
  maxRetryDelay?: Duration | null;
  /** A try running longer fails (and may retry). @default none */
  executionTimeout?: Duration | null;
  /** @default "default_pool" */
  pool?: string;
  /** Slots of the pool one instance holds. @default 1 */
  poolSlots?: number;
  /** @default 1 */
  priorityWeight?: number;
  /** @default "downstream" */
  weightRule?: WeightRule;
  /** @default "all_success" */
  triggerRule?: TriggerRule;
  /** Instances of this task running at once across all runs. @default unlimited */
  maxActiveTisPerDag?: number;
  /** Instances of this task running at once within one run. @default unlimited */
  maxActiveTisPerDagrun?: number;
  /** Where the task runs. @default "lambda" ("fargate" for container tasks) */
  executor?: ExecutorKind;
  /** Runs whose logical date is before this get no instance of the task. */
  startDate?: DateInput;
  /** Runs whose logical date is after this get no instance of the task. */
  endDate?: DateInput;
  doc?: string;
  onSuccess?: Callback;
  onFailure?: Callback;
  onRetry?: Callback;
}

export type ScheduleInput = string | { every: Duration } | null;

export interface DagOptions {
  /** Cron expression, preset (`@hourly` `@daily` `@weekly` `@monthly` `@yearly` `@once`), `{ every: '15m' }`, or null. @default null */
  schedule?: ScheduleInput;
  /** IANA zone the schedule and dates are read in. @default "UTC" */
  timezone?: string;
  /** `interval`: a run covers [start, end) and is created at its end; `trigger`: logical date = fire time. @default "interval" */
  scheduleStyle?: 'interval' | 'trigger';
  /** A date without a zone is read in `timezone`. */
  startDate?: DateInput;
  endDate?: DateInput;
  /** Create every missed interval since startDate. @default false */
  catchup?: boolean;
  /** @default 16 */
  maxActiveRuns?: number;
  /** Queued + running task instances of this DAG across all its runs. @default 16 */
  maxActiveTasks?: number;
  /** Pause the DAG after this many failed runs in a row (0 = never). @default 0 */
  maxConsecutiveFailedDagRuns?: number;
  /** A run taking longer fails. @default none */
  dagrunTimeout?: Duration | null;
  /** New DAGs start paused, like Airflow. @default true */
  pausedOnCreation?: boolean;
  tags?: string[];
  params?: Record<string, unknown>;
  description?: string;
  /** Options applied to every task unless the task sets them. */
  defaultArgs?: Omit<TaskOptions, 'onSuccess' | 'onFailure' | 'onRetry' | 'doc'> &
    Pick<TaskOptions, 'onSuccess' | 'onFailure' | 'onRetry'>;
  onSuccess?: Callback;
  onFailure?: Callback;
}

export interface ShellOptions extends TaskOptions {
  /** Run with `bash -c`; `{{ ds }}`, `{{ params.x }}`, … are filled in. */
  command: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface ContainerOptions extends TaskOptions {
  image: string;
  command?: string[];
  env?: Record<string, string>;
  /** Fargate CPU units (256 = 0.25 vCPU). */
  cpu?: number;
  memoryMiB?: number;
}

export interface LambdaInvokeOptions extends TaskOptions {
  functionName: string;
  payload?: unknown;
  /** @default "RequestResponse" */
  invocationType?: 'RequestResponse' | 'Event';
}

export interface HttpOptions extends TaskOptions {
  url: string;
  /** @default "GET" */
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** @default any 2xx */
  expectStatus?: number[];
}

export type PokeResult = boolean | { done: boolean; result?: unknown };

export interface SensorOptions extends TaskOptions {
  poke: (ctx: TaskContext) => PokeResult | Promise<PokeResult>;
  /** Time between pokes; in between the sensor holds no slot. @default "60s" */
  pokeInterval?: Duration;
  /** How long the sensor may wait in total before failing. @default "7d" */
  timeout?: Duration;
}
