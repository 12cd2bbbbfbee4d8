// > A flaky API with retries and exponential backoff
// The first two tries fail; retries back off exponentially (with Airflow's deterministic jitter)
// and never wait longer than maxRetryDelay.
import { dag } from 'updraft/sdk';

export default dag(
  'flaky_retries',
  { schedule: '*/30 * * * *', startDate: '2026-01-01', tags: ['retries', 'example'] },
  (d) => {
    const fetchRates = d.task(
      'fetch_rates',
      {
        retries: 4,
        retryDelay: '10s',
        retryExponentialBackoff: true,
        maxRetryDelay: '2m',
        executionTimeout: '30s',
      },
      async (ctx) => {
        if (ctx.tryNumber < 3) throw new Error(`rates API answered 503 (try ${ctx.tryNumber})`);
        return { eurUsd: 1.08, at: ctx.ts };
      },
    );
    const store = d.task('store_rates', async (ctx) => ({ stored: ctx.upstream.fetch_rates }));
    fetchRates.before(store);
  },
);
// !!
