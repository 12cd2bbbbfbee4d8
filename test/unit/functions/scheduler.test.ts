import { describe, expect, it } from 'vitest';
import { dag } from '#sdk/index.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { createHandler } from '../../../functions/scheduler/handler.ts';
import { encode } from '../../../shared/messages.ts';
import { lambdaContext, makeTestDeps, sqsEvent } from '../../support/function-deps.ts';

const single = dag('single', { schedule: null }, (d) => {
  d.task('only', async () => 1);
});

describe('scheduler handler', () => {
  it('claims and dispatches the work a batch of events names', async () => {
    // Prepare: a run triggered, its event not yet handled.
    const t = makeTestDeps();
    await t.runOf(single);
    t.dispatched.length = 0;
    t.clock.advance(1_000);
    const run = await triggerRun(t.deps, { dagId: 'single', now: t.clock.now(), runId: 'manual_2' });
    // Act
    const response = await createHandler(t.deps)(
      sqsEvent([encode('scheduler-event', { type: 'run_triggered', dagId: 'single', runId: run.runId })]),
      lambdaContext(),
    );
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(t.dispatched.map((m) => m.key.runId)).toEqual(['manual_2']);
  });

  it('reports only the records it cannot decode', async () => {
    const t = makeTestDeps();
    const response = await createHandler(t.deps)(
      sqsEvent([
        encode('scheduler-event', { type: 'tick' }),
        '{"v":1,"type":"task_finished","dagId":"x"}',
        encode('schedule-wakeup', { type: 'wakeup', dagId: 'single' }),
      ]),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('fails the whole batch when the pass fails, so SQS delivers it again', async () => {
    const t = makeTestDeps();
    t.deps.store.listPools = async () => {
      throw new Error('throttled');
    };
    const response = await createHandler(t.deps)(
      sqsEvent([
        encode('scheduler-event', { type: 'tick' }),
        encode('scheduler-event', { type: 'pool_changed', pool: 'p' }),
      ]),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }] });
  });

  it('sweeps when the sweep schedule invokes it directly', async () => {
    // Prepare: a try silent for longer than the heartbeat timeout.
    const t = makeTestDeps();
    const run = await t.runOf(single);
    const [message] = t.dispatched;
    await t.store.startTry(message!.key, message!.tryNumber, { now: t.clock.now(), workerId: 'dead' });
    t.clock.advance(t.deps.settings.heartbeatTimeoutMs + 1_000);
    // Act
    await createHandler(t.deps)({ v: 1, type: 'sweep' }, lambdaContext());
    // Assess
    const ti = await t.store.getTi(message!.key);
    expect(ti).toMatchObject({ state: 'failed' });
    expect(ti?.error).toMatch(/heartbeat timeout/);
    expect(t.notifications).toContainEqual(
      expect.objectContaining({ type: 'task_failed', runId: run.runId }),
    );
    expect(t.notifications).toContainEqual(expect.objectContaining({ type: 'run_failed', runId: run.runId }));
  });

  it('rejects a direct invocation that is not a schedule message, naming the field', async () => {
    const t = makeTestDeps();
    await expect(createHandler(t.deps)({ type: 'wakeup' }, lambdaContext())).rejects.toThrow(
      /schedule-wakeup message: dagId: is required/,
    );
  });
});
