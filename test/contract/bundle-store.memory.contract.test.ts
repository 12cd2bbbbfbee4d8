import { test } from 'vitest';
import { MemoryBundleStore } from '#adapters/memory/memory-bundle-store.ts';
import { describeBundleStore } from './bundle-store.contract.ts';

describeBundleStore(
  'memory',
  test.extend('store', async () => new MemoryBundleStore()),
);
