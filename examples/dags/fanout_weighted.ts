// > Fan-out of 50 weighted tasks into a small pool
// 50 partition loads share the 8-slot `warehouse` pool. Big partitions take 2 slots and go first
// (priority weights); the aggregate waits for all of them.
import { dag } from 'updraft/sdk';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default dag(
  'fanout_weighted',
  {
    schedule: '0 6 * * *',
    timezone: 'Europe/Paris',
    startDate: '2026-01-01',
    maxActiveTasks: 16,
    tags: ['fanout', 'example'],
    defaultArgs: { pool: 'warehouse', retries: 1, retryDelay: '1m' },
  },
  (d) => {
    const plan = d.empty('plan');
    const partitions = Array.from({ length: 50 }, (_, i) => {
      const big = i % 5 === 0;
      return d.task(
        `partition_${String(i).padStart(2, '0')}`,
        { poolSlots: big ? 2 : 1, priorityWeight: big ? 10 : 1, weightRule: 'absolute' },
        async (ctx) => {
          await sleep(big ? 120 : 60);
          ctx.log(`partition ${i} loaded`);
          return { partition: i, rows: big ? 10_000 : 1_000 };
        },
      );
    });
    const aggregate = d.task('aggregate', async (ctx) => {
      const total = Object.values(ctx.upstream).reduce(
        (sum: number, r) => sum + ((r as { rows: number }).rows ?? 0),
        0,
      );
      return { total };
    });
    d.chain(plan, partitions, aggregate);
  },
);
// !!
