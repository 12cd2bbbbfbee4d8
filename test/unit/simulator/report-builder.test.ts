import { describe, expect, it } from 'vitest';
import { peakOf } from '#simulator/report-builder.ts';

const T = Date.parse('2026-01-05T00:00:00Z');

describe('peakOf', () => {
  it.each([
    { case: 'whole milliseconds', at: (s: number) => T + s * 1000 },
    { case: 'fractional instants', at: (s: number) => T + s * 1000 + 0.5 },
  ])('counts releases before claims at one instant and names each claim over the limit ($case)', ({ at }) => {
    // Prepare: held intervals [0,10) ×2, [10,20) ×1, [5,10) ×1 (slots), out of order; limit 3.
    const deltas = {
      at: [at(10), at(0), at(20), at(10), at(5), at(10), at(0), at(10)],
      amount: [1, 2, -1, -1, 1, -1, 1, 0],
    };
    // Act
    const { peak, violations } = peakOf(deltas, () => 3);
    // Assess: 3 at 0, 4 at 5 (over the limit); at 10 the two releases come before the claim.
    expect(peak).toEqual({ peak: 4, limit: 3, at: new Date(at(5)).toISOString() });
    expect(violations).toEqual([at(5)]);
  });

  it('has no peak and no violation without deltas', () => {
    expect(peakOf({ at: [], amount: [] }, () => null)).toEqual({
      peak: { peak: 0, limit: null, at: null },
      violations: [],
    });
  });
});
