/**
 * Runs task code in this process (function tasks, sensors) or as local subprocesses (shell, and
 * container commands, whose image is not used locally). What `updraft dags test` and the local
 * stack use; the Lambda worker uses the same operator code with the DAG bundle as runtime.
 */
import { spawn } from 'node:child_process';
import type { DagRuntime } from '#core/definition.ts';
import { renderTemplate, type TemplateValues, templateEnv } from '#core/template.ts';
import type { TaskExecutor, TaskOutcome, TaskRunRequest } from '#ports';
import type { TaskContext } from '#sdk/types.ts';

function templateValues(request: TaskRunRequest): TemplateValues {
  const { ti, run, dag } = request;
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    tryNumber: ti.tryNumber,
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataIntervalStart,
    dataIntervalEnd: run.dataIntervalEnd,
    params: { ...dag.params, ...run.conf },
    conf: run.conf,
  };
}

function taskContext(request: TaskRunRequest): TaskContext {
  const { ti, run, dag } = request;
  const ts = new Date(run.logicalDate).toISOString();
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    tryNumber: ti.tryNumber,
    logicalDate: new Date(run.logicalDate),
    dataIntervalStart: new Date(run.dataIntervalStart),
    dataIntervalEnd: new Date(run.dataIntervalEnd),
    ds: ts.slice(0, 10),
    dsNodash: ts.slice(0, 10).replaceAll('-', ''),
    ts,
    params: { ...dag.params, ...run.conf },
    conf: run.conf,
    upstream: request.upstreamResults,
    log: (...args) => request.log(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')),
    signal: request.signal,
  };
}

/** Maps what task code threw to an outcome; matched by name so a bundled copy of the error classes works too. */
function failureOf(error: unknown): TaskOutcome {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.name === 'NonRetryableError') return { state: 'failed', retryable: false, error: err.message };
  if (err.name === 'RetryAfterError') {
    const delayMs = (err as Error & { delayMs?: number }).delayMs;
    return {
      state: 'failed',
      error: err.message,
      ...(typeof delayMs === 'number' ? { retryAfterMs: delayMs } : {}),
    };
  }
  if (err.name === 'TemplateError') return { state: 'failed', retryable: false, error: err.message };
  return { state: 'failed', error: err.message };
}

/** JSON round trip: results must survive being stored. */
function serializable(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function runProcess(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; signal: AbortSignal; log: (line: string) => void },
): Promise<TaskOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastErr = '';
    const lines = (stream: NodeJS.ReadableStream, isErr: boolean) => {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) {
          opts.log(line);
          if (isErr && line.trim()) lastErr = line.trim();
        }
      });
      stream.on('end', () => {
        if (buffer) {
          opts.log(buffer);
          if (isErr && buffer.trim()) lastErr = buffer.trim();
        }
      });
    };
    lines(child.stdout!, false);
    lines(child.stderr!, true);
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    opts.signal.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      opts.signal.removeEventListener('abort', kill);
      resolve({ state: 'failed', error: `cannot start ${command}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      opts.signal.removeEventListener('abort', kill);
      if (opts.signal.aborted) resolve({ state: 'failed', error: String(opts.signal.reason ?? 'aborted') });
      else if (code === 0) resolve({ state: 'success', result: null });
      else resolve({ state: 'failed', error: lastErr || `exited with ${code ?? signal}` });
    });
  });
}

async function runHttp(
  operator: Extract<TaskRunRequest['task']['operator'], { kind: 'http' }>,
  request: TaskRunRequest,
) {
  const hasBody = operator.body !== undefined && operator.method !== 'GET' && operator.method !== 'HEAD';
  const response = await fetch(operator.url, {
    method: operator.method,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...operator.headers },
    body: hasBody ? JSON.stringify(operator.body) : undefined,
    signal: request.signal,
  });
  const text = await response.text();
  const ok = operator.expectStatus ? operator.expectStatus.includes(response.status) : response.ok;
  request.log(`${operator.method} ${operator.url} → ${response.status}`);
  if (!ok)
    return {
      state: 'failed' as const,
      error: `${operator.method} ${operator.url} answered ${response.status}`,
    };
  return { state: 'success' as const, result: { status: response.status, body: text.slice(0, 10_000) } };
}

class LocalTaskExecutor implements TaskExecutor {
  readonly #runtimeOf: (dagId: string) => DagRuntime | undefined;

  constructor(runtimeOf: (dagId: string) => DagRuntime | undefined) {
    this.#runtimeOf = runtimeOf;
  }

  async execute(request: TaskRunRequest): Promise<TaskOutcome> {
    try {
      return await this.#execute(request);
    } catch (error) {
      return failureOf(error);
    }
  }

  async #execute(request: TaskRunRequest): Promise<TaskOutcome> {
    const { task } = request;
    const operator = task.operator;
    const runtime = this.#runtimeOf(request.ti.dagId);
    switch (operator.kind) {
      case 'empty':
        return { state: 'success', result: null };
      case 'function': {
        const fn = runtime?.taskFunction(task.taskId);
        if (!fn)
          return {
            state: 'failed',
            retryable: false,
            error: `no function found for task ${task.taskId} in the DAG's code`,
          };
        return { state: 'success', result: serializable(await fn(taskContext(request))) };
      }
      case 'sensor': {
        const poke = runtime?.sensorPoke(task.taskId);
        if (!poke)
          return {
            state: 'failed',
            retryable: false,
            error: `no poke function found for sensor ${task.taskId}`,
          };
        const answer = (await poke(taskContext(request))) as boolean | { done: boolean; result?: unknown };
        const done = typeof answer === 'object' && answer !== null ? answer.done : Boolean(answer);
        if (!done) return { state: 'up_for_reschedule' };
        return { state: 'success', result: typeof answer === 'object' ? serializable(answer.result) : null };
      }
      case 'shell': {
        const values = templateValues(request);
        return runProcess('bash', ['-c', renderTemplate(operator.command, values)], {
          env: { ...templateEnv(values), ...operator.env },
          cwd: operator.cwd,
          signal: request.signal,
          log: request.log,
        });
      }
      case 'container': {
        const [command, ...args] = (operator.command ?? []).map((a) =>
          renderTemplate(a, templateValues(request)),
        );
        if (!command) {
          return {
            state: 'failed',
            retryable: false,
            error: 'a container task without a command cannot run locally (it needs Fargate)',
          };
        }
        request.log(
          `running the container command locally (image ${operator.image} is not used outside AWS)`,
        );
        return runProcess(command, args, {
          env: { ...templateEnv(templateValues(request)), ...operator.env },
          signal: request.signal,
          log: request.log,
        });
      }
      case 'http':
        return runHttp(operator, request);
      case 'lambdaInvoke':
        return {
          state: 'failed',
          retryable: false,
          error: `lambdaInvoke of ${operator.functionName} needs AWS: it runs on a deployment, not locally`,
        };
    }
  }
}

export { LocalTaskExecutor, taskContext };
