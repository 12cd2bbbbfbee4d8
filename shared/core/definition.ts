/**
 * A DAG as its author built it with the SDK, before validation: raw options, tasks with their kind
 * and raw config, dependency edges, the problems noticed while building, and the runtime functions.
 * `compileDag` turns it into a `DagManifest` or reports every problem at once.
 */
import type { TaskKind } from './manifest.ts';

export const DAG_BRAND: unique symbol = Symbol.for('updraft.dag');

// biome-ignore lint/suspicious/noExplicitAny: task functions are typed precisely in the SDK; core only stores them.
export type AnyFunction = (...args: any[]) => unknown;

export interface TaskDefinition {
  taskId: string;
  kind: TaskKind;
  /** Task options (retries, pool, …) as written, callbacks removed. */
  options: Record<string, unknown>;
  /** Kind-specific settings (command, image, url, pokeInterval, …) as written, functions removed. */
  config: Record<string, unknown>;
  /** Direct upstream task ids (may name tasks that do not exist: compile reports them). */
  upstream: Set<string>;
  /** Order of creation (0 for the first task). */
  index: number;
}

export interface BuildIssue {
  field: string;
  message: string;
}

export type TaskCallbacks = Partial<Record<'onSuccess' | 'onFailure' | 'onRetry', AnyFunction>>;
export type DagCallbacks = Partial<Record<'onSuccess' | 'onFailure', AnyFunction>>;

/** The code of a DAG that the worker runs, looked up by task id. */
export interface DagRuntime {
  /** A function task's function. */
  taskFunction(taskId: string): AnyFunction | undefined;
  /** A sensor's poke. */
  sensorPoke(taskId: string): AnyFunction | undefined;
  /** A task's callbacks: its own, else those of the DAG's defaultArgs. */
  callbacks(taskId: string): TaskCallbacks;
  /** Same as `callbacks`. */
  taskCallbacks(taskId: string): TaskCallbacks;
  dagCallbacks(): DagCallbacks;
}

export interface DagDefinition {
  readonly [DAG_BRAND]: true;
  dagId: string;
  /** DAG options as written, callbacks removed (also from defaultArgs). */
  options: Record<string, unknown>;
  /** Tasks in creation order. */
  tasks: Map<string, TaskDefinition>;
  /** Problems noticed while building (compile reports them with the rest). */
  issues: BuildIssue[];
  runtime: DagRuntime;
}

function isDagDefinition(value: unknown): value is DagDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true
  );
}

export { isDagDefinition };
