/**
 * A worker's whole try, as the worker function and `updraft dags test` run it: begin (a duplicate
 * delivery is a no-op), heartbeat while the executor runs the task, abort at `executionTimeout` or
 * when the worker itself runs out of time (Lambda's limit), capture what the task prints into the
 * log store, keep a large result out of the item, finish. Container tries (`executor: 'fargate'`)
 * are handed to the container launcher instead and end when their task event arrives.
 */
import { taskOf } from '#core/manifest.ts';
import type { TaskInstance, TiKey } from '#core/model.ts';
import type {
  ContainerLauncher,
  DispatchMessage,
  LogStore,
  ResultStore,
  TaskExecutor,
  TaskOutcome,
} from '#ports';
import { launchContainerTry } from './container-try.ts';
import type { ServiceDeps } from './deps.ts';
import {
  afterTryElsewhere,
  beginTry,
  type DownstreamPass,
  finishTry,
  keyFields,
  type StartedTry,
} from './worker.ts';

/** Results whose JSON is longer than this go to the result store (DynamoDB items stop at 400 KB). */
const INLINE_RESULT_BYTES = 16 * 1024;
/** How a result kept in the result store is referenced from the item. */
const RESULT_REF = '$updraftResult';
/** Upstream instances read by key for a task's context up to this many; more, and the run is listed. */
const UPSTREAM_BY_KEY = 16;
/** How often buffered log lines are written. */
const LOG_FLUSH_MS = 1_000;

export interface WorkerDeps extends ServiceDeps {
  clock: { now(): number };
  /** Where each try's log goes; the log is only passed to `log` without one. */
  logs?: LogStore;
  results?: ResultStore;
  containers?: ContainerLauncher;
  /**
   * The worker's own downstream pass (Airflow's mini scheduler, downstream-pass.ts): the try's end
   * schedules its downstream here instead of through the scheduler. None: the event is sent.
   */
  downstream?: DownstreamPass;
}

export interface TryOptions {
  workerId: string;
  executor: TaskExecutor;
  heartbeatEveryMs: number;
  /** Also receives every log line (the dev console, `dags test`). */
  log?: (line: string) => void;
  /** Epoch ms (by `deps.clock`) when this worker must be done: the try is aborted before it. */
  deadlineAt?: number;
}

export type TryResult = 'duplicate' | 'run_finished' | 'launched' | TaskInstance['state'];

function resultRef(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  const ref = (value as Record<string, unknown>)[RESULT_REF];
  return typeof ref === 'string' ? ref : null;
}

/** The direct upstream instances of a task, as a task's context needs them (few by key, many by one listing). */
async function readUpstream(
  deps: WorkerDeps,
  key: Pick<TiKey, 'dagId' | 'runId'>,
  upstream: readonly string[],
): Promise<TaskInstance[]> {
  if (upstream.length === 0) return [];
  const { dagId, runId } = key;
  // A few upstream instances are read by key; a wide fan-in lists the run (one request).
  if (upstream.length > UPSTREAM_BY_KEY) return deps.store.listTis(dagId, runId);
  const tis = await Promise.all(
    upstream.map((taskId) => deps.store.getTi({ dagId, runId, taskId, mapIndex: -1 })),
  );
  return tis.filter((ti): ti is TaskInstance => ti !== null);
}

/**
 * The upstream instances read while the try begins (beside its own reads and start, not after
 * them: one round trip less before the task runs), from the DAG version the message names. Null
 * when that version's manifest cannot be had here; a failed read is read again after the start.
 */
function readUpstreamEarly(deps: WorkerDeps, message: DispatchMessage): Promise<EarlyUpstream | null> {
  const reading = deps.manifests.get(message.key.dagId, message.dagVersion).then(async (dag) => ({
    dagVersion: message.dagVersion,
    tis: await readUpstream(deps, message.key, taskOf(dag, message.key.taskId).upstream),
  }));
  return reading.catch(() => null);
}

interface EarlyUpstream {
  dagVersion: string;
  tis: TaskInstance[];
}

/**
 * Results of direct upstream tasks for the task context, large ones read back from the result
 * store. `early`: the upstream instances read while the try began, when they are of its version.
 */
async function upstreamResults(
  deps: WorkerDeps,
  started: StartedTry,
  early?: Promise<EarlyUpstream | null>,
): Promise<Record<string, unknown>> {
  const { upstream } = started.task;
  if (upstream.length === 0) return {};
  const read = early ? await early : null;
  const tis =
    read?.dagVersion === started.run.dagVersion ? read.tis : await readUpstream(deps, started.ti, upstream);
  const wanted = new Set(upstream);
  const out: Record<string, unknown> = {};
  for (const t of tis) {
    if (!wanted.has(t.taskId) || t.state !== 'success') continue;
    const ref = resultRef(t.result);
    const text = ref && deps.results ? await deps.results.get(ref) : null;
    out[t.taskId] = text === null ? t.result : JSON.parse(text);
  }
  return out;
}

