/**
 * Runs task code on this machine: function tasks and sensor pokes in this process, shell tasks and
 * container commands as subprocesses (a container's image is not used locally), HTTP tasks with
 * `fetch`. What `updraft dags test` and the local stack use. Task callbacks (onSuccess, onRetry,
 * onFailure) run here too, after the outcome is known; a callback that throws is logged, never
 * changes the outcome.
 */
import type { DagRuntime } from '#core/definition.ts';
import { isEligibleToRetry } from '#core/retry.ts';
import { renderTemplate, templateEnv } from '#core/template.ts';
import type { CallbackRunner, FunctionInvoker, TaskExecutor, TaskOutcome, TaskRunRequest } from '#ports';
import type { PokeResult } from '#sdk/types.ts';
import { abortReason, runSubprocess } from './subprocess.ts';
import { taskContext, templateValues } from './task-context.ts';

type HttpOperator = Extract<TaskRunRequest['task']['operator'], { kind: 'http' }>;

/** Finds the code of a DAG version (its `DagDefinition.runtime`): a loaded DAG, or a bundle loaded on demand. */
export type RuntimeLookup = (
  dagId: string,
  version: string,
) => DagRuntime | undefined | Promise<DagRuntime | undefined>;

/** Thrown inside the executor to fail a try for good: the same input would fail the same way again. */
class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

/** Maps what task code threw to an outcome; matched by name so a bundled copy of the error classes works too. */
function failureOf(error: unknown): TaskOutcome {
  const err = error instanceof Error ? error : new Error(String(error));
  const message = err.message || err.name;
  switch (err.name) {
    case 'NonRetryableError':
    case 'TemplateError':
    case 'PermanentFailure':
      return { state: 'failed', retryable: false, error: message };
    case 'RetryAfterError': {
      const delayMs = (err as Error & { delayMs?: unknown }).delayMs;
      return {
        state: 'failed',
        error: message,
        ...(typeof delayMs === 'number' && delayMs >= 0 ? { retryAfterMs: delayMs } : {}),
      };
    }
    default:
      return { state: 'failed', error: message };
  }
}

/** A result as it will be stored: a JSON round trip (undefined → null); anything else fails the try. */
function jsonResult(taskId: string, value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  } catch (error) {
    throw new PermanentFailure(
      `the result of ${taskId} is not JSON-serializable (${(error as Error).message}): return plain data`,
    );
  }
}

/** Settles with the task code, or rejects as soon as the signal aborts (in-process code cannot be killed). */
function untilAborted<T>(work: () => T | Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(abortReason(signal)));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(abortReason(signal)));
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The first chars of a response body: parsed JSON when it is JSON, else text. */
function bodyOf(text: string, contentType: string | null): unknown {
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return text.length > 10_000 ? `${text.slice(0, 10_000)}…` : text;
}

async function runHttp(operator: HttpOperator, request: TaskRunRequest): Promise<TaskOutcome> {
  const hasBody = operator.body !== undefined && operator.method !== 'GET' && operator.method !== 'HEAD';
  const what = `${operator.method} ${operator.url}`;
  let response: Response;
  try {
    response = await fetch(operator.url, {
      method: operator.method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...operator.headers },
      body: hasBody ? JSON.stringify(operator.body) : undefined,
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal.aborted) return { state: 'failed', error: abortReason(request.signal) };
    const cause = (error as Error & { cause?: Error }).cause?.message;
    return { state: 'failed', error: `${what} failed: ${cause ?? (error as Error).message}` };
  }
  const text = await response.text();
  request.log(`${what} → ${response.status}`);
  const expected = operator.expectStatus ?? null;
  const ok = expected ? expected.includes(response.status) : response.ok;
  if (!ok) {
    const wanted = expected ? expected.join(' or ') : '2xx';
    return { state: 'failed', error: `${what} answered ${response.status}, expected ${wanted}` };
  }
  return {
    state: 'success',
    result: { status: response.status, body: bodyOf(text, response.headers.get('content-type')) },
  };
}

interface LocalTaskExecutorOptions {
  /** Runs `lambdaInvoke` tasks (the Lambda API in AWS); without one they fail and say why. */
  invoker?: FunctionInvoker;
}

class LocalTaskExecutor implements TaskExecutor, CallbackRunner {
  readonly #runtimeOf: RuntimeLookup;
  readonly #invoker: FunctionInvoker | undefined;

