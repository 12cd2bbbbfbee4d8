import { test } from 'vitest';
import { MemorySchedulerEvents } from '#adapters/memory/memory-events.ts';
import { describeSchedulerEvents, type SchedulerEventsHarness } from './scheduler-events.contract.ts';

const memoryTest = test.extend('harness', async (): Promise<SchedulerEventsHarness> => {
  const events = new MemorySchedulerEvents();
  return { events, receiveAll: async () => events.drain() };
});

describeSchedulerEvents('memory', memoryTest);
