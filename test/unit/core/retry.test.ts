import { describe, expect, it } from 'vitest';
import { isEligibleToRetry, nextRetryAt, pythonUtcString } from '#core/retry.ts';

const T = Date.parse('2016-01-01T00:00:00Z');

function delaySeconds(tryNumber: number, task: { retryDelayMs: number; maxRetryDelayMs: number | null }) {
  const at = nextRetryAt({
    task: { ...task, retryExponentialBackoff: true, taskId: 'task_with_exp_backoff_and_max_delay' },
    dagId: 'fail_dag',
    logicalDate: T,
    tryNumber,
    endedAt: T,
  });
  return (at - T) / 1000;
}

describe('retries', () => {
  it('allows at most retries + 1 tries', () => {
    expect(isEligibleToRetry({ tryNumber: 1, maxTries: 2, retries: 2 })).toBe(true);
    expect(isEligibleToRetry({ tryNumber: 2, maxTries: 2, retries: 2 })).toBe(true);
    expect(isEligibleToRetry({ tryNumber: 3, maxTries: 2, retries: 2 })).toBe(false);
    expect(isEligibleToRetry({ tryNumber: 1, maxTries: 0, retries: 0 })).toBe(false);
  });

  it('hashes the logical date the way Python prints it', () => {
    expect(pythonUtcString(T)).toBe('2016-01-01 00:00:00+00:00');
    expect(pythonUtcString(T + 123)).toBe('2016-01-01 00:00:00.123000+00:00');
  });

  it('waits retryDelay without backoff', () => {
    const task = {
      retryDelayMs: 300_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      taskId: 't',
    };
    expect(nextRetryAt({ task, dagId: 'd', logicalDate: T, tryNumber: 3, endedAt: T })).toBe(T + 300_000);
  });

  it("gives Airflow's exact backoff for fail_dag (30 s delay, 1 h cap): 53, 73, 194, 331, 518 … 3600 s", () => {
    const task = { retryDelayMs: 30_000, maxRetryDelayMs: 3_600_000 };
    expect([1, 2, 3, 4, 5, 9].map((n) => delaySeconds(n, task))).toEqual([53, 73, 194, 331, 518, 3600]);
  });

  it.each([
    { tryNumber: 0, min: 15, max: 30 },
    { tryNumber: 3, min: 120, max: 240 },
    { tryNumber: 5, min: 480, max: 960 },
  ])('keeps backoff for try $tryNumber within [$min, $max) seconds', ({ tryNumber, min, max }) => {
    const s = delaySeconds(tryNumber, { retryDelayMs: 30_000, maxRetryDelayMs: 3_600_000 });
    expect(s).toBeGreaterThanOrEqual(min);
    expect(s).toBeLessThan(max);
  });

  it('caps backoff at maxRetryDelay, and at 24 h without one', () => {
    expect(delaySeconds(50, { retryDelayMs: 30_000, maxRetryDelayMs: 3_600_000 })).toBe(3600);
    expect(delaySeconds(50, { retryDelayMs: 30_000, maxRetryDelayMs: null })).toBe(86_400);
  });

  it.each([0, 500, 1000])('waits exactly 1 s with backoff and a %i ms delay', (retryDelayMs) => {
    expect(delaySeconds(1, { retryDelayMs, maxRetryDelayMs: null })).toBe(1);
  });
});
