/**
 * `dag(id, options, build)`: the DAG builder. Building never throws for an author's mistake: it
 * records the problem and `compileDag` reports every problem at once with its field.
 */
import {
  type AnyFunction,
  type BuildIssue,
  DAG_BRAND,
  type DagCallbacks,
  type DagDefinition,
  type DagRuntime,
  type TaskCallbacks,
  type TaskDefinition,
} from '#core/definition.ts';
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

/** A task of the DAG being built. Wire dependencies with `then` / `after` (Airflow's `>>` / `<<`). */
export interface TaskRef {
  readonly taskId: string;
  readonly dagId: string;
  /**
   * `a.then(b)`: b runs after a (`a >> b`); `a.then([b, c])` fans out. Returns its argument, so
   * `extract.then(transform).then(load)` reads left to right. A task is not a promise: never `await` it.
   */
  then<T extends Target>(target: T): T;
  /** Same as `then`. */
  before<T extends Target>(target: T): T;
  /** `c.after(a, b)`: c runs after a and b (`[a, b] >> c`). Returns this task. */
  after(...targets: Target[]): TaskRef;
}

export type Target = TaskRef | string | readonly (TaskRef | string)[];

export interface DagBuilder {
  readonly dagId: string;
  /** A task that runs a function; its (JSON-serializable) result is passed to downstream tasks. */
  task(taskId: string, fn: TaskFunction): TaskRef;
  task(taskId: string, options: TaskOptions, fn: TaskFunction): TaskRef;
  /** Runs a command with `bash -c`; `{{ ds }}`, `{{ params.x }}`, … are filled in. */
  shell(taskId: string, options: ShellOptions): TaskRef;
  /** Runs a container image (on Fargate unless `executor` says otherwise). */
  container(taskId: string, options: ContainerOptions): TaskRef;
  lambdaInvoke(taskId: string, options: LambdaInvokeOptions): TaskRef;
  http(taskId: string, options: HttpOptions): TaskRef;
  /** Does nothing and succeeds without being dispatched: a join point. */
  empty(taskId: string, options?: TaskOptions): TaskRef;
  /** Pokes until `poke` returns true; between pokes it holds no slot. */
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
const TASK_CALLBACKS = ['onSuccess', 'onFailure', 'onRetry'] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function';

const NOT_A_PROMISE =
  'a task is not a promise: build the DAG synchronously and never await a task or return it from an async function';

/** One DAG being built: its tasks, edges, functions and the problems seen so far. */
class DagBuild {
  readonly tasks = new Map<string, TaskDefinition>();
  readonly issues: BuildIssue[] = [];
  readonly functions = new Map<string, AnyFunction>();
  readonly pokes = new Map<string, AnyFunction>();
  readonly taskCallbacks = new Map<string, TaskCallbacks>();
  readonly defaultCallbacks: TaskCallbacks = {};
  readonly dagCallbacks: DagCallbacks = {};
  /** Edges in the order they were declared; resolved after `build` so a task may be named before it exists. */
  private readonly edges: { up: string; down: string }[] = [];
  private readonly refs = new WeakSet<object>();

  constructor(readonly dagId: string) {}

  isRef(value: unknown): boolean {
    return typeof value === 'object' && value !== null && this.refs.has(value);
  }

