/**
 * `dag(id, options, build)`: the DAG builder. Building never throws for an author's mistake: it
 * records the problem and `compileDag` reports every problem at once with its field.
 */
import { type AnyFunction, DAG_BRAND, type DagDefinition, type TaskDefinition } from '#core/definition.ts';
import type { TaskKind } from '#core/manifest.ts';
import type {
  ContainerOptions,
  DagOptions,
  HttpOptions,
  LambdaInvokeOptions,
  SensorOptions,
  ShellOptions,
  TaskFunction,
  TaskOptions,
} from './types.ts';

/**
 * A task in the DAG being built; wire dependencies with `before` / `after` (Airflow's `>>` / `<<`).
 * (Not `then`: an object with a `then` method is mistaken for a promise by `await`.)
 */
export interface TaskRef {
  readonly taskId: string;
  readonly dagId: string;
  /** `a.before(b)`: b runs after a. Returns its argument so chains read left to right. */
  before<T extends Target>(target: T): T;
  /** `c.after(a, b)`: c runs after a and b. Returns this task. */
  after(...targets: Target[]): TaskRef;
}

export type Target = TaskRef | string | (TaskRef | string)[];

export interface DagBuilder {
  readonly dagId: string;
  task(taskId: string, fn: TaskFunction): TaskRef;
  task(taskId: string, options: TaskOptions, fn: TaskFunction): TaskRef;
  shell(taskId: string, options: ShellOptions): TaskRef;
  container(taskId: string, options: ContainerOptions): TaskRef;
  lambdaInvoke(taskId: string, options: LambdaInvokeOptions): TaskRef;
  http(taskId: string, options: HttpOptions): TaskRef;
  empty(taskId: string, options?: TaskOptions): TaskRef;
  sensor(taskId: string, options: SensorOptions): TaskRef;
  /** Airflow's `chain`: each element runs before the next; an array fans out or in. */
  chain(...steps: Target[]): void;
}

/** Option keys that belong to a kind's config rather than to the task options. */
const CONFIG_KEYS: Record<TaskKind, readonly string[]> = {
  function: [],
  empty: [],
  shell: ['command', 'env', 'cwd'],
  container: ['image', 'command', 'env', 'cpu', 'memoryMiB'],
  lambdaInvoke: ['functionName', 'payload', 'invocationType'],
  http: ['url', 'method', 'headers', 'body', 'expectStatus'],
  sensor: ['pokeInterval', 'timeout'],
};
const CALLBACKS = ['onSuccess', 'onFailure', 'onRetry'] as const;

