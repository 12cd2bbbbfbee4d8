import { describe, expect, it } from 'vitest';
import { dag, NonRetryableError } from '#sdk/index.ts';
import { createHandler } from '../../../functions/worker/handler.ts';
import { encode } from '../../../shared/messages.ts';
import { lambdaContext, makeTestDeps, sqsEvent } from '../../support/function-deps.ts';

const twoTasks = dag('two_tasks', { schedule: null }, (d) => {
  const a = d.task('a', async (ctx) => {
    ctx.log('working on', ctx.ds);
    return { rows: 3 };
  });
  const b = d.task('b', async (ctx) => ({ seen: ctx.upstream.a }));
  a.before(b);
});

describe('worker handler', () => {
  it('runs each dispatched try, captures its log and tells the scheduler', async () => {
    // Prepare
    const t = makeTestDeps();
    const run = await t.runOf(twoTasks);
    const bodies = t.dispatched.splice(0).map((m) => encode('dispatch', m));
    // Act
    const response = await createHandler(t.deps)(sqsEvent(bodies), lambdaContext());
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const a = await t.store.getTi({ dagId: 'two_tasks', runId: run.runId, taskId: 'a', mapIndex: -1 });
    expect(a).toMatchObject({ state: 'success', result: { rows: 3 } });
    // The event names the task, its try and version: the scheduler looks at a's downstream only.
    expect(t.events).toContainEqual({
      type: 'task_finished',
      dagId: 'two_tasks',
      runId: run.runId,
      taskId: 'a',
      tryNumber: a!.tryNumber,
      dagVersion: run.dagVersion,
    });
    const log = await t.deps.logs!.read(a!, a!.tryNumber);
    expect(log.join('\n')).toMatch(/working on 2026-01-05/);
  });

  it('runs a duplicated message once', async () => {
    const t = makeTestDeps();
    const calls: string[] = [];
    const once = dag('once', { schedule: null }, (d) => {
      d.task('only', async () => void calls.push('ran'));
    });
    await t.runOf(once);
    const body = encode('dispatch', t.dispatched[0]!);
    const handler = createHandler(t.deps);
    await handler(sqsEvent([body, body]), lambdaContext());
    await handler(sqsEvent([body]), lambdaContext());
    expect(calls).toEqual(['ran']);
  });

  it('reports a record it cannot decode, and runs the others', async () => {
    const t = makeTestDeps();
    await t.runOf(twoTasks);
    const good = encode('dispatch', t.dispatched[0]!);
    const response = await createHandler(t.deps)(sqsEvent(['{"v":1}', good]), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
  });

  it('leaves a try for the next invocation when too little time is left', async () => {
    const t = makeTestDeps();
    const run = await t.runOf(twoTasks);
    const body = encode('dispatch', t.dispatched[0]!);
    const response = await createHandler(t.deps)(sqsEvent([body]), lambdaContext(8_000));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const a = await t.store.getTi({ dagId: 'two_tasks', runId: run.runId, taskId: 'a', mapIndex: -1 });
    expect(a?.state).toBe('queued');
  });

  it('aborts a try that would outlive the invocation, and fails it to be retried', async () => {
    const t = makeTestDeps({ reserveMs: 1_000, minStartMs: 100 });
    const slow = dag('slow', { schedule: null, defaultArgs: { retries: 1 } }, (d) => {
      d.task('sleep', async (ctx) => {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 10_000);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        });
      });
    });
    const run = await t.runOf(slow);
    const body = encode('dispatch', t.dispatched[0]!);
    await createHandler(t.deps)(sqsEvent([body]), lambdaContext(1_300));
    const ti = await t.store.getTi({ dagId: 'slow', runId: run.runId, taskId: 'sleep', mapIndex: -1 });
    expect(ti).toMatchObject({ state: 'up_for_retry' });
    expect(ti?.error).toMatch(/ran out of time/);
  });

  it('keeps a large result out of the item and hands it to the downstream task', async () => {
    const t = makeTestDeps();
    const big = 'x'.repeat(40_000);
    const large = dag('large', { schedule: null }, (d) => {
      const make = d.task('make', async () => ({ big }));
      const use = d.task('use', async (ctx) => ({
        length: (ctx.upstream.make as { big: string }).big.length,
      }));
      make.before(use);
    });
    const run = await t.runOf(large);
    const handler = createHandler(t.deps);
    await handler(sqsEvent(t.dispatched.splice(0).map((m) => encode('dispatch', m))), lambdaContext());
    const make = await t.store.getTi({ dagId: 'large', runId: run.runId, taskId: 'make', mapIndex: -1 });
    expect(make?.result).toMatchObject({ $updraftResult: expect.any(String), bytes: 40_010 });
    const { schedulerPass } = await import('#services/scheduler-pass.ts');
    await schedulerPass(t.deps, { now: t.clock.now(), runs: [run], dagIds: [] });
    await handler(sqsEvent(t.dispatched.splice(0).map((m) => encode('dispatch', m))), lambdaContext());
    const use = await t.store.getTi({ dagId: 'large', runId: run.runId, taskId: 'use', mapIndex: -1 });
    expect(use?.result).toEqual({ length: 40_000 });
  });

  it('publishes a task that fails for good, and still ends the try when its callback throws', async () => {
    const t = makeTestDeps();
    const failing = dag('failing', { schedule: null }, (d) => {
      d.task(
        'boom',
        {
          onFailure: () => {
            throw new Error('callback broke too');
          },
        },
        async () => {
          throw new NonRetryableError('bad input');
        },
      );
    });
    const run = await t.runOf(failing);
    await createHandler(t.deps)(sqsEvent([encode('dispatch', t.dispatched[0]!)]), lambdaContext());
    const ti = await t.store.getTi({ dagId: 'failing', runId: run.runId, taskId: 'boom', mapIndex: -1 });
    expect(ti).toMatchObject({ state: 'failed', error: 'bad input' });
    expect(t.notifications).toEqual([
      expect.objectContaining({ type: 'task_failed', dagId: 'failing', taskId: 'boom', error: 'bad input' }),
    ]);
    const log = await t.deps.logs!.read(ti!, ti!.tryNumber);
    expect(log.join('\n')).toMatch(/onFailure callback failed: callback broke too/);
  });
});