  issue(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** Takes callbacks out of `options`, recording those that are not functions. */
  callbacksOf(options: Record<string, unknown>, prefix: string): TaskCallbacks {
    const callbacks: TaskCallbacks = {};
    for (const name of TASK_CALLBACKS) {
      const fn = options[name];
      delete options[name];
      if (fn === undefined) continue;
      if (typeof fn === 'function') callbacks[name] = fn as AnyFunction;
      else this.issue(`${prefix}${name}`, `must be a function (ctx) => void, got ${typeof fn}`);
    }
    return callbacks;
  }

  /** The task id a dependency target names, or null (with an issue) when it is not one of ours. */
  private idOf(target: unknown, field: string): string | null {
    if (typeof target === 'string') return target;
    if (isObject(target) && typeof target.taskId === 'string') {
      if (this.isRef(target)) return target.taskId;
      this.issue(
        field,
        `depends on ${String(target.dagId)}.${target.taskId}, a task of another DAG: ` +
          'a DAG can only depend on its own tasks (wait for another DAG with a sensor)',
      );
      return null;
    }
    this.issue(field, `dependencies must be tasks or task ids, got ${typeof target}`);
    return null;
  }

  link(upstream: unknown, downstream: unknown): void {
    const down = this.idOf(downstream, 'dependencies');
    const up = this.idOf(upstream, down === null ? 'dependencies' : `tasks.${down}.upstream`);
    if (down !== null && up !== null) this.edges.push({ up, down });
  }

  /** Every pair (each of `ups`, each of `downs`). */
  linkAll(ups: Target, downs: Target): void {
    for (const up of flat(ups)) for (const down of flat(downs)) this.link(up, down);
  }

  ref(taskId: string): TaskRef {
    const build = this;
    const ref: TaskRef = {
      taskId,
      dagId: this.dagId,
      // biome-ignore lint/suspicious/noThenProperty: `a.then(b)` is the wiring API; being awaited is refused below.
      then<T extends Target>(target: T, onRejected?: unknown): T {
        // Called with functions, `then` is a promise resolving this task (`await task`).
        if (typeof target === 'function') return build.awaited(taskId, onRejected) as unknown as T;
        build.linkAll(ref, target);
        return target;
      },
      before: (target) => {
        this.linkAll(ref, target);
        return target;
      },
      after: (...targets) => {
        for (const target of targets) this.linkAll(target, ref);
        return ref;
      },
    };
    Object.freeze(ref);
    this.refs.add(ref);
    return ref;
  }

  /** Refuses a task being awaited (rejecting, rather than leaving the await hanging for ever). */
  private awaited(taskId: string, onRejected: unknown): undefined {
    this.issue(`tasks.${taskId}`, NOT_A_PROMISE);
    if (typeof onRejected === 'function') onRejected(new TypeError(`task ${taskId}: ${NOT_A_PROMISE}`));
    return undefined;
  }

  add(taskId: string, kind: TaskKind, raw: unknown, fn?: unknown): TaskRef {
    const prefix = `tasks.${taskId}`;
    if (this.tasks.has(taskId))
      this.issue(prefix, `task id ${taskId} is used twice in this DAG: give each task its own id`);
    if (raw !== undefined && !isObject(raw))
      this.issue(prefix, `options must be an object, got ${typeof raw}`);
    const options: Record<string, unknown> = { ...(isObject(raw) ? raw : {}) };
    const callbacks = this.callbacksOf(options, `${prefix}.`);
    const config: Record<string, unknown> = {};
    const taskOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (kind === 'sensor' && key === 'poke') continue;
      if (CONFIG_KEYS[kind].includes(key)) config[key] = value;
      else taskOptions[key] = value;
    }
    if (kind === 'function') {
      if (typeof fn === 'function') this.functions.set(taskId, fn as AnyFunction);
      else this.issue(prefix, 'a function task needs a function: d.task(id, fn) or d.task(id, options, fn)');
    }
    if (kind === 'sensor') {
      if (typeof options.poke === 'function') this.pokes.set(taskId, options.poke as AnyFunction);
      else this.issue(`${prefix}.poke`, 'a sensor needs poke: (ctx) => boolean, true when done');
    }
    this.taskCallbacks.set(taskId, callbacks);
    this.tasks.set(taskId, {
      taskId,
      kind,
      options: taskOptions,
      config,
      upstream: new Set(),
      index: this.tasks.size,
    });
    return this.ref(taskId);
  }

  /** Puts every declared edge on its downstream task; an edge to a task never created is an issue. */
  resolveEdges(): void {
    for (const { up, down } of this.edges) {
      const task = this.tasks.get(down);
      if (task) task.upstream.add(up);
      else
        this.issue(
          `tasks.${up}.downstream`,
          `${down} is not a task of this DAG: create it (d.task, d.shell, …) or remove the dependency`,
        );
    }
  }

