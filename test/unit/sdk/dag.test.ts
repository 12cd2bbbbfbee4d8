import { describe, expect, it, vi } from 'vitest';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import * as coreErrors from '#core/errors.ts';
import {
  dag,
  isDagDefinition,
  NonRetryableError,
  RetryAfterError,
  runtimeOf,
  type TaskContext,
} from '#sdk/index.ts';

const noop = async () => null;

/** Each task's direct upstream ids, sorted, for comparing wiring. */
function edges(def: DagDefinition): Record<string, string[]> {
  return Object.fromEntries([...def.tasks.values()].map((t) => [t.taskId, [...t.upstream].sort()]));
}

const issues = (def: DagDefinition) => def.issues.map((i) => `${i.field}: ${i.message}`);

describe('dag builder', () => {
  it('wires a.then(b) as b after a, returning b so chains read left to right', () => {
    const def = dag('x', {}, (d) => {
      const extract = d.task('extract', noop);
      const transform = d.task('transform', noop);
      const load = d.task('load', noop);
      expect(extract.then(transform)).toBe(transform);
      transform.then(load);
    });
    expect(edges(def)).toEqual({ extract: [], transform: ['extract'], load: ['transform'] });
    expect(def.issues).toEqual([]);
  });

  it('fans out with then([b, c]) and in with after(a, b)', () => {
    const def = dag('x', {}, (d) => {
      const [a, b, c, e] = ['a', 'b', 'c', 'e'].map((id) => d.task(id, noop)) as [
        ReturnType<typeof d.task>,
        ReturnType<typeof d.task>,
        ReturnType<typeof d.task>,
        ReturnType<typeof d.task>,
      ];
      const fanned = a.then([b, c]);
      expect(fanned).toEqual([b, c]);
      expect(e.after(b, c)).toBe(e);
    });
    expect(edges(def)).toEqual({ a: [], b: ['a'], c: ['a'], e: ['b', 'c'] });
  });

  it('chains like Airflow: each element before the next, arrays fanning out and in', () => {
    const def = dag('x', {}, (d) => {
      d.chain(d.task('a', noop), [d.task('b', noop), d.task('c', noop)], d.empty('done'));
    });
    expect(edges(def)).toEqual({ a: [], b: ['a'], c: ['a'], done: ['b', 'c'] });
  });

  it('keeps before() as a synonym of then()', () => {
    const def = dag('x', {}, (d) => void d.task('a', noop).before(d.task('b', noop)));
    expect(edges(def)).toEqual({ a: [], b: ['a'] });
  });

  it('lets a dependency name a task created later in the build', () => {
    const def = dag('x', {}, (d) => {
      d.task('a', noop).then('b');
      d.task('b', noop);
    });
    expect(def.issues).toEqual([]);
    expect(compileDag(def).tasks.map((t) => [t.taskId, t.upstream])).toEqual([
      ['a', []],
      ['b', ['a']],
    ]);
  });

  it('records a dependency on a task that is never created', () => {
    const def = dag('x', {}, (d) => void d.task('a', noop).then('ghost'));
    expect(issues(def)).toEqual([
      'tasks.a.downstream: ghost is not a task of this DAG: create it (d.task, d.shell, …) or remove the dependency',
    ]);
  });

  it("records a dependency on another DAG's task, even one with the same DAG id", () => {
    let foreign: ReturnType<Parameters<Parameters<typeof dag>[2]>[0]['task']> | undefined;
    dag('x', {}, (d) => {
      foreign = d.task('remote', noop);
    });
    const def = dag('x', {}, (d) => void d.task('local', noop).after(foreign!));
    expect(issues(def)).toEqual([
      'tasks.local.upstream: depends on x.remote, a task of another DAG: a DAG can only depend on its own tasks (wait for another DAG with a sensor)',
    ]);
    expect(edges(def)).toEqual({ local: [] });
  });

  it('refuses to be awaited: the await rejects at once instead of hanging, and the DAG records it', async () => {
    let awaited: Promise<unknown> | undefined;
    const def = dag('x', {}, (d) => {
      const task = d.task('a', noop);
      // TypeScript already rejects `await task` (TS1320); at run time it must not hang either.
      awaited = (async () => await (task as unknown as PromiseLike<unknown>))();
    });
    await expect(awaited).rejects.toThrow('task a: a task is not a promise');
    expect(issues(def)).toContain(
      'tasks.a: a task is not a promise: build the DAG synchronously and never await a task or return it from an async function',
    );
  });

  it('reports an async build function, whose later tasks would be lost, without an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const def = dag('x', {}, (async (d: Parameters<Parameters<typeof dag>[2]>[0]) => {
        d.task('a', noop);
        await Promise.resolve();
        d.task('late', noop);
        throw new Error('after the build');
      }) as never);
      expect(issues(def)).toEqual([
        'build: the build function must be synchronous: tasks declared after an await are lost',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('accepts an expression-bodied build that returns a task', () => {
    const def = dag('x', {}, (d) => d.task('a', noop).then(d.task('b', noop)));
    expect(def.issues).toEqual([]);
  });

  it('records mistakes instead of throwing: a throwing build, missing functions, callbacks that are not functions', () => {
    const thrown = dag('x', {}, () => {
      throw new Error('oops');
    });
    expect(issues(thrown)).toEqual(['build: the build function threw: oops']);

    const def = dag('y', { onFailure: 'page me' as never, defaultArgs: { onSuccess: 42 as never } }, (d) => {
      d.task('no_fn', { retries: 1 } as never);
      d.task('bad_cb', { onRetry: true as never }, noop);
      d.sensor('no_poke', {} as never);
    });
    expect(issues(def)).toEqual([
      'onFailure: must be a function (ctx) => void, got string',
      'defaultArgs.onSuccess: must be a function (ctx) => void, got number',
      'tasks.no_fn: a function task needs a function: d.task(id, fn) or d.task(id, options, fn)',
      'tasks.bad_cb.onRetry: must be a function (ctx) => void, got boolean',
      'tasks.no_poke.poke: a sensor needs poke: (ctx) => boolean, true when done',
    ]);
  });

  it('keeps tasks in creation order with their kind, options and kind-specific config apart', () => {
    const def = dag('x', {}, (d) => {
      d.shell('load', { command: 'echo {{ ds }}', env: { A: 'b' }, retries: 2 });
      d.http('ping', { url: 'https://example.com', method: 'POST', pool: 'web' });
      d.sensor('wait', { poke: () => true, pokeInterval: '30s', priorityWeight: 3 });
    });
    expect(
      [...def.tasks.values()].map(({ taskId, kind, options, config, index }) => ({
        taskId,
        kind,
        options,
        config,
        index,
      })),
    ).toEqual([
      {
        taskId: 'load',
        kind: 'shell',
        options: { retries: 2 },
        config: { command: 'echo {{ ds }}', env: { A: 'b' } },
        index: 0,
      },
      {
        taskId: 'ping',
        kind: 'http',
        options: { pool: 'web' },
        config: { url: 'https://example.com', method: 'POST' },
        index: 1,
      },
      {
        taskId: 'wait',
        kind: 'sensor',
        options: { priorityWeight: 3 },
        config: { pokeInterval: '30s' },
        index: 2,
      },
    ]);
  });

  it('brands what it returns so loaders can tell DAGs from other exports', () => {
    expect(isDagDefinition(dag('x', {}, (d) => void d.empty('a')))).toBe(true);
    expect(isDagDefinition({ dagId: 'x', tasks: new Map() })).toBe(false);
    expect(isDagDefinition(null)).toBe(false);
  });
});

