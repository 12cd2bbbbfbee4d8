import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { describeBackfills } from './backfill.contract.ts';

describeBackfills('memory', async () => ({ store: new MemoryStateStore(), cleanup: async () => {} }));
