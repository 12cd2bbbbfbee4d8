/**
 * The try-history half of the state-store contract: every try end adds the try to the instance's
 * bounded history (core/try-history.ts), kept inside the instance, which `listTries` reads back.
 */
import { describe, expect, it } from 'vitest';
import type { TaskInstance } from '#core/model.ts';
import { MAX_TRY_HISTORY, TRY_ERROR_CHARS } from '#core/try-history.ts';
import type { StateStore } from '#ports';
import { run, T0, ti } from '../support/factories.ts';

type WithStore = (body: (store: StateStore) => Promise<void>) => Promise<void>;

/** One scheduled instance of a new run. */
async function scheduledTi(store: StateStore, patch: Partial<TaskInstance> = {}): Promise<TaskInstance> {
  const r = run();
  const a = ti({ runId: r.runId, ...patch });
  await store.createRun(r, [a]);
  return a;
}

/** Claims, starts and ends try `n` of `a` (scheduled in try n) as `state`; the next try is scheduled when it retries. */
async function runTry(
  store: StateStore,
  a: TaskInstance,
  n: number,
  end: { state: 'success' | 'failed' | 'up_for_retry' | 'up_for_reschedule'; error?: string | null },
  at = T0 + n * 1000,
): Promise<void> {
  const claimed = await store.claim([{ key: a, tryNumber: n, holds: [], queuedAt: at }]);
  expect(claimed.claimed).toHaveLength(1);
  expect(await store.startTry(a, n, { now: at + 10, workerId: `w${n}` })).not.toBeNull();
  const ended = await store.endTry({
    key: a,
    expect: { state: 'running', tryNumber: n },
    set: { state: end.state, endedAt: at + 500, error: end.error ?? null },
  });
  expect(ended).toBe(true);
}

/** Moves an instance that waits for its next try (or poke) from try `was` back to scheduled in try `n`. */
async function reschedule(
  store: StateStore,
  a: TaskInstance,
  from: TaskInstance['state'],
  n: number,
  was = n - 1,
) {
  const { applied } = await store.updateTis([
    { key: a, expect: { state: from, tryNumber: was }, set: { state: 'scheduled', tryNumber: n } },
  ]);
  expect(applied).toHaveLength(1);
}

function describeTries(withStore: WithStore): void {
  describe('try history', () => {
    it('keeps each ended try: number, how it ended, start, end, worker and error', () =>
      withStore(async (store) => {
        const a = await scheduledTi(store, { maxTries: 2 });
        expect(await store.listTries(a)).toEqual([]);
        await runTry(store, a, 1, { state: 'up_for_retry', error: 'boom' });
        await reschedule(store, a, 'up_for_retry', 2);
        await runTry(store, a, 2, { state: 'success' });
        expect(await store.listTries(a)).toEqual([
          {
            tryNumber: 1,
            state: 'up_for_retry',
            startedAt: T0 + 1010,
            endedAt: T0 + 1500,
            workerId: 'w1',
            error: 'boom',
          },
          {
            tryNumber: 2,
            state: 'success',
            startedAt: T0 + 2010,
            endedAt: T0 + 2500,
            workerId: 'w2',
            error: null,
          },
        ]);
        // The history survives later changes of the instance (a clear, a wait reason).
        await store.setWaitReasons([{ key: a, reason: { kind: 'dag_paused' } }]);
        const { applied } = await store.updateTis([
          { key: a, expect: { state: 'success', tryNumber: 2 }, set: { state: 'none', maxTries: 4 } },
        ]);
        expect(applied).toHaveLength(1);
        expect((await store.listTries(a)).map((t) => t.tryNumber)).toEqual([1, 2]);
      }));

    it(`keeps the newest ${MAX_TRY_HISTORY} tries and cuts long errors`, () =>
      withStore(async (store) => {
        const a = await scheduledTi(store, { maxTries: 20 });
        const tries = MAX_TRY_HISTORY + 2;
        for (let n = 1; n <= tries; n += 1) {
          if (n > 1) await reschedule(store, a, 'up_for_retry', n);
          await runTry(store, a, n, { state: 'up_for_retry', error: 'x'.repeat(500) });
        }
        const history = await store.listTries(a);
        expect(history.map((t) => t.tryNumber)).toEqual(
          Array.from({ length: MAX_TRY_HISTORY }, (_, i) => tries - MAX_TRY_HISTORY + 1 + i),
        );
        expect(history.every((t) => t.error?.length === TRY_ERROR_CHARS && t.error.endsWith('…'))).toBe(true);
      }));

    it("keeps a sensor's pokes as one try from its first start, and no entry for a requeued dispatch", () =>
      withStore(async (store) => {
        const a = await scheduledTi(store);
        // A dispatch that never started goes back to scheduled in the same try: not a try of its own.
        await store.claim([{ key: a, tryNumber: 1, holds: [], queuedAt: T0 }]);
        expect(
          await store.endTry({
            key: a,
            expect: { state: 'queued', tryNumber: 1 },
            set: { state: 'scheduled', queuedAt: null, dispatchAttempts: 1 },
          }),
        ).toBe(true);
        expect(await store.listTries(a)).toEqual([]);
        // Two pokes and the success, all try 1.
        await runTry(store, a, 1, { state: 'up_for_reschedule' }, T0 + 1000);
        await reschedule(store, a, 'up_for_reschedule', 1, 1);
        await runTry(store, a, 1, { state: 'up_for_reschedule' }, T0 + 2000);
        expect((await store.listTries(a)).map((t) => [t.tryNumber, t.state, t.startedAt])).toEqual([
          [1, 'up_for_reschedule', T0 + 1010],
        ]);
        await reschedule(store, a, 'up_for_reschedule', 1, 1);
        await runTry(store, a, 1, { state: 'success' }, T0 + 3000);
        expect(await store.listTries(a)).toEqual([
          {
            tryNumber: 1,
            state: 'success',
            startedAt: T0 + 1010,
            endedAt: T0 + 3500,
            workerId: 'w1',
            error: null,
          },
        ]);
      }));

    it('says nothing of an instance that does not exist', () =>
      withStore(async (store) => {
        expect(await store.listTries(ti({ taskId: 'ghost' }))).toEqual([]);
      }));
  });
}

export { describeTries };
