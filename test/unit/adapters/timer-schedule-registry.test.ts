import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, TimerScheduleRegistry } from '#adapters/local/timer-schedule-registry.ts';

const START = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

describe('TimerScheduleRegistry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setUp() {
    const woken: { dagId: string; at: number }[] = [];
    const errors: unknown[] = [];
    const registry = new TimerScheduleRegistry({
      onWakeUp: (dagId) => void woken.push({ dagId, at: Date.now() }),
      logger: { error: (_message, extra) => void errors.push(extra) },
    });
    return { registry, woken, errors };
  }

  it('waits longer than a Node timer can (2^31-1 ms) by re-arming, and wakes on time', async () => {
    // Prepare
    const { registry, woken } = setUp();
    const at = START + 60 * DAY;
    expect(60 * DAY).toBeGreaterThan(2 * MAX_TIMER_MS);
    // Act
    await registry.setNextWakeUp('quarterly', at);
    await vi.advanceTimersByTimeAsync(at - START - 1);
    const early = [...woken];
    await vi.advanceTimersByTimeAsync(1);
    // Assess
    expect(early).toEqual([]);
    expect(woken).toEqual([{ dagId: 'quarterly', at }]);
  });

  it('wakes a DAG whose time has passed on the next turn of the event loop', async () => {
    const { registry, woken } = setUp();
    await registry.setNextWakeUp('late', START - DAY);
    expect(woken).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(woken.map((w) => w.dagId)).toEqual(['late']);
  });

  it('clears every timer on stop and ignores wake-ups set afterwards', async () => {
    const { registry, woken } = setUp();
    await registry.setNextWakeUp('a', START + 1_000);
    await registry.setNextWakeUp('b', START + 2_000);
    await registry.stop();
    await registry.setNextWakeUp('c', START + 3_000);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(woken).toEqual([]);
    expect(registry.pending().size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a failing wake-up handler and keeps the other timers', async () => {
    const errors: unknown[] = [];
    const woken: string[] = [];
    const registry = new TimerScheduleRegistry({
      onWakeUp: async (dagId) => {
        if (dagId === 'bad') throw new Error('scheduler down');
        woken.push(dagId);
      },
      logger: { error: (_message, extra) => void errors.push(extra) },
    });
    await registry.setNextWakeUp('bad', START + 1_000);
    await registry.setNextWakeUp('good', START + 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(errors).toEqual([{ dagId: 'bad', error: 'Error: scheduler down' }]);
    expect(woken).toEqual(['good']);
  });

  it('holds one timer per DAG however often the wake-up moves', async () => {
    const { registry } = setUp();
    for (let i = 1; i <= 50; i += 1) await registry.setNextWakeUp('etl', START + i * 1_000);
    expect(vi.getTimerCount()).toBe(1);
  });
});
