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
  /** Order of creation, for stable messages. */
  index: number;
}

export interface BuildIssue {
  field: string;
  message: string;
}

export interface DagRuntime {
  taskFunction(taskId: string): AnyFunction | undefined;
  sensorPoke(taskId: string): AnyFunction | undefined;
  taskCallbacks(taskId: string): Partial<Record<'onSuccess' | 'onFailure' | 'onRetry', AnyFunction>>;
  dagCallbacks(): Partial<Record<'onSuccess' | 'onFailure', AnyFunction>>;
}

export interface DagDefinition {
  readonly [DAG_BRAND]: true;
  dagId: string;
  /** DAG options as written, callbacks removed. */
  options: Record<string, unknown>;
  tasks: Map<string, TaskDefinition>;
  issues: BuildIssue[];
  runtime: DagRuntime;
}

function isDagDefinition(value: unknown): value is DagDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true
  );
}

export { isDagDefinition };
