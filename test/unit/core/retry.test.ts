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

  it('gives a cleared task its full budget again, but never retries a task without retries', () => {
    // Cleared after try 3 with retries = 2: maxTries = 3 + 2, so tries 4 and 5 may still retry.
    expect(isEligibleToRetry({ tryNumber: 5, maxTries: 5, retries: 2 })).toBe(true);
    expect(isEligibleToRetry({ tryNumber: 6, maxTries: 5, retries: 2 })).toBe(false);
    expect(isEligibleToRetry({ tryNumber: 4, maxTries: 3, retries: 0 })).toBe(false);
    expect(isEligibleToRetry({ tryNumber: 3, maxTries: 3, retries: 0 })).toBe(false);
  });

  it('hashes the logical date the way Python prints it', () => {
    expect(pythonUtcString(T)).toBe('2016-01-01 00:00:00+00:00');
    expect(pythonUtcString(T + 123)).toBe('2016-01-01 00:00:00.123000+00:00');
    expect(pythonUtcString(Date.parse('2026-12-31T23:59:59.007Z'))).toBe('2026-12-31 23:59:59.007000+00:00');
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

  it('uses a plain retryDelay as is, even beyond 24 h (the caps belong to the backoff, as in Airflow)', () => {
    const task = {
      retryDelayMs: 2 * 86_400_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      taskId: 't',
    };
    expect(nextRetryAt({ task, dagId: 'd', logicalDate: T, tryNumber: 1, endedAt: T })).toBe(
      T + 2 * 86_400_000,
    );
  });

  it('counts the delay from the end of the try', () => {
    const end = T + 7_777;
    const at = nextRetryAt({
      task: {
        retryDelayMs: 30_000,
        retryExponentialBackoff: true,
        maxRetryDelayMs: 3_600_000,
        taskId: 'task_with_exp_backoff_and_max_delay',
      },
      dagId: 'fail_dag',
      logicalDate: T,
      tryNumber: 1,
      endedAt: end,
    });
    expect(at).toBe(end + 53_000);
  });

  it('hashes the logical date, so another run of the same task gets another jitter', () => {
    const other = nextRetryAt({
      task: {
        retryDelayMs: 30_000,
        retryExponentialBackoff: true,
        maxRetryDelayMs: 3_600_000,
        taskId: 'task_with_exp_backoff_and_max_delay',
      },
      dagId: 'fail_dag',
      logicalDate: T + 86_400_000,
      tryNumber: 1,
      endedAt: T,
    });
    expect(other - T).toBeGreaterThanOrEqual(30_000);
    expect(other - T).toBeLessThan(60_000);
    expect(other - T).not.toBe(53_000);
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
    expect(delaySeconds(13, { retryDelayMs: 30_000, maxRetryDelayMs: null })).toBe(86_400);
    // Below 24 h nothing caps it: try 9 without maxRetryDelay lies in [7680, 15360) s.
    expect(delaySeconds(9, { retryDelayMs: 30_000, maxRetryDelayMs: null })).toBe(11_564);
  });

  it('caps a try number so large that 2^try overflows at 24 h', () => {
    expect(delaySeconds(5_000, { retryDelayMs: 30_000, maxRetryDelayMs: null })).toBe(86_400);
    expect(delaySeconds(5_000, { retryDelayMs: 30_000, maxRetryDelayMs: 3_600_000 })).toBe(3600);
  });

  it('treats a zero maxRetryDelay as no cap (Python truthiness)', () => {
    expect(delaySeconds(1, { retryDelayMs: 0, maxRetryDelayMs: 0 })).toBe(1);
  });

  it.each([0, 500, 1000])('waits exactly 1 s with backoff and a %i ms delay', (retryDelayMs) => {
    expect(delaySeconds(1, { retryDelayMs, maxRetryDelayMs: null })).toBe(1);
  });
});
