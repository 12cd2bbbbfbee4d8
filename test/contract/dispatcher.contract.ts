/**
 * The dispatch-queue contract: what every `Dispatcher` and the queue behind it must do, seen from a
 * consumer. At-least-once, unordered: consumers must be idempotent (a duplicate is a no-op because
 * `startTry` is conditional). Each implementation's test file passes a `test` whose `harness`
 * fixture is a fresh, empty queue.
 */
import { describe, expect, type TestAPI } from 'vitest';
import { tiKeyString } from '#core/model.ts';
import type { Dispatcher, DispatchMessage } from '#ports';

interface ReceivedDispatch {
  message: DispatchMessage;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** Deletes the message (the consumer is done with it). */
  ack(): Promise<void>;
}

interface DispatcherHarness {
  dispatcher: Dispatcher;
  /** Receives every message visible now; each stays hidden for the visibility timeout. */
  receiveAll(): Promise<ReceivedDispatch[]>;
  /** Lets the visibility timeout of everything received so far run out. */
  passVisibilityTimeout(): Promise<void>;
}

function message(i: number, over: Partial<DispatchMessage> = {}): DispatchMessage {
  return {
    key: { dagId: 'etl', runId: 'scheduled__2024-01-01T00:00:00+00:00', taskId: `t${i}`, mapIndex: -1 },
    tryNumber: 1,
    dagVersion: 'v1',
    executor: 'lambda',
    ...over,
  };
}

function idOf(m: DispatchMessage): string {
  return `${tiKeyString(m.key)}#${m.tryNumber}`;
}

function sortedIds(received: ReceivedDispatch[]): string[] {
  return received.map((r) => idOf(r.message)).sort();
}

function describeDispatcher<C extends { harness: DispatcherHarness }>(name: string, it: TestAPI<C>): void {
  describe(`Dispatcher contract: ${name}`, () => {
    it('hands every field of a message to the consumer as it was sent', async ({ harness }) => {
      // Prepare
      const sent = [
        message(1),
        message(2, { key: { dagId: 'd.x-y_z', runId: 'manual__r/1', taskId: 'map', mapIndex: 7 } }),
        message(3, { tryNumber: 4, dagVersion: 'abc123', executor: 'fargate' }),
      ];
      // Act
      await harness.dispatcher.dispatch(sent);
      const received = await harness.receiveAll();
      // Assess
      const byId = (a: DispatchMessage, b: DispatchMessage) => idOf(a).localeCompare(idOf(b));
      expect(received.map((r) => r.message).sort(byId)).toEqual([...sent].sort(byId));
      expect(received.every((r) => r.receiveCount === 1)).toBe(true);
    });

    it('sends nothing for an empty list', async ({ harness }) => {
      await harness.dispatcher.dispatch([]);
      expect(await harness.receiveAll()).toEqual([]);
    });

    it.for([
      { case: 'more than one SQS batch', count: 23 },
      { case: 'hundreds', count: 450 },
    ])('delivers every message of a dispatch of $case, in any order', async ({ count }, { harness }) => {
      const sent = Array.from({ length: count }, (_, i) => message(i));
      await harness.dispatcher.dispatch(sent);
      const received = await harness.receiveAll();
      expect(sortedIds(received)).toEqual(sent.map(idOf).sort());
    });

    it('delivers messages whose total size exceeds 256 KB', async ({ harness }) => {
      // 20 messages of ~120 KB: ten of them are far over any request limit, two fit under 256 KB.
      const sent = Array.from({ length: 20 }, (_, i) =>
        message(i, { dagVersion: `v${'x'.repeat(120_000)}${i}` }),
      );
      await harness.dispatcher.dispatch(sent);
      const received = await harness.receiveAll();
      expect(received.map((r) => r.message.dagVersion).sort()).toEqual(sent.map((m) => m.dagVersion).sort());
    });

    it('delivers a message again after its visibility timeout when it was not acknowledged', async ({
      harness,
    }) => {
      // Prepare
      await harness.dispatcher.dispatch([message(1), message(2)]);
      const first = await harness.receiveAll();
      const acked = first.find((r) => r.message.key.taskId === 't1')!;
      await acked.ack();
      // Act
      const meanwhile = await harness.receiveAll();
      await harness.passVisibilityTimeout();
      const again = await harness.receiveAll();
      // Assess
      expect(meanwhile).toEqual([]);
      expect(again.map((r) => [r.message.key.taskId, r.receiveCount])).toEqual([['t2', 2]]);
      await again[0]!.ack();
      await harness.passVisibilityTimeout();
      expect(await harness.receiveAll()).toEqual([]);
    });

    it('delivers a message sent twice twice: consumers must be idempotent', async ({ harness }) => {
      await harness.dispatcher.dispatch([message(1)]);
      await harness.dispatcher.dispatch([message(1), message(1)]);
      const received = await harness.receiveAll();
      expect(sortedIds(received)).toEqual([idOf(message(1)), idOf(message(1)), idOf(message(1))]);
    });
  });
}

export { type DispatcherHarness, describeDispatcher, type ReceivedDispatch };