  constructor(runtimeOf: RuntimeLookup, options: LocalTaskExecutorOptions = {}) {
    this.#runtimeOf = runtimeOf;
    this.#invoker = options.invoker;
  }

  async execute(request: TaskRunRequest): Promise<TaskOutcome> {
    let outcome: TaskOutcome;
    try {
      outcome = await this.#run(request);
    } catch (error) {
      outcome = failureOf(error);
    }
    await this.afterTry(request, outcome);
    return outcome;
  }

  async #runtime(request: TaskRunRequest): Promise<DagRuntime> {
    const runtime = await this.#runtimeOf(request.ti.dagId, request.run.dagVersion);
    if (!runtime) throw new PermanentFailure(`the code of DAG ${request.ti.dagId} is not loaded`);
    return runtime;
  }

  async #run(request: TaskRunRequest): Promise<TaskOutcome> {
    const { task, signal } = request;
    const operator = task.operator;
    switch (operator.kind) {
      case 'empty':
        return { state: 'success', result: null };
      case 'function': {
        const fn = (await this.#runtime(request)).taskFunction(task.taskId);
        if (!fn) throw new PermanentFailure(`no function for task ${task.taskId} in the DAG's code`);
        const value = await untilAborted(() => fn(taskContext(request)), signal);
        return { state: 'success', result: jsonResult(task.taskId, value) };
      }
      case 'sensor': {
        const poke = (await this.#runtime(request)).sensorPoke(task.taskId);
        if (!poke) throw new PermanentFailure(`no poke function for sensor ${task.taskId}`);
        const answer = (await untilAborted(() => poke(taskContext(request)), signal)) as PokeResult;
        const done = typeof answer === 'object' && answer !== null ? answer.done === true : answer === true;
        if (!done) return { state: 'up_for_reschedule' };
        const result = typeof answer === 'object' ? answer.result : undefined;
        return { state: 'success', result: jsonResult(task.taskId, result) };
      }
      case 'shell': {
        const values = templateValues(request);
        return runSubprocess('bash', ['-c', renderTemplate(operator.command, values)], {
          env: { ...templateEnv(values), ...operator.env },
          cwd: operator.cwd,
          signal,
          log: request.log,
        });
      }
      case 'container': {
        const values = templateValues(request);
        const [command, ...args] = (operator.command ?? []).map((a) => renderTemplate(a, values));
        if (!command)
          throw new PermanentFailure(
            `container task ${task.taskId} has no command: locally only its command runs (the image needs Fargate)`,
          );
        request.log(`running the container's command locally; image ${operator.image} is not used`);
        return runSubprocess(command, args, {
          env: { ...templateEnv(values), ...operator.env },
          signal,
          log: request.log,
        });
      }
      case 'http':
        return runHttp(operator, request);
      case 'lambdaInvoke': {
        if (!this.#invoker)
          throw new PermanentFailure(
            `lambdaInvoke of ${operator.functionName} needs AWS: it runs on a deployment, not locally`,
          );
        request.log(`invoking ${operator.functionName} (${operator.invocationType})`);
        const value = await this.#invoker.invoke(
          operator.functionName,
          operator.payload,
          operator.invocationType,
          signal,
        );
        return { state: 'success', result: jsonResult(task.taskId, value) };
      }
    }
  }

  /**
   * onSuccess, onRetry (failed with retries left) or onFailure (failed for good), like Airflow's
   * callbacks: run by `execute` for the tries it runs, and by the services for the others.
   */
  async afterTry(request: TaskRunRequest, outcome: TaskOutcome): Promise<void> {
    if (outcome.state === 'up_for_reschedule' || request.task.callbacks.length === 0) return;
    const { ti, task } = request;
    const retries =
      outcome.retryable !== false &&
      isEligibleToRetry({ tryNumber: ti.tryNumber, maxTries: ti.maxTries, retries: task.retries });
    const name = outcome.state === 'success' ? 'onSuccess' : retries ? 'onRetry' : 'onFailure';
    try {
      const fn = (await this.#runtimeOf(ti.dagId, request.run.dagVersion))?.callbacks(task.taskId)[name];
      if (!fn) return;
      await fn({ ...taskContext(request), ...(outcome.error ? { error: outcome.error } : {}) });
    } catch (error) {
      request.log(`${name} callback failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export { LocalTaskExecutor, type LocalTaskExecutorOptions };
