/**
 * The local stack's model of what AWS would bill for an invocation: its requests at a modelled
 * latency instead of the emulators', side-by-side requests counted once.
 */
import { describe, expect, it } from 'vitest';
import { modeledDuration, type TimedRequest } from '../../../cli/dev/stack.ts';

const req = (start: number, end: number, command = 'GetItemCommand'): TimedRequest => ({
  service: 'dynamodb',
  command,
  size: 1,
  start,
  end,
});

describe('modeledDuration', () => {
  it('keeps the busy time when there is no model or no request', () => {
    expect(modeledDuration(50, [req(0, 20)])).toEqual({ ioMs: 20, ms: 50 });
    expect(modeledDuration(50, [], () => 5)).toEqual({ ioMs: 0, ms: 50 });
  });

  it('replaces sequential requests by their modelled latency and keeps the rest', () => {
    // 100 ms busy: two 30 ms requests one after the other, 40 ms of computing.
    const { ioMs, ms } = modeledDuration(100, [req(0, 30), req(30, 60)], () => 6);
    expect(ioMs).toBe(60);
    expect(ms).toBeCloseTo(40 + 12);
  });

  it('counts requests in flight together once', () => {
    // Three 20 ms reads side by side, then one 20 ms write: 40 ms waiting, not 80.
    const requests = [req(0, 20), req(0, 20), req(0, 20), req(20, 40, 'TransactWriteItemsCommand')];
    const { ioMs, ms } = modeledDuration(45, requests, (r) => (r.command === 'GetItemCommand' ? 5 : 15));
    expect(ioMs).toBe(40);
    // I/O scaled by Σ modelled / Σ local = 30 / 80: 40 × 0.375 = 15, plus 5 ms of computing.
    expect(ms).toBeCloseTo(20);
  });

  it('merges overlapping intervals that end in any order', () => {
    const { ioMs } = modeledDuration(100, [req(10, 50), req(20, 30), req(45, 70), req(80, 90)]);
    expect(ioMs).toBe(70);
  });
});