describe('runtimeOf', () => {
  it('gives the worker task functions, pokes, and callbacks with defaultArgs under the task’s own', async () => {
    const extract = async (ctx: TaskContext) => ({ rows: 10, ds: ctx.ds });
    const poke = () => ({ done: true, result: 'ready' });
    const taskFailure = vi.fn();
    const defaultFailure = vi.fn();
    const defaultRetry = vi.fn();
    const dagSuccess = vi.fn();
    const def = dag(
      'x',
      { onSuccess: dagSuccess, defaultArgs: { onFailure: defaultFailure, onRetry: defaultRetry } },
      (d) => {
        d.task('extract', { onFailure: taskFailure }, extract).then(d.sensor('wait', { poke }));
      },
    );
    const runtime = runtimeOf(def);
    expect(runtime.taskFunction('extract')).toBe(extract);
    expect(runtime.taskFunction('wait')).toBeUndefined();
    expect(runtime.sensorPoke('wait')).toBe(poke);
    expect(runtime.callbacks('extract')).toEqual({ onFailure: taskFailure, onRetry: defaultRetry });
    expect(runtime.callbacks('wait')).toEqual({ onFailure: defaultFailure, onRetry: defaultRetry });
    expect(runtime.dagCallbacks()).toEqual({ onSuccess: dagSuccess });
    const manifest = compileDag(def);
    expect(manifest.callbacks).toEqual(['onSuccess']);
    expect(manifest.tasks.map((t) => [t.taskId, t.callbacks])).toEqual([
      ['extract', ['onFailure', 'onRetry']],
      ['wait', ['onFailure', 'onRetry']],
    ]);
  });
});

describe('SDK exports', () => {
  it("re-exports core's task errors, so the worker recognises what tasks throw", () => {
    expect(NonRetryableError).toBe(coreErrors.NonRetryableError);
    expect(RetryAfterError).toBe(coreErrors.RetryAfterError);
    expect(new RetryAfterError(5000).delayMs).toBe(5000);
  });
});
