import { test } from 'vitest';
import { MemoryScheduleRegistry } from '#adapters/memory/memory-schedule-registry.ts';
import { describeScheduleRegistry, type ScheduleRegistryHarness } from './schedule-registry.contract.ts';

const memoryTest = test.extend('harness', async (): Promise<ScheduleRegistryHarness> => {
  const registry = new MemoryScheduleRegistry();
  return {
    registry,
    start: Date.UTC(2024, 0, 1),
    pending: () => registry.pending(),
    elapse: async (until) => registry.due(until).map((w) => w.dagId),
  };
});

describeScheduleRegistry('memory', memoryTest);