  runtime(): DagRuntime {
    const callbacks = (taskId: string): TaskCallbacks => ({
      ...this.defaultCallbacks,
      ...this.taskCallbacks.get(taskId),
    });
    return {
      taskFunction: (taskId) => this.functions.get(taskId),
      sensorPoke: (taskId) => this.pokes.get(taskId),
      callbacks,
      taskCallbacks: callbacks,
      dagCallbacks: () => ({ ...this.dagCallbacks }),
    };
  }
}

function flat(target: Target): unknown[] {
  return Array.isArray(target) ? [...target] : [target];
}

function builderOf(b: DagBuild): DagBuilder {
  return {
    dagId: b.dagId,
    task(taskId: string, a?: TaskOptions | TaskFunction, fn?: TaskFunction) {
      return typeof a === 'function'
        ? b.add(taskId, 'function', undefined, a)
        : b.add(taskId, 'function', a, fn);
    },
    shell: (taskId, options) => b.add(taskId, 'shell', options),
    container: (taskId, options) => b.add(taskId, 'container', options),
    lambdaInvoke: (taskId, options) => b.add(taskId, 'lambdaInvoke', options),
    http: (taskId, options) => b.add(taskId, 'http', options),
    empty: (taskId, options) => b.add(taskId, 'empty', options),
    sensor: (taskId, options) => b.add(taskId, 'sensor', options),
    chain(...steps) {
      for (let i = 0; i + 1 < steps.length; i += 1) b.linkAll(steps[i]!, steps[i + 1]!);
    },
  };
}

/** Splits callbacks out of the DAG options and of defaultArgs; returns the options that remain. */
function dagOptionsOf(b: DagBuild, options: unknown): Record<string, unknown> {
  if (options !== undefined && options !== null && !isObject(options))
    b.issue('options', `DAG options must be an object, got ${typeof options}`);
  const rest: Record<string, unknown> = { ...(isObject(options) ? options : {}) };
  for (const name of ['onSuccess', 'onFailure'] as const) {
    const fn = rest[name];
    delete rest[name];
    if (fn === undefined) continue;
    if (typeof fn === 'function') b.dagCallbacks[name] = fn as AnyFunction;
    else b.issue(name, `must be a function (ctx) => void, got ${typeof fn}`);
  }
  if (isObject(rest.defaultArgs)) {
    const defaults = { ...rest.defaultArgs };
    Object.assign(b.defaultCallbacks, b.callbacksOf(defaults, 'defaultArgs.'));
    rest.defaultArgs = defaults;
  }
  return rest;
}

/**
 * Defines a DAG. `build` receives the builder and declares the tasks and their dependencies;
 * it must be synchronous. Problems are recorded, never thrown: `compileDag` lists them all.
 */
function dag(dagId: string, options: DagOptions, build: (d: DagBuilder) => void): DagDefinition {
  const b = new DagBuild(dagId);
  const dagOptions = dagOptionsOf(b, options);
  if (typeof build !== 'function') {
    b.issue('build', 'dag(id, options, build) needs a build function (d) => { d.task(…) }');
  } else {
    try {
      const returned: unknown = build(builderOf(b));
      // A task handed back by an expression-bodied build (`(d) => d.task(…)`) is fine; a promise is not.
      if (isThenable(returned) && !b.isRef(returned)) {
        b.issue('build', 'the build function must be synchronous: tasks declared after an await are lost');
        Promise.resolve(returned).catch(() => {});
      }
    } catch (error) {
      b.issue('build', `the build function threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  b.resolveEdges();
  return {
    [DAG_BRAND]: true,
    dagId,
    options: dagOptions,
    tasks: b.tasks,
    issues: b.issues,
    runtime: b.runtime(),
  };
}

/** What the worker runs for a DAG: task functions, sensor pokes and callbacks by task id. */
function runtimeOf(def: DagDefinition): DagRuntime {
  return def.runtime;
}

export { dag, runtimeOf };
