/**
 * What tasks do on the local stack: Fargate tries run as subprocesses through the container
 * launcher and end by exit code (the ECS task state change, handled by task-events); logs are kept
 * per try; callbacks run once each and their own errors change nothing; failures are published.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '#ports';
import { triggerRun } from '#services/trigger-run.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import {
  deployDag,
  finishedRun,
  recordingLogger,
  scratchDir,
  startTestStack,
} from '../support/local-stack.ts';

const CONTAINERS = `import { appendFileSync } from 'node:fs';
import { dag } from 'updraft/sdk';

export default dag('containers', { schedule: null }, (d) => {
  d.shell('shell_ok', { executor: 'fargate', command: 'echo "shell on {{ ds }}, try $UPDRAFT_TRY_NUMBER"' });
  d.container('container_fails', {
    image: 'public.ecr.aws/docker/library/alpine:3',
    command: ['bash', '-c', 'echo "about to fail" >&2; exit 3'],
    onFailure: (ctx) => appendFileSync(ctx.conf.marker, 'onFailure ' + ctx.tryNumber + ': ' + ctx.error + '\\n'),
  });
});
`;

/** Every callback appends what it is and the try to conf.marker; some callbacks also throw. */
const CALLBACKS = `import { appendFileSync } from 'node:fs';
import { dag, NonRetryableError } from 'updraft/sdk';

const mark = (ctx, what) => appendFileSync(ctx.conf.marker, what + '\\n');

export default dag(
  'callbacks',
  {
    schedule: null,
    onSuccess: (ctx) => mark(ctx, 'dag onSuccess'),
    onFailure: (ctx) => {
      mark(ctx, 'dag onFailure ' + ctx.state);
      throw new Error('the DAG callback breaks too');
    },
  },
  (d) => {
    d.task(
      'flaky',
      {
        retries: 1,
        retryDelay: '200ms',
        onRetry: (ctx) => mark(ctx, 'flaky onRetry ' + ctx.tryNumber + ': ' + ctx.error),
        onSuccess: (ctx) => mark(ctx, 'flaky onSuccess ' + ctx.tryNumber),
        onFailure: (ctx) => mark(ctx, 'flaky onFailure ' + ctx.tryNumber),
      },
      async (ctx) => {
        ctx.log('flaky try ' + ctx.tryNumber + ' says hello');
        if (ctx.tryNumber === 1) throw new Error('first try fails');
        return 'ok';
      },
    );
    d.task(
      'doomed',
      {
        retries: 2,
        onRetry: (ctx) => mark(ctx, 'doomed onRetry ' + ctx.tryNumber),
        onFailure: (ctx) => {
          mark(ctx, 'doomed onFailure ' + ctx.tryNumber + ': ' + ctx.error);
          throw new Error('the callback itself breaks');
        },
      },
      async () => {
        throw new NonRetryableError('the input is wrong: retrying cannot help');
      },
    );
  },
);
`;

const log = recordingLogger();
let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack({ logger: log.logger });
  dir = await scratchDir();
  await deployDag(stack, 'containers.ts', CONTAINERS);
  await deployDag(stack, 'callbacks.ts', CALLBACKS);
});

afterAll(async () => {
  await stack?.stop();
});

const notificationsOf = (runId: string): Notification[] =>
  stack.notifier.recent().filter((n) => n.runId === runId);