function dag(dagId: string, options: DagOptions, build: (d: DagBuilder) => void): DagDefinition {
  const tasks = new Map<string, TaskDefinition>();
  const issues: DagDefinition['issues'] = [];
  const functions = new Map<string, AnyFunction>();
  const pokes = new Map<string, AnyFunction>();
  const taskCallbacks = new Map<string, Partial<Record<(typeof CALLBACKS)[number], AnyFunction>>>();
  const { onSuccess, onFailure, ...dagOptions } = (options ?? {}) as DagOptions & Record<string, unknown>;
  const dagCallbacks: Partial<Record<'onSuccess' | 'onFailure', AnyFunction>> = {};
  for (const [name, fn] of [
    ['onSuccess', onSuccess],
    ['onFailure', onFailure],
  ] as const) {
    if (fn === undefined) continue;
    if (typeof fn === 'function') dagCallbacks[name] = fn as AnyFunction;
    else issues.push({ field: name, message: 'must be a function' });
  }

  // Callbacks in defaultArgs apply to every task that does not set its own.
  const defaultCallbacks: Partial<Record<(typeof CALLBACKS)[number], AnyFunction>> = {};
  const defaultArgs = dagOptions.defaultArgs;
  if (defaultArgs && typeof defaultArgs === 'object') {
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(defaultArgs)) {
      if (!(CALLBACKS as readonly string[]).includes(key)) rest[key] = value;
      else if (typeof value === 'function')
        defaultCallbacks[key as (typeof CALLBACKS)[number]] = value as AnyFunction;
      else issues.push({ field: `defaultArgs.${key}`, message: 'must be a function' });
    }
    dagOptions.defaultArgs = rest;
  }

  const idOf = (target: TaskRef | string, field: string): string | null => {
    if (typeof target === 'string') return target;
    if (target && typeof target === 'object' && typeof target.taskId === 'string') {
      if (target.dagId !== dagId) {
        issues.push({ field, message: `depends on ${target.dagId}.${target.taskId}, a task of another DAG` });
        return null;
      }
      return target.taskId;
    }
    issues.push({ field, message: 'dependencies must be tasks or task ids' });
    return null;
  };
  const flat = (targets: Target[]) => targets.flatMap((t) => (Array.isArray(t) ? t : [t]));
  const link = (upstream: TaskRef | string, downstream: TaskRef | string) => {
    const down = idOf(downstream, 'dependencies');
    const up = idOf(upstream, `tasks.${down}.upstream`);
    if (down === null || up === null) return;
    const task = tasks.get(down);
    if (!task)
      issues.push({ field: `tasks.${down}`, message: `is used in a dependency but was never created` });
    else task.upstream.add(up);
  };

  const add = (taskId: string, kind: TaskKind, raw: Record<string, unknown>, fn?: unknown): TaskRef => {
    if (tasks.has(taskId))
      issues.push({ field: `tasks.${taskId}`, message: 'task id is used twice in this DAG' });
    const config: Record<string, unknown> = {};
    const taskOptions: Record<string, unknown> = {};
    const callbacks: Partial<Record<(typeof CALLBACKS)[number], AnyFunction>> = {};
    for (const [key, value] of Object.entries(raw ?? {})) {
      if ((CALLBACKS as readonly string[]).includes(key)) {
        if (typeof value === 'function') callbacks[key as (typeof CALLBACKS)[number]] = value as AnyFunction;
        else issues.push({ field: `tasks.${taskId}.${key}`, message: 'must be a function' });
      } else if (kind === 'sensor' && key === 'poke') {
        if (typeof value === 'function') pokes.set(taskId, value as AnyFunction);
        else
          issues.push({
            field: `tasks.${taskId}.poke`,
            message: 'must be a function returning true when done',
          });
      } else if (CONFIG_KEYS[kind].includes(key)) config[key] = value;
      else taskOptions[key] = value;
    }
    if (kind === 'function') {
      if (typeof fn === 'function') functions.set(taskId, fn as AnyFunction);
      else
        issues.push({
          field: `tasks.${taskId}`,
          message: 'a function task needs a function: d.task(id, options?, fn)',
        });
    }
    if (kind === 'sensor' && !pokes.has(taskId) && !('poke' in (raw ?? {}))) {
      issues.push({ field: `tasks.${taskId}.poke`, message: 'a sensor needs a poke function' });
    }
    taskCallbacks.set(taskId, callbacks);
    tasks.set(taskId, { taskId, kind, options: taskOptions, config, upstream: new Set(), index: tasks.size });
    const ref: TaskRef = {
      taskId,
      dagId,
      before(target) {
        for (const t of flat([target])) link(ref, t);
        return target;
      },
      after(...targets) {
        for (const t of flat(targets)) link(t, ref);
        return ref;
      },
    };
    return ref;
  };

  const builder: DagBuilder = {
    dagId,
    task(taskId: string, a: TaskOptions | TaskFunction, b?: TaskFunction) {
      return typeof a === 'function'
        ? add(taskId, 'function', {}, a)
        : add(taskId, 'function', a as Record<string, unknown>, b);
    },
    shell: (taskId, o) => add(taskId, 'shell', o as unknown as Record<string, unknown>),
    container: (taskId, o) => add(taskId, 'container', o as unknown as Record<string, unknown>),
    lambdaInvoke: (taskId, o) => add(taskId, 'lambdaInvoke', o as unknown as Record<string, unknown>),
    http: (taskId, o) => add(taskId, 'http', o as unknown as Record<string, unknown>),
    empty: (taskId, o) => add(taskId, 'empty', (o ?? {}) as Record<string, unknown>),
    sensor: (taskId, o) => add(taskId, 'sensor', o as unknown as Record<string, unknown>),
    chain(...steps) {
      for (let i = 0; i + 1 < steps.length; i += 1) {
        const ups = flat([steps[i]!]);
        const downs = flat([steps[i + 1]!]);
        for (const up of ups) for (const down of downs) link(up, down);
      }
    },
  };

  try {
    build(builder);
  } catch (error) {
    issues.push({
      field: 'build',
      message: `the build function threw: ${error instanceof Error ? error.message : String(error)}`,
    });
  }

  return {
    [DAG_BRAND]: true,
    dagId,
    options: dagOptions as Record<string, unknown>,
    tasks,
    issues,
    runtime: {
      taskFunction: (id) => functions.get(id),
      sensorPoke: (id) => pokes.get(id),
      taskCallbacks: (id) => ({ ...defaultCallbacks, ...taskCallbacks.get(id) }),
      dagCallbacks: () => dagCallbacks,
    },
  };
}

export { dag };
