import { describe, expect, it } from 'vitest';
import { fitToRoom, type RoomClaim, tightCounters } from '#core/claim-room.ts';
import type { CounterKey } from '#core/model.ts';

const POOL: CounterKey = { kind: 'pool', pool: 'p' };
const GLOBAL: CounterKey = { kind: 'global' };
const DAG: CounterKey = { kind: 'dag', dagId: 'd' };

/** A claim of `slots` pool slots (limit 64), one parallelism slot (limit 1024) and one unlimited DAG slot. */
const claimOf = (name: string, slots = 1) => ({
  name,
  holds: [
    { counter: POOL, amount: slots, limit: 64 },
    { counter: GLOBAL, amount: 1, limit: 1024 },
    { counter: DAG, amount: 1, limit: -1 },
  ],
});

const usedBy = (values: Record<string, number>) => (counter: CounterKey) => values[counter.kind] ?? 0;

describe('tightCounters', () => {
  it.each([
    { case: 'the claims fill the pool', pool: 56, claims: 8, tight: [POOL] },
    { case: 'less room left after them than they take', pool: 50, claims: 8, tight: [POOL] },
    { case: 'as much room left after them as they take', pool: 48, claims: 8, tight: [] },
    { case: 'an empty pool', pool: 0, claims: 8, tight: [] },
  ])(
    'names the limited counters a concurrent claim as large would overflow ($case)',
    ({ pool, claims, tight }) => {
      // Prepare
      const requests: RoomClaim[] = Array.from({ length: claims }, (_, i) => claimOf(`c${i}`));
      // Act
      const out = tightCounters(requests, usedBy({ pool, global: 100 }));
      // Assess
      expect(out).toEqual(tight);
    },
  );

  it('never names an unlimited counter', () => {
    expect(tightCounters([claimOf('a')], usedBy({ pool: 0, global: 0, dag: 1e9 }))).toEqual([]);
  });
});

describe('fitToRoom', () => {
  it('keeps the claims that fit in claim order and leaves out the rest with the counter that is full', () => {
    // Prepare: another pass took 5 of the 8 slots this pass read as free
    const claims = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => claimOf(n));
    // Act
    const { kept, left } = fitToRoom(claims, [POOL], usedBy({ pool: 61 }));
    // Assess
    expect(kept.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(left.map((l) => [l.claim.name, l.counter, l.limit])).toEqual(
      ['d', 'e', 'f', 'g', 'h'].map((n) => [n, POOL, 64]),
    );
  });

  it('lets a smaller claim after one that does not fit take what is left', () => {
    // Prepare
    const claims = [claimOf('big', 4), claimOf('small', 2), claimOf('last', 1)];
    // Act
    const { kept, left } = fitToRoom(claims, [POOL], usedBy({ pool: 61 }));
    // Assess
    expect(kept.map((c) => c.name)).toEqual(['small', 'last']);
    expect(left.map((l) => l.claim.name)).toEqual(['big']);
  });

  it('checks only the counters read again, and keeps everything when they have room', () => {
    // Prepare
    const claims = ['a', 'b'].map((n) => claimOf(n));
    // Act: the parallelism counter reads over its limit but was not read again
    const { kept, left } = fitToRoom(claims, [POOL], usedBy({ pool: 10, global: 5000 }));
    // Assess
    expect(kept.map((c) => c.name)).toEqual(['a', 'b']);
    expect(left).toEqual([]);
  });
});
