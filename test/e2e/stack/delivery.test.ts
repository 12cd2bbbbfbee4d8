/**
 * What goes wrong between the scheduler and the workers, on the local stack's real queue: a worker
 * that dies mid-task, a dispatch message delivered twice, one that never arrives. Tasks append to
 * a file what they do, so each test counts how often the task code really ran.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerRun } from '#services/trigger-run.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import {
  deployDag,
  finishedRun,
  recordingLogger,
  scratchDir,
  startTestStack,
  waitFor,
} from '../support/local-stack.ts';

/** Each try appends `try N start` and `try N end` to conf.marker; try 1 can be made to linger. */
const SOURCE = `import { appendFileSync } from 'node:fs';
import { dag } from 'updraft/sdk';

export default dag('delivery', { schedule: null }, (d) => {
  const onRetry = (ctx) => appendFileSync(ctx.conf.marker, 'onRetry ' + ctx.tryNumber + ': ' + ctx.error + '\\n');
  d.task('work', { retries: 1, retryDelay: '200ms', onRetry }, async (ctx) => {
    appendFileSync(ctx.conf.marker, 'try ' + ctx.tryNumber + ' start\\n');
    if (ctx.tryNumber === 1 && ctx.conf.lingerMs)
      await new Promise((resolve) => setTimeout(resolve, ctx.conf.lingerMs));
    appendFileSync(ctx.conf.marker, 'try ' + ctx.tryNumber + ' end\\n');
    return { try: ctx.tryNumber };
  });
});
`;

const log = recordingLogger();
let stack: LocalStack;
let dir: string;
let markerCount = 0;

beforeAll(async () => {
  stack = await startTestStack({ logger: log.logger });
  dir = await scratchDir();
  await deployDag(stack, 'delivery.ts', SOURCE);
});

afterAll(async () => {
  await stack?.stop();
});

function marker(): string {
  markerCount += 1;
  return join(dir, `marker-${markerCount}.txt`);
}

const linesOf = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

const key = (runId: string) => ({ dagId: 'delivery', runId, taskId: 'work', mapIndex: -1 });

/**
 * Triggers a run with the workers stopped and waits until its try is on the dispatch queue; says
 * how many messages were on the queue before (a killed worker's stays in flight).
 */
async function queuedRun(conf: Record<string, unknown>) {
  await stack.eventSources.workers.stop();
  const before = await onDispatchQueue();
  const run = await triggerRun(stack.deps, { dagId: 'delivery', now: Date.now(), conf });
  await waitFor(
    'the try to be claimed and dispatched',
    () => stack.deps.store.getTi(key(run.runId)),
    (ti) => ti?.state === 'queued',
  );
  return { run, before };
}

/** Takes the dispatch message off the queue (hidden from everyone else for a minute). */
async function receiveDispatch(): Promise<Message> {
  const { Messages = [] } = await stack.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.names.queues.dispatch.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 5,
      VisibilityTimeout: 60,
    }),
  );
  expect(Messages).toHaveLength(1);
  return Messages[0]!;
}

/** Messages on the dispatch queue, visible or in flight. */
async function onDispatchQueue(): Promise<number> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.names.queues.dispatch.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('dispatch and workers on the local stack', { timeout: 120_000 }, () => {
  it('a dispatch message delivered twice runs the task once', async () => {
    // Prepare: the message, and a copy of it, on the real queue.
    const file = marker();
    const { run, before } = await queuedRun({ marker: file });
    const message = await receiveDispatch();
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.names.queues.dispatch.url, MessageBody: message.Body }),
    );
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.names.queues.dispatch.url, MessageBody: message.Body }),
    );
    await stack.clients.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: stack.names.queues.dispatch.url,
        ReceiptHandle: message.ReceiptHandle,
      }),
    );
    // Act
    stack.eventSources.workers.start();
    const { run: done, tis } = await finishedRun(stack, 'delivery', run.runId);
    // Assess: one try, its code ran once, and both copies were acknowledged.
    expect(done.state).toBe('success');
    expect(tis.get('work')).toMatchObject({ state: 'success', tryNumber: 1 });
    expect(linesOf(file)).toEqual(['try 1 start', 'try 1 end']);
    await waitFor('both copies to be deleted from the queue', onDispatchQueue, (n) => n === before);
  });

  it('a lost dispatch message is dispatched again after taskQueuedTimeout, and the task runs', async () => {
    // Prepare: the message disappears before any worker sees it.
    const file = marker();
    const { run } = await queuedRun({ marker: file });
    const message = await receiveDispatch();
    await stack.clients.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: stack.names.queues.dispatch.url,
        ReceiptHandle: message.ReceiptHandle,
      }),
    );
    // Act
    stack.eventSources.workers.start();
    const { run: done, tis } = await finishedRun(stack, 'delivery', run.runId);
    // Assess: the sweep put the try back to be claimed once more; it ran once, as try 1.
    expect(done.state).toBe('success');
    expect(tis.get('work')).toMatchObject({ state: 'success', tryNumber: 1 });
    expect(tis.get('work')!.dispatchAttempts).toBeGreaterThanOrEqual(1);
    expect(linesOf(file)).toEqual(['try 1 start', 'try 1 end']);
  });

  it('a worker killed mid-task is found by its silent heartbeat and the task is retried', async () => {
    // Prepare: try 1 lingers long enough to be killed while it runs.
    const file = marker();
    const run = await triggerRun(stack.deps, {
      dagId: 'delivery',
      now: Date.now(),
      conf: { marker: file, lingerMs: 8_000 },
    });
    await waitFor(
      'try 1 to be running its code',
      async () => linesOf(file),
      (lines) => lines.includes('try 1 start'),
    );
    // Act: the worker dies; a fresh one takes over the queue.
    stack.eventSources.workers.kill();
    stack.eventSources.workers.start();
    const { run: done, tis } = await finishedRun(stack, 'delivery', run.runId);
    // Assess
    expect(done.state).toBe('success');
    expect(tis.get('work')).toMatchObject({ state: 'success', tryNumber: 2, result: { try: 2 } });
    expect(linesOf(file).filter((l) => l.endsWith('start'))).toEqual(['try 1 start', 'try 2 start']);
    // The sweep ran the task's onRetry for the try it failed, once.
    await expect
      .poll(() => linesOf(file).filter((l) => l.startsWith('onRetry')), { timeout: 30_000, interval: 100 })
      .toEqual([expect.stringMatching(/^onRetry 1: heartbeat timeout: no heartbeat for \d+s$/)]);
    const timeouts = log.lines.filter((l) => /^heartbeat timeout: no heartbeat for \d+s$/.test(l.message));
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]!.extra).toMatchObject({ runId: run.runId, taskId: 'work', tryNumber: 1 });
    // The dead worker's try 1 finishes its code later, and changes nothing.
    await waitFor(
      'the dead try to finish its code',
      async () => linesOf(file),
      (lines) => lines.includes('try 1 end'),
    );
    expect(await stack.deps.store.getTi(key(run.runId))).toMatchObject({
      state: 'success',
      tryNumber: 2,
      result: { try: 2 },
    });
  });
});
