import { describe, expect, it } from 'vitest';
import type { CounterKey } from '#core/model.ts';
import { findDrift } from '#core/reconcile.ts';

const pool: CounterKey = { kind: 'pool', pool: 'p' };
const global: CounterKey = { kind: 'global' };

describe('findDrift', () => {
  it('finds nothing when the counters equal the holds', () => {
    const holders = [
      {
        holds: [
          { counter: pool, amount: 2 },
          { counter: global, amount: 1 },
        ],
      },
      {
        holds: [
          { counter: pool, amount: 1 },
          { counter: global, amount: 1 },
        ],
      },
    ];
    expect(
      findDrift(
        [
          { key: pool, used: 3 },
          { key: global, used: 2 },
        ],
        holders,
      ),
    ).toEqual([]);
  });

  it('reports a leaked slot (counter above the holds) and a lost raise (holds above the counter)', () => {
    const holders = [{ holds: [{ counter: pool, amount: 2 }] }, { holds: [{ counter: global, amount: 1 }] }];
    expect(findDrift([{ key: pool, used: 5 }], holders)).toEqual([
      { counter: global, used: 0, held: 1 },
      { counter: pool, used: 5, held: 2 },
    ]);
  });
});