/** Keeps a large result out of the item: stored aside, the item holds `{ $updraftResult, bytes }`. */
async function storeResult(deps: WorkerDeps, key: TiKey, tryNumber: number, result: unknown) {
  if (!deps.results || result === undefined || result === null) return result;
  const json = JSON.stringify(result);
  if (json === undefined || Buffer.byteLength(json) <= INLINE_RESULT_BYTES) return result;
  const ref = await deps.results.put(key, tryNumber, json);
  return { [RESULT_REF]: ref, bytes: Buffer.byteLength(json) };
}

/** Buffers a try's log lines and appends them every second and at the end; a failing store is logged. */
class TryLog {
  #lines: string[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly started: StartedTry,
    private readonly echo?: (line: string) => void,
  ) {
    if (deps.logs) this.#timer = setInterval(() => void this.flush(), LOG_FLUSH_MS);
  }

  line = (text: string): void => {
    this.echo?.(text);
    if (this.deps.logs) this.#lines.push(`${new Date(this.deps.clock.now()).toISOString()} ${text}`);
  };

  flush(): Promise<void> {
    const { logs } = this.deps;
    if (!logs || this.#lines.length === 0) return this.#writing;
    const lines = this.#lines.splice(0);
    const { ti } = this.started;
    this.#writing = this.#writing.then(() =>
      logs.append(ti, ti.tryNumber, lines).catch((error) => {
        this.deps.logger.warn('task log lines lost', { ...keyFields(ti), error: String(error) });
      }),
    );
    return this.#writing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}

async function runInProcess(
  deps: WorkerDeps,
  started: StartedTry,
  opts: TryOptions,
  log: TryLog,
  early?: Promise<EarlyUpstream | null>,
) {
  const abort = new AbortController();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const timeoutMs = started.task.executionTimeoutMs;
  if (timeoutMs !== null)
    timers.push(
      setTimeout(
        () => abort.abort(new Error(`execution timeout: ran longer than ${timeoutMs} ms`)),
        timeoutMs,
      ),
    );
  if (opts.deadlineAt !== undefined) {
    const left = Math.max(0, opts.deadlineAt - deps.clock.now());
    timers.push(
      setTimeout(
        () =>
          abort.abort(
            new Error("the worker ran out of time (Lambda's 15-minute limit): use executor: 'fargate'"),
          ),
        left,
      ),
    );
  }
  const { ti } = started;
  const beat = setInterval(() => {
    void deps.store.heartbeat(ti, ti.tryNumber, deps.clock.now()).then(
      (alive) => {
        if (!alive) abort.abort(new Error('try was taken away (cleared or timed out)'));
      },
      (error) => deps.logger.warn('heartbeat failed', { ...keyFields(ti), error: String(error) }),
    );
  }, opts.heartbeatEveryMs);
  let outcome: TaskOutcome;
  try {
    outcome = await opts.executor.execute({
      dag: started.dag,
      task: started.task,
      ti: started.ti,
      run: started.run,
      upstreamResults: await upstreamResults(deps, started, early),
      signal: abort.signal,
      log: log.line,
    });
    if (abort.signal.aborted && outcome.state === 'success')
      outcome = {
        state: 'failed',
        error: String((abort.signal.reason as Error)?.message ?? abort.signal.reason),
      };
    if (outcome.state === 'success')
      outcome = { ...outcome, result: await storeResult(deps, ti, ti.tryNumber, outcome.result) };
  } catch (error) {
    outcome = { state: 'failed', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearInterval(beat);
    for (const t of timers) clearTimeout(t);
  }
  if (outcome.state === 'failed') log.line(`try ${ti.tryNumber} failed: ${outcome.error ?? 'task failed'}`);
  return outcome;
}

/** The whole try for a real worker. */
async function runTry(deps: WorkerDeps, message: DispatchMessage, opts: TryOptions): Promise<TryResult> {
  const early = readUpstreamEarly(deps, message);
  const begun = await beginTry(deps, message, { now: deps.clock.now(), workerId: opts.workerId });
  if (begun.kind !== 'started') return begun.kind;
  const { started } = begun;
  const log = new TryLog(deps, started, opts.log);
  try {
    if (started.task.executor === 'fargate' && deps.containers) {
      const launched = await launchContainerTry(deps, deps.containers, started, log.line);
      if (launched.kind === 'launched') return 'launched';
      const { ended, state } = await finishTry(deps, started, launched.outcome, deps.clock.now());
      if (ended) await afterTryElsewhere(deps, started, launched.outcome);
      return state;
    }
    const outcome = await runInProcess(deps, started, opts, log, early);
    await log.flush();
    const { state } = await finishTry(deps, started, outcome, deps.clock.now(), {
      ...(deps.downstream && { downstream: deps.downstream }),
    });
    return state;
  } finally {
    await log.close();
  }
}

export { INLINE_RESULT_BYTES, RESULT_REF, runTry, upstreamResults };
