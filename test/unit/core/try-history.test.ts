import { describe, expect, it } from 'vitest';
import { MAX_TRY_HISTORY, recordTry, TRY_ERROR_CHARS } from '#core/try-history.ts';
import { ti } from '../../support/factories.ts';

const running = (tryNumber: number, startedAt: number) =>
  ti({ state: 'running', tryNumber, startedAt, workerId: `w${tryNumber}` });

describe('recordTry', () => {
  it('adds the ended try: how it ended, when, where and its error', () => {
    const before = running(1, 100);
    const after = { ...before, state: 'failed' as const, endedAt: 250, error: 'boom' };
    expect(recordTry([], before, after)).toEqual([
      { tryNumber: 1, state: 'failed', startedAt: 100, endedAt: 250, workerId: 'w1', error: 'boom' },
    ]);
  });

  it('leaves out a dispatch sent back to scheduled before it started', () => {
    const before = ti({ state: 'queued', tryNumber: 1 });
    expect(recordTry([], before, { ...before, state: 'scheduled' })).toEqual([]);
    expect(recordTry([], before, { ...before, state: 'failed', error: 'stuck in queued' })).toHaveLength(1);
  });

  it("merges a sensor's pokes into one entry from the first start", () => {
    const first = recordTry([], running(1, 100), {
      ...running(1, 100),
      state: 'up_for_reschedule',
      endedAt: 150,
    });
    const second = recordTry(first, running(1, 300), { ...running(1, 300), state: 'success', endedAt: 350 });
    expect(second).toEqual([
      { tryNumber: 1, state: 'success', startedAt: 100, endedAt: 350, workerId: 'w1', error: null },
    ]);
  });

  it(`keeps the newest ${MAX_TRY_HISTORY} and cuts errors to ${TRY_ERROR_CHARS} characters`, () => {
    let history = recordTry([], running(1, 0), {
      ...running(1, 0),
      state: 'up_for_retry',
      error: 'e'.repeat(999),
    });
    for (let n = 2; n <= MAX_TRY_HISTORY + 3; n += 1)
      history = recordTry(history, running(n, n), { ...running(n, n), state: 'up_for_retry' });
    expect(history).toHaveLength(MAX_TRY_HISTORY);
    expect(history[0]!.tryNumber).toBe(4);
    const cut = recordTry([], running(1, 0), {
      ...running(1, 0),
      state: 'failed',
      error: 'e'.repeat(999),
    })[0]!;
    expect(cut.error).toHaveLength(TRY_ERROR_CHARS);
    expect(cut.error!.endsWith('…')).toBe(true);
  });
});
