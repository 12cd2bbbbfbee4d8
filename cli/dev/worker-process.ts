/**
 * A worker "process" of the local stack: the worker handler on dependencies that die with it. In
 * AWS a worker whose Lambda container is killed (or a Fargate host lost) just stops: its heartbeats
 * stop, its try never ends, its SQS message is neither deleted nor released. In one Node process
 * the task code cannot be stopped, so a kill cuts the worker off instead: from then on every call
 * it makes to the store, the queues, the log and result stores or the notifier rejects without
 * doing anything, and it logs nothing. Whatever it was doing runs into those rejections and ends
 * without having touched the world; the sweep is left to notice the silence, as in AWS.
 */
import type { Logger } from '#ports';
import type { WorkerFunctionDeps } from '../../functions/worker/dispatch.ts';

class WorkerKilledError extends Error {
  override name = 'WorkerKilledError';
  constructor() {
    super('this worker was killed: nothing it does reaches anything any more');
  }
}

/** `target` whose methods reject (once `dead()` is true) instead of running. */
function severable<T extends object>(target: T, dead: () => boolean): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        dead() ? Promise.reject(new WorkerKilledError()) : value.apply(object, args);
    },
  });
}

function mutedLogger(logger: Logger, dead: () => boolean): Logger {
  const level =
    (name: keyof Logger) =>
    (...args: Parameters<Logger['info']>) => {
      if (!dead()) logger[name](...args);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

/** The dependencies of one worker process, and how to kill it. */
function workerProcess(
  deps: WorkerFunctionDeps,
  generation: number,
): { deps: WorkerFunctionDeps; kill(): void } {
  let killed = false;
  const dead = () => killed;
  const cut = <T extends object | undefined>(port: T): T => (port ? severable(port, dead) : port);
  return {
    deps: {
      ...deps,
      workerId: `${deps.workerId}:${generation}`,
      logger: mutedLogger(deps.logger, dead),
      store: cut(deps.store),
      dispatcher: cut(deps.dispatcher),
      events: cut(deps.events),
      logs: cut(deps.logs),
      results: cut(deps.results),
      notifier: cut(deps.notifier),
      containers: cut(deps.containers),
      ...(deps.log && { log: (m, line) => !killed && deps.log!(m, line) }),
    },
    kill() {
      killed = true;
    },
  };
}

export { WorkerKilledError, workerProcess };
