import { test } from 'vitest';
import { MemoryLogStore } from '#adapters/memory/memory-log-store.ts';
import { describeLogStore } from './log-store.contract.ts';

describeLogStore(
  'memory',
  test.extend('logs', async () => new MemoryLogStore()),
);
