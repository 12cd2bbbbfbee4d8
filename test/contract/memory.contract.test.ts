import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { describeStateStore } from './state-store.contract.ts';

describeStateStore('memory', async () => ({ store: new MemoryStateStore(), cleanup: async () => {} }));
