/** What task code receives: the TaskContext of the SDK and the template values of shell commands. */
import type { TemplateValues } from '#core/template.ts';
import type { TaskRunRequest } from '#ports';
import type { TaskContext } from '#sdk/types.ts';

/** DAG params overridden by the run's conf, as Airflow merges `params` with `dag_run.conf`. */
function paramsOf(request: TaskRunRequest): Record<string, unknown> {
  return { ...request.dag.params, ...request.run.conf };
}

function templateValues(request: TaskRunRequest): TemplateValues {
  const { ti, run } = request;
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    tryNumber: ti.tryNumber,
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataIntervalStart,
    dataIntervalEnd: run.dataIntervalEnd,
    params: paramsOf(request),
    conf: run.conf,
  };
}

/** One log line from what a task passes to `ctx.log(...)`: strings as they are, the rest as JSON. */
function logLine(args: unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return a.message;
      try {
        return JSON.stringify(a) ?? String(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
}

function taskContext(request: TaskRunRequest): TaskContext {
  const { ti, run } = request;
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
    params: paramsOf(request),
    conf: { ...run.conf },
    upstream: { ...request.upstreamResults },
    log: (...args) => request.log(logLine(args)),
    signal: request.signal,
  };
}

export { taskContext, templateValues };
