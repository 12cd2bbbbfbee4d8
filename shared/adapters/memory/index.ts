export { type Delivery, MemoryDispatcher, type MemoryDispatcherOptions } from './memory-dispatcher.ts';
export { MemoryStateStore } from './memory-store.ts';
export { VirtualClock } from './virtual-clock.ts';