describe('tasks on the local stack', { timeout: 120_000 }, () => {
  it('fargate tries run as local subprocesses and their exit code decides the state', async () => {
    // Act
    const marker = join(dir, 'containers.txt');
    const run = await triggerRun(stack.deps, { dagId: 'containers', now: Date.now(), conf: { marker } });
    const { run: done, tis } = await finishedRun(stack, 'containers', run.runId);
    // Assess
    expect(done.state).toBe('failed');
    const ok = tis.get('shell_ok')!;
    const fails = tis.get('container_fails')!;
    expect(ok).toMatchObject({ state: 'success', executor: 'fargate', tryNumber: 1 });
    expect(ok.workerId).toMatch(/^container:local-task\//);
    expect(fails).toMatchObject({
      state: 'failed',
      executor: 'fargate',
      error: 'container exited with code 3',
    });
    // What the container printed is the try's log.
    const okLog = await stack.deps.logs!.read(ok, 1);
    expect(okLog.join('\n')).toContain(
      `shell on ${new Date(done.logicalDate).toISOString().slice(0, 10)}, try 1`,
    );
    expect((await stack.deps.logs!.read(fails, 1)).join('\n')).toContain('about to fail');
    // Its onFailure ran once, in task-events, just after the container's end was recorded.
    await expect
      .poll(() => (existsSync(marker) ? readFileSync(marker, 'utf8') : ''), {
        timeout: 30_000,
        interval: 100,
      })
      .toBe('onFailure 1: container exited with code 3\n');
    // The run's failure is published by the scheduler just after it records the run's end.
    await expect
      .poll(() => notificationsOf(run.runId).map((n) => n.type), { timeout: 30_000, interval: 100 })
      .toEqual(['task_failed', 'run_failed']);
  });

  it('runs each callback once per event; callback errors are logged and fail nothing twice', async () => {
    // Prepare
    const marker = join(dir, 'callbacks.txt');
    // Act
    const run = await triggerRun(stack.deps, { dagId: 'callbacks', now: Date.now(), conf: { marker } });
    const { run: done, tis } = await finishedRun(stack, 'callbacks', run.runId);
    // Assess: flaky retried once and succeeded; doomed failed for good on its first try.
    expect(done.state).toBe('failed');
    expect(tis.get('flaky')).toMatchObject({ state: 'success', tryNumber: 2, result: 'ok' });
    expect(tis.get('doomed')).toMatchObject({
      state: 'failed',
      tryNumber: 1,
      error: 'the input is wrong: retrying cannot help',
    });
    // The DAG callback runs in the scheduler after the run ends: wait for its line.
    await expect
      .poll(() => readFileSync(marker, 'utf8').split('\n').filter(Boolean).sort(), {
        timeout: 30_000,
        interval: 100,
      })
      .toEqual(
        [
          'dag onFailure failed',
          'doomed onFailure 1: the input is wrong: retrying cannot help',
          'flaky onRetry 1: first try fails',
          'flaky onSuccess 2',
        ].sort(),
      );
    // One notification per failure: the task once, the run once (after the DAG callback).
    await expect
      .poll(() => notificationsOf(run.runId).map((n) => n.type), { timeout: 30_000, interval: 100 })
      .toEqual(['task_failed', 'run_failed']);
    const notes = notificationsOf(run.runId);
    expect(notes[0]).toMatchObject({
      taskId: 'doomed',
      tryNumber: 1,
      error: 'the input is wrong: retrying cannot help',
    });
    // The callbacks' own errors: in the try's log, and in the scheduler's log.
    const doomedLog = await stack.deps.logs!.read(tis.get('doomed')!, 1);
    expect(doomedLog.join('\n')).toContain('onFailure callback failed: the callback itself breaks');
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'DAG callback failed',
        extra: expect.objectContaining({ runId: run.runId, error: 'Error: the DAG callback breaks too' }),
      }),
    );
  });

  it('keeps each try its own log', async () => {
    const run = await triggerRun(stack.deps, {
      dagId: 'callbacks',
      now: Date.now(),
      conf: { marker: join(dir, 'logs.txt') },
    });
    const { tis } = await finishedRun(stack, 'callbacks', run.runId);
    const flaky = tis.get('flaky')!;
    const first = (await stack.deps.logs!.read(flaky, 1)).join('\n');
    const second = (await stack.deps.logs!.read(flaky, 2)).join('\n');
    expect(first).toContain('flaky try 1 says hello');
    expect(first).toContain('try 1 failed: first try fails');
    expect(first).not.toContain('flaky try 2');
    expect(second).toContain('flaky try 2 says hello');
    expect(second).not.toContain('flaky try 1');
  });
});
