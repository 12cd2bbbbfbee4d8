import { test, vi } from 'vitest';
import { TimerScheduleRegistry } from '#adapters/local/timer-schedule-registry.ts';
import { describeScheduleRegistry, type ScheduleRegistryHarness } from './schedule-registry.contract.ts';

const timersTest = test.extend(
  'harness',
  async ({ task: _task }, { onCleanup }): Promise<ScheduleRegistryHarness> => {
    const start = Date.UTC(2024, 0, 1);
    vi.useFakeTimers({ now: start });
    const woken: string[] = [];
    const registry = new TimerScheduleRegistry({ onWakeUp: (dagId) => void woken.push(dagId) });
    onCleanup(async () => {
      await registry.stop();
      vi.useRealTimers();
    });
    return {
      registry,
      start,
      pending: () => registry.pending(),
      elapse: async (until) => {
        await vi.advanceTimersByTimeAsync(Math.max(0, until - Date.now()));
        return woken.splice(0);
      },
    };
  },
);

describeScheduleRegistry('timers (fake time)', timersTest);
