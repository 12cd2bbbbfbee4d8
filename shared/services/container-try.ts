/**
 * Tries that run in a container (`executor: 'fargate'`): the worker starts them through the
 * container launcher (ECS RunTask in AWS, a subprocess locally) and returns at once; the try stays
 * running until the container's end arrives as a task event (`completeContainerTry`), whose exit
 * code decides success or failure. The container's id is kept in the instance's `workerId`
 * (`container:<id>`), so the sweep can tell a container try from an in-process one.
 */
import { taskOf } from '#core/manifest.ts';
import type { TaskInstance, TiKey } from '#core/model.ts';
import { renderTemplate, type TemplateValues, templateEnv } from '#core/template.ts';
import type { ContainerLaunch, ContainerLauncher, TaskOutcome } from '#ports';
import type { ServiceDeps } from './deps.ts';
import { afterTryElsewhere, finishTry, keyFields, type StartedTry } from './worker.ts';

const CONTAINER_WORKER = 'container:';

function isContainerWorker(workerId: string | null): boolean {
  return workerId?.startsWith(CONTAINER_WORKER) ?? false;
}

function templateValuesOf(started: StartedTry): TemplateValues {
  const { ti, run, dag } = started;
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

/** What to start for a shell or container task; null for kinds that run only in the worker. */
function containerLaunchOf(started: StartedTry): ContainerLaunch | null {
  const { ti, task } = started;
  const values = templateValuesOf(started);
  const env = {
    ...templateEnv(values),
    UPDRAFT_TRY: JSON.stringify({ key: keyOf(ti), tryNumber: ti.tryNumber }),
  };
  const op = task.operator;
  const base = { key: keyOf(ti), tryNumber: ti.tryNumber };
  if (op.kind === 'shell')
    return {
      ...base,
      command: ['bash', '-c', renderTemplate(op.command, values)],
      env: { ...env, ...op.env },
    };
  if (op.kind === 'container')
    return {
      ...base,
      image: op.image,
      command: (op.command ?? []).map((a) => renderTemplate(a, values)),
      env: { ...env, ...op.env },
      ...(op.cpu !== undefined && { cpu: op.cpu }),
      ...(op.memoryMiB !== undefined && { memoryMiB: op.memoryMiB }),
    };
  return null;
}

function keyOf(key: TiKey): TiKey {
  return { dagId: key.dagId, runId: key.runId, taskId: key.taskId, mapIndex: key.mapIndex };
}

/** Starts the container of a running try; a launch that fails is a failed (retryable) outcome. */
async function launchContainerTry(
  deps: ServiceDeps,
  containers: ContainerLauncher,
  started: StartedTry,
  log: (line: string) => void,
): Promise<{ kind: 'launched'; taskId: string } | { kind: 'failed'; outcome: TaskOutcome }> {
  const launch = containerLaunchOf(started);
  if (!launch)
    return {
      kind: 'failed',
      outcome: {
        state: 'failed',
        retryable: false,
        error: `${started.task.operator.kind} tasks cannot run on Fargate: use executor: 'lambda'`,
      },
    };
  let taskId: string;
  try {
    ({ taskId } = await containers.launch(launch));
  } catch (error) {
    return {
      kind: 'failed',
      outcome: { state: 'failed', error: `container did not start: ${(error as Error).message ?? error}` },
    };
  }
  log(`container started: ${taskId}`);
  const { ti } = started;
  await deps.store.updateTis([
    {
      key: keyOf(ti),
      expect: { state: 'running', tryNumber: ti.tryNumber },
      set: { workerId: `${CONTAINER_WORKER}${taskId}` },
    },
  ]);
  deps.logger.info('container try launched', { ...keyFields(ti), containerId: taskId });
  return { kind: 'launched', taskId };
}

/** A container stopped: end its try by exit code. `stale` when the try had already ended or moved on. */
async function completeContainerTry(
  deps: ServiceDeps,
  input: { key: TiKey; tryNumber: number; exitCode: number | null; reason?: string; now: number },
): Promise<'stale' | TaskInstance['state']> {
  const ti = await deps.store.getTi(input.key);
  if (ti?.state !== 'running' || ti.tryNumber !== input.tryNumber) return 'stale';
  const run = await deps.store.getRun(ti.dagId, ti.runId);
  if (!run) return 'stale';
  const dag = await deps.manifests.get(ti.dagId, ti.dagVersion);
  const started: StartedTry = {
    ti,
    run,
    dag,
    task: taskOf(dag, ti.taskId),
    startedAt: ti.startedAt ?? input.now,
  };
  const outcome: TaskOutcome =
    input.exitCode === 0
      ? { state: 'success', result: null }
      : {
          state: 'failed',
          error:
            input.exitCode === null
              ? `container stopped without an exit code${input.reason ? `: ${input.reason}` : ''}`
              : `container exited with code ${input.exitCode}${input.reason ? ` (${input.reason})` : ''}`,
        };
  const { ended, state } = await finishTry(deps, started, outcome, input.now);
  if (ended) await afterTryElsewhere(deps, started, outcome);
  return state;
}

export { CONTAINER_WORKER, completeContainerTry, containerLaunchOf, isContainerWorker, launchContainerTry };
