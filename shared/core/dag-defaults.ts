/**
 * A deployment's defaults for DAG and task options: Airflow's `[core]` knobs
 * (`max_active_runs_per_dag`, `max_active_tasks_per_dag`, `max_consecutive_failed_dag_runs_per_dag`,
 * `default_task_retries`, `default_task_retry_delay`, `default_task_execution_timeout`).
 *
 * `compileDag` takes them as an argument: a DAG's own options, and for tasks its `defaultArgs` and
 * the task's options, win over them. Deployments carry them in `UPDRAFT_SETTINGS.dagDefaults` (the
 * resolved shape, in ms); users write the input shape (durations such as `5m`) in the `Updraft`
 * construct's `dagDefaults` prop, a local `--dag-defaults` file or a scenario's settings.
 */
import { z } from 'zod';
import { type FieldIssue, parseFields } from './compile-schema.ts';
import { type Duration, parseDuration } from './duration.ts';

export interface DagDefaults {
  /** Runs of a DAG queued or running at once (`[core] max_active_runs_per_dag`). Default 16. */
  maxActiveRuns: number;
  /** Task instances of a DAG run queued or running at once (`[core] max_active_tasks_per_dag`). Default 16. */
  maxActiveTasks: number;
  /** Failed runs in a row that pause a DAG, 0 = never (`[core] max_consecutive_failed_dag_runs_per_dag`). Default 0. */
  maxConsecutiveFailedDagRuns: number;
  /** Retries of a task (`[core] default_task_retries`). Default 0. */
  retries: number;
  /** Wait before a retry (`[core] default_task_retry_delay`). Default 300 s. */
  retryDelayMs: number;
  /** Longest a try may run, null = no limit (`[core] default_task_execution_timeout`). Default none. */
  executionTimeoutMs: number | null;
}

/** Airflow's defaults of these knobs (SEMANTICS.md §1). */
export const DEFAULT_DAG_DEFAULTS: DagDefaults = {
  maxActiveRuns: 16,
  maxActiveTasks: 16,
  maxConsecutiveFailedDagRuns: 0,
  retries: 0,
  retryDelayMs: 300_000,
  executionTimeoutMs: null,
};

const ms = (value: unknown): number => {
  const parsed = parseDuration(value);
  return parsed.ok ? parsed.ms : 0;
};

const positiveInt = z.number().int().min(1, { message: 'must be a whole number ≥ 1' });
const nonNegativeInt = z.number().int().min(0, { message: 'must be a whole number ≥ 0' });
const duration = z.custom<Duration>((v) => parseDuration(v).ok, {
  message: 'must be a duration such as 30s, 5m, 2h, 1d or a number of milliseconds',
});
const positiveDuration = duration.refine((v) => ms(v) > 0, {
  message: 'must be longer than 0 (or null for none)',
});

/** What users write: any subset, durations as in DAG options (`30s`, `5m`, or a number of ms). */
export const DagDefaultsInput = z
  .object({
    maxActiveRuns: positiveInt,
    maxActiveTasks: positiveInt,
    maxConsecutiveFailedDagRuns: nonNegativeInt,
    retries: nonNegativeInt,
    retryDelay: duration,
    executionTimeout: positiveDuration.nullable(),
  })
  .partial()
  .strict();
export type DagDefaultsInput = z.infer<typeof DagDefaultsInput>;

/** The resolved shape as `UPDRAFT_SETTINGS.dagDefaults` carries it: any subset, in ms, strict. */
export const DagDefaultsSettings = z
  .object({
    maxActiveRuns: positiveInt,
    maxActiveTasks: positiveInt,
    maxConsecutiveFailedDagRuns: nonNegativeInt,
    retries: nonNegativeInt,
    retryDelayMs: nonNegativeInt,
    executionTimeoutMs: positiveInt.nullable(),
  })
  .partial()
  .strict();

/**
 * Checks what a user wrote and fills in the rest from `base` (Airflow's defaults unless given).
 * Every problem names its field under `prefix` (e.g. `dagDefaults.maxActiveRuns`); unknown keys
 * are problems too, with the closest known key.
 */
function resolveDagDefaults(
  input: unknown,
  prefix = 'dagDefaults',
  base: DagDefaults = DEFAULT_DAG_DEFAULTS,
): { ok: true; defaults: DagDefaults } | { ok: false; issues: FieldIssue[] } {
  if (input === undefined || input === null) return { ok: true, defaults: base };
  if (typeof input !== 'object' || Array.isArray(input))
    return { ok: false, issues: [{ field: prefix, message: 'must be an object of DAG defaults' }] };
  const { data, issues } = parseFields(DagDefaultsInput.shape, input as Record<string, unknown>, prefix);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    defaults: {
      maxActiveRuns: data.maxActiveRuns ?? base.maxActiveRuns,
      maxActiveTasks: data.maxActiveTasks ?? base.maxActiveTasks,
      maxConsecutiveFailedDagRuns: data.maxConsecutiveFailedDagRuns ?? base.maxConsecutiveFailedDagRuns,
      retries: data.retries ?? base.retries,
      retryDelayMs: data.retryDelay === undefined ? base.retryDelayMs : ms(data.retryDelay),
      executionTimeoutMs:
        data.executionTimeout === undefined
          ? base.executionTimeoutMs
          : data.executionTimeout === null
            ? null
            : ms(data.executionTimeout),
    },
  };
}

/** The defaults that differ from Airflow's, for `UPDRAFT_SETTINGS` (absent = the default). */
function changedDagDefaults(defaults: DagDefaults): Partial<DagDefaults> {
  return Object.fromEntries(
    Object.entries(defaults).filter(
      ([key, value]) => DEFAULT_DAG_DEFAULTS[key as keyof DagDefaults] !== value,
    ),
  ) as Partial<DagDefaults>;
}

export { changedDagDefaults, resolveDagDefaults };
