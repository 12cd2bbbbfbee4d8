import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { type CounterKey, counterKeyString, type TaskInstance } from '#core/model.ts';
import { run, T0, ti } from '../../support/factories.ts';

const POOLS = ['a', 'b'];
const LIMITS: Record<string, number> = { global: 4, 'pool/a': 3, 'pool/b': 5 };

type Step =
  | { op: 'claim'; is: number[] }
  | { op: 'start'; i: number }
  | { op: 'end'; i: number; state: 'success' | 'up_for_retry' };

const step: fc.Arbitrary<Step> = fc.oneof(
  // A batch of one to four requests (possibly naming one instance twice) in one claim call.
  fc.record({ op: fc.constant('claim' as const), is: fc.array(fc.nat(11), { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('start' as const), i: fc.nat(11) }),
  fc.record({
    op: fc.constant('end' as const),
    i: fc.nat(11),
    state: fc.constantFrom('success' as const, 'up_for_retry' as const),
  }),
);

describe('MemoryStateStore under random claims, starts and ends', () => {
  it('keeps every counter equal to the holds of queued and running instances, and within its limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(3), { minLength: 12, maxLength: 12 }),
        fc.array(step, { maxLength: 80 }),
        async (slots, steps) => {
          const store = new MemoryStateStore();
          const r = run();
          const tis = slots.map((s, i) =>
            ti({ runId: r.runId, taskId: `t${i}`, pool: POOLS[i % 2]!, poolSlots: s + 1 }),
          );
          await store.createRun(r, tis);
          for (const s of steps) {
            if (s.op === 'claim') {
              const requests = await Promise.all(
                s.is.map(async (i) => {
                  const t = tis[i]!;
                  const current = (await store.getTi(t))!;
                  const holds = [
                    { counter: { kind: 'global' } as CounterKey, amount: 1, limit: LIMITS.global! },
                    {
                      counter: { kind: 'pool', pool: t.pool } as CounterKey,
                      amount: t.poolSlots,
                      limit: LIMITS[`pool/${t.pool}`]!,
                    },
                  ];
                  return { key: t, tryNumber: current.tryNumber, holds, queuedAt: T0 };
                }),
              );
              const result = await store.claim(requests);
              expect(result.claimed.length + result.lost.length).toBe(requests.length);
            } else {
              const t = tis[s.i]!;
              const current = (await store.getTi(t))!;
              if (s.op === 'start') {
                await store.startTry(t, current.tryNumber, { now: T0, workerId: 'w' });
              } else {
                // Ends from queued (a stuck try: only to up_for_retry) or running, whichever it is in.
                const from = current.state === 'queued' ? 'queued' : 'running';
                const state = from === 'queued' ? 'up_for_retry' : s.state;
                await store.endTry({
                  key: t,
                  expect: { state: from, tryNumber: current.tryNumber },
                  set: { state },
                });
                if (state === 'up_for_retry') {
                  await store.updateTis([
                    {
                      key: t,
                      expect: { state: 'up_for_retry', tryNumber: current.tryNumber },
                      set: { state: 'scheduled', tryNumber: current.tryNumber + 1 },
                    },
                  ]);
                }
              }
            }
            // Invariant: counters = Σ holds of holding instances; no counter past its limit.
            const held = new Map<string, number>();
            for (const x of await Promise.all(tis.map((y) => store.getTi(y)))) {
              const inst = x as TaskInstance;
              if (inst.state !== 'queued' && inst.state !== 'running') {
                expect(inst.holds).toEqual([]);
                continue;
              }
              for (const h of inst.holds)
                held.set(
                  counterKeyString(h.counter),
                  (held.get(counterKeyString(h.counter)) ?? 0) + h.amount,
                );
            }
            for (const [key, value] of store.counterSnapshot()) {
              expect(value).toBe(held.get(key) ?? 0);
              expect(value).toBeLessThanOrEqual(LIMITS[key]!);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
