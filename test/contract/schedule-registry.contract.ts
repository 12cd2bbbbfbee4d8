/**
 * The schedule-registry contract: one pending one-shot wake-up per DAG, that the last call sets,
 * moves or removes, and that fires once. A wake-up may come up to a second late (EventBridge
 * Scheduler's `at()` has whole seconds), never early. Each implementation's test file passes a
 * `test` whose `harness` fixture is a fresh registry with time under the test's control.
 */
import { describe, expect, type TestAPI } from 'vitest';
import type { ScheduleRegistry } from '#ports';

interface ScheduleRegistryHarness {
  registry: ScheduleRegistry;
  /** The time the harness starts at (a whole second). */
  start: number;
  /** The wake-ups currently set, by DAG. */
  pending(): Map<string, number>;
  /** Lets time pass up to `until`; returns the DAGs woken meanwhile, in the order they woke. */
  elapse(until: number): Promise<string[]>;
}

const SECOND = 1000;
const HOUR = 3_600_000;

function expectWakeUp(harness: ScheduleRegistryHarness, dagId: string, at: number): void {
  const got = harness.pending().get(dagId);
  expect(got, `wake-up of ${dagId}`).toBeDefined();
  expect(got!).toBeGreaterThanOrEqual(at);
  expect(got!).toBeLessThan(at + SECOND);
}

function describeScheduleRegistry<C extends { harness: ScheduleRegistryHarness }>(
  name: string,
  it: TestAPI<C>,
): void {
  describe(`ScheduleRegistry contract: ${name}`, () => {
    it('sets a wake-up for a DAG', async ({ harness }) => {
      await harness.registry.setNextWakeUp('etl', harness.start + HOUR);
      expect([...harness.pending().keys()]).toEqual(['etl']);
      expectWakeUp(harness, 'etl', harness.start + HOUR);
    });

    it('moves a wake-up later or earlier: only the last time set fires, once', async ({ harness }) => {
      // Prepare
      const { registry, start } = harness;
      await registry.setNextWakeUp('etl', start + HOUR);
      await registry.setNextWakeUp('etl', start + 2 * HOUR);
      await registry.setNextWakeUp('etl', start + HOUR / 2);
      // Act
      const beforeIt = await harness.elapse(start + HOUR / 2 - 1);
      const atIt = await harness.elapse(start + HOUR / 2 + SECOND);
      const later = await harness.elapse(start + 3 * HOUR);
      // Assess
      expect(beforeIt).toEqual([]);
      expect(atIt).toEqual(['etl']);
      expect(later).toEqual([]);
      expect(harness.pending().size).toBe(0);
    });

    it('removes a wake-up, which then never fires', async ({ harness }) => {
      await harness.registry.setNextWakeUp('etl', harness.start + HOUR);
      await harness.registry.setNextWakeUp('etl', null);
      expect(harness.pending().size).toBe(0);
      expect(await harness.elapse(harness.start + 2 * HOUR)).toEqual([]);
    });

    it('does nothing when removing a wake-up that was never set, or is already gone', async ({ harness }) => {
      await harness.registry.setNextWakeUp('other', harness.start + HOUR);
      await harness.registry.setNextWakeUp('etl', null);
      await harness.registry.setNextWakeUp('etl', null);
      expect([...harness.pending().keys()]).toEqual(['other']);
    });

    it('fires a wake-up once, not before its time, then forgets it', async ({ harness }) => {
      const at = harness.start + 60 * SECOND + 500;
      await harness.registry.setNextWakeUp('etl', at);
      expectWakeUp(harness, 'etl', at);
      expect(await harness.elapse(at - 1)).toEqual([]);
      expect(await harness.elapse(at + SECOND)).toEqual(['etl']);
      expect(harness.pending().size).toBe(0);
      // A fired wake-up can be set again.
      await harness.registry.setNextWakeUp('etl', at + HOUR);
      expect(await harness.elapse(at + 2 * HOUR)).toEqual(['etl']);
    });

    it('wakes several DAGs in time order, each at its own time', async ({ harness }) => {
      const { registry, start } = harness;
      await registry.setNextWakeUp('b', start + 20 * SECOND);
      await registry.setNextWakeUp('a', start + 10 * SECOND);
      await registry.setNextWakeUp('c', start + HOUR);
      expect(await harness.elapse(start + 30 * SECOND)).toEqual(['a', 'b']);
      expect([...harness.pending().keys()]).toEqual(['c']);
    });

    it('keeps DAGs apart whose ids differ only after 64 characters or in characters names cannot hold', async ({
      harness,
    }) => {
      const long = 'a'.repeat(70);
      const ids = [`${long}1`, `${long}2`, 'etl.daily', 'etl_daily', 'etl-daily', 'etl:daily'];
      for (const [i, dagId] of ids.entries())
        await harness.registry.setNextWakeUp(dagId, harness.start + (i + 1) * HOUR);
      await harness.registry.setNextWakeUp(`${long}2`, null);
      expect([...harness.pending().keys()].sort()).toEqual(ids.filter((id) => id !== `${long}2`).sort());
      for (const [i, dagId] of ids.entries())
        if (dagId !== `${long}2`) expectWakeUp(harness, dagId, harness.start + (i + 1) * HOUR);
    });
  });
}

export { describeScheduleRegistry, type ScheduleRegistryHarness };
