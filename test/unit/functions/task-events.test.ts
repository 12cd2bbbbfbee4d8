import { describe, expect, it } from 'vitest';
import { taskStoppedEvent } from '#adapters/ecs/task-state-change.ts';
import { dag } from '#sdk/index.ts';
import { runTry } from '#services/run-try.ts';
import { createHandler } from '../../../functions/task-events/handler.ts';
import type { ContainerLaunch } from '../../../shared/ports.ts';
import { lambdaContext, makeTestDeps } from '../../support/function-deps.ts';

const onFargate = dag('on_fargate', { schedule: null, defaultArgs: { retries: 1 } }, (d) => {
  d.shell('report', { command: 'echo {{ ds }}', executor: 'fargate' });
});

async function launched() {
  const launches: ContainerLaunch[] = [];
  const t = makeTestDeps({
    containers: {
      launch: async (l) => {
        launches.push(l);
        return { taskId: 'arn:aws:ecs:task/1' };
      },
      stop: async () => {},
    },
  });
  await t.runOf(onFargate);
  const message = t.dispatched[0]!;
  const result = await runTry(t.deps, message, {
    workerId: 'w',
    executor: t.deps.executor,
    heartbeatEveryMs: 60_000,
  });
  return { t, message, launch: launches[0]!, result };
}

describe('task-events handler', () => {
  it('a Fargate try stays running after its launch, with the command and its identity', async () => {
    const { t, message, launch, result } = await launched();
    expect(result).toBe('launched');
    expect(launch.command).toEqual(['bash', '-c', 'echo 2026-01-05']);
    expect(JSON.parse(launch.env.UPDRAFT_TRY!)).toEqual({ key: message.key, tryNumber: 1 });
    expect(await t.store.getTi(message.key)).toMatchObject({
      state: 'running',
      workerId: 'container:arn:aws:ecs:task/1',
    });
  });

  it.each([
    { case: 'exit 0', exitCode: 0, state: 'success' },
    { case: 'exit 2', exitCode: 2, state: 'up_for_retry' },
  ])('ends the try by the exit code ($case)', async ({ exitCode, state }) => {
    const { t, message, launch } = await launched();
    const event = taskStoppedEvent({
      taskArn: 'arn:aws:ecs:task/1',
      containerName: 'task',
      environment: launch.env,
      exitCode,
    });
    const response = await createHandler(t.deps)(event, lambdaContext());
    expect(response).toEqual({ outcome: state });
    expect(await t.store.getTi(message.key)).toMatchObject({ state });
  });

  it('ignores a second event for the same try and events of other tasks', async () => {
    const { t, launch } = await launched();
    const event = taskStoppedEvent({
      taskArn: 'arn:aws:ecs:task/1',
      containerName: 'task',
      environment: launch.env,
      exitCode: 0,
    });
    const handler = createHandler(t.deps);
    await handler(event, lambdaContext());
    expect(await handler(event, lambdaContext())).toEqual({ outcome: 'stale' });
    expect(
      await handler({ 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, lambdaContext()),
    ).toEqual({
      outcome: 'ignored',
    });
  });
});
