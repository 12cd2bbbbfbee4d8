import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, vi } from 'vitest';
import {
  type SqsBatchHandler,
  SqsPoller,
  type SqsPollerOptions,
  type SqsRecord,
} from '#adapters/sqs/sqs-poller.ts';
import { awsTest, type LocalQueue } from '../support/aws-local.ts';

const quiet = { warn: () => {}, error: () => {} };

async function send(sqs: SQSClient, queue: LocalQueue, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries }));
  }
}

/** Messages still in the queue, visible or in flight. */
async function remaining(sqs: SQSClient, queue: LocalQueue): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

const pollerTest = awsTest.extend('poll', async ({ sqs, queue }, { onCleanup }) => {
  const pollers: SqsPoller[] = [];
  onCleanup(() => Promise.all(pollers.map((p) => p.stop())).then(() => {}));
  return (handler: SqsBatchHandler, options: Partial<SqsPollerOptions> = {}): SqsPoller => {
    const poller = new SqsPoller({
      client: sqs,
      queueUrl: queue.url,
      handler,
      waitTimeSeconds: 1,
      retryDelaySeconds: () => 0,
      logger: quiet,
      ...options,
    });
    pollers.push(poller);
    poller.start();
    return poller;
  };
});

describe('SqsPoller (on fauxqs)', () => {
  pollerTest(
    'hands every message to the handler and deletes those it handled',
    async ({ sqs, queue, poll }) => {
      // Prepare
      const bodies = Array.from({ length: 25 }, (_, i) => `m${i}`);
      await send(sqs, queue, bodies);
      const seen: SqsRecord[] = [];
      // Act
      const poller = poll(async (records) => {
        seen.push(...records);
      });
      await vi.waitFor(() => expect(seen).toHaveLength(25), { timeout: 5_000, interval: 20 });
      await poller.stop();
      // Assess
      expect(seen.map((r) => r.body).sort()).toEqual([...bodies].sort());
      expect(
        seen.every((r) => r.attributes.ApproximateReceiveCount === '1' && r.receiptHandle && r.messageId),
      ).toBe(true);
      expect(await remaining(sqs, queue)).toBe(0);
    },
  );

  pollerTest(
    'delivers only the reported failures again, with their receive count raised',
    async ({ sqs, queue, poll }) => {
      await send(sqs, queue, ['ok1', 'bad', 'ok2']);
      const seen: string[] = [];
      const poller = poll(async (records) => {
        seen.push(...records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        const failed = records.filter(
          (r) => r.body === 'bad' && r.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      });
      await vi.waitFor(() => expect(seen).toContain('bad#2'), { timeout: 5_000, interval: 20 });
      await poller.stop();
      expect(seen.sort()).toEqual(['bad#1', 'bad#2', 'ok1#1', 'ok2#1']);
      expect(await remaining(sqs, queue)).toBe(0);
    },
  );

  pollerTest.for([
    {
      case: 'the handler throws',
      respond: (): never => {
        throw new Error('boom');
      },
    },
    {
      case: 'a failure names a message not in the batch',
      respond: () => ({ batchItemFailures: [{ itemIdentifier: 'nope' }] }),
    },
  ])('fails the whole batch when $case', async ({ respond }, { sqs, queue, poll }) => {
    await send(sqs, queue, ['a', 'b']);
    const seen: string[] = [];
    const poller = poll(
      async (records) => {
        seen.push(...records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        if (records.some((r) => r.attributes.ApproximateReceiveCount === '1')) return respond();
      },
      { maxConcurrency: 1 },
    );
    await vi.waitFor(() => expect(seen.filter((s) => s.endsWith('#2'))).toHaveLength(2), {
      timeout: 5_000,
      interval: 20,
    });
    await poller.stop();
    expect(seen.sort()).toEqual(['a#1', 'a#2', 'b#1', 'b#2']);
    expect(await remaining(sqs, queue)).toBe(0);
  });

  pollerTest(
    'keeps to the batch size and runs at most maxConcurrency batches at once',
    async ({ sqs, queue, poll }) => {
      await send(
        sqs,
        queue,
        Array.from({ length: 30 }, (_, i) => `m${i}`),
      );
      let running = 0;
      let peak = 0;
      const sizes: number[] = [];
      const poller = poll(
        async (records) => {
          sizes.push(records.length);
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running -= 1;
        },
        { batchSize: 4, maxConcurrency: 3 },
      );
      await vi.waitFor(() => expect(sizes.reduce((a, b) => a + b, 0)).toBe(30), {
        timeout: 5_000,
        interval: 20,
      });
      await poller.stop();
      expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1);
    },
  );

  pollerTest('stops during a long poll without waiting for it to end', async ({ poll }) => {
    const poller = poll(async () => {}, { waitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await poller.stop();
    // Far less than the 20 s long poll, with room for a loaded CI machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  pollerTest(
    'lets a batch being handled finish and deletes it before stop resolves',
    async ({ sqs, queue, poll }) => {
      await send(sqs, queue, ['slow']);
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => {
        entered = resolve;
      });
      let finished = false;
      const poller = poll(async () => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 200));
        finished = true;
      });
      await inHandler;
      await poller.stop();
      expect(finished).toBe(true);
      expect(await remaining(sqs, queue)).toBe(0);
    },
  );

  pollerTest(
    'watches an idle queue with one long poll, grows with a burst up to maxConcurrency, then shrinks back',
    async ({ sqs, queue, poll }) => {
      // Prepare
      const poller = poll(
        async () => {
          peak = Math.max(peak, poller.loops);
          await new Promise((resolve) => setTimeout(resolve, 100));
        },
        { batchSize: 2, maxConcurrency: 4 },
      );
      let peak = 0;
      expect(poller.loops).toBe(1);
      // Act
      await send(
        sqs,
        queue,
        Array.from({ length: 24 }, (_, i) => `m${i}`),
      );
      // Assess
      await vi.waitFor(async () => expect(await remaining(sqs, queue)).toBe(0), {
        timeout: 30_000,
        interval: 50,
      });
      expect(peak).toBeGreaterThanOrEqual(2);
      expect(peak).toBeLessThanOrEqual(4);
      await vi.waitFor(() => expect(poller.loops).toBe(1), { timeout: 15_000, interval: 50 });
    },
  );

  pollerTest(
    'loses nothing that arrives while it stops: the next poller gets it at once',
    async ({ sqs, queue, poll }) => {
      // Prepare: a poller waiting in a long poll, stopped without cutting the poll off.
      const first = poll(async () => {}, { waitTimeSeconds: 20 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await first.stop();
      // Act: a message the stopped poller's long poll still picks up.
      await send(sqs, queue, ['late']);
      const seen: string[] = [];
      poll(async (records) => void seen.push(...records.map((r) => r.body)), { waitTimeSeconds: 1 });
      // Assess: made visible again and handled by the next poller, long before the visibility timeout.
      await vi.waitFor(() => expect(seen).toEqual(['late']), { timeout: 15_000, interval: 50 });
    },
  );

  pollerTest(
    'when killed, abandons the batch in flight: neither deleted nor released',
    async ({ sqs, queue, poll }) => {
      await send(sqs, queue, ['doomed']);
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const poller = poll(async () => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 100));
      });
      await inHandler;
      poller.kill();
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Still on the queue, in flight until its visibility timeout ends.
      expect(await remaining(sqs, queue)).toBe(1);
      const seen: string[] = [];
      poll(async (records) => void seen.push(...records.map((r) => r.body)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen).toEqual([]);
    },
  );

  pollerTest('rejects a batch size SQS cannot receive', ({ sqs, queue }) => {
    expect(
      () => new SqsPoller({ client: sqs, queueUrl: queue.url, handler: async () => {}, batchSize: 11 }),
    ).toThrow(/batchSize must be a whole number from 1 to 10/);
  });
});
