import { test } from 'vitest';
import { MemoryDispatcher } from '#adapters/memory/memory-dispatcher.ts';
import { VirtualClock } from '#adapters/memory/virtual-clock.ts';
import { type DispatcherHarness, describeDispatcher } from './dispatcher.contract.ts';

const VISIBILITY_MS = 30_000;

const memoryTest = test.extend('harness', async (): Promise<DispatcherHarness> => {
  const clock = new VirtualClock(Date.UTC(2024, 0, 1));
  const dispatcher = new MemoryDispatcher({ clock, visibilityTimeoutMs: VISIBILITY_MS });
  return {
    dispatcher,
    receiveAll: async () => {
      const out = [];
      for (let batch = dispatcher.receive(10); batch.length > 0; batch = dispatcher.receive(10)) {
        for (const d of batch) {
          out.push({
            message: d.message,
            receiveCount: d.receiveCount,
            ack: async () => dispatcher.ack(d.receiptHandle),
          });
        }
      }
      return out;
    },
    passVisibilityTimeout: async () => {
      clock.advance(VISIBILITY_MS + 1);
    },
  };
});

describeDispatcher('memory', memoryTest);
