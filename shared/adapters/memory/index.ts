export { MemoryStateStore } from './memory-store.ts';
