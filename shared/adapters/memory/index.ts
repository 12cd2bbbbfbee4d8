export { MemoryBundleStore } from './memory-bundle-store.ts';
export { type Delivery, MemoryDispatcher, type MemoryDispatcherOptions } from './memory-dispatcher.ts';
export { MemorySchedulerEvents } from './memory-events.ts';
export { MemoryLogStore } from './memory-log-store.ts';
export { MemoryScheduleRegistry } from './memory-schedule-registry.ts';
export { MemoryStateStore } from './memory-store.ts';
export { VirtualClock } from './virtual-clock.ts';
