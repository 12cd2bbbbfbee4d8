// > Hourly ETL with data intervals
// Each run processes exactly one hour: [dataIntervalStart, dataIntervalEnd). A run for 10:00–11:00
// is created at 11:00, so the hour's data is complete when it starts.
import { dag } from 'updraft/sdk';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default dag(
  'hourly_etl',
  {
    schedule: '@hourly',
    startDate: '2026-01-01',
    catchup: false,
    maxActiveRuns: 3,
    tags: ['etl', 'example'],
    params: { table: 'events' },
    defaultArgs: { retries: 2, retryDelay: '30s', pool: 'warehouse' },
    description: 'Extract one hour of events, transform them and load them into the warehouse',
  },
  (d) => {
    const extract = d.task('extract', async (ctx) => {
      ctx.log(
        `extracting ${ctx.params.table} for [${ctx.dataIntervalStart.toISOString()}, ${ctx.dataIntervalEnd.toISOString()})`,
      );
      await sleep(200);
      return { rows: 1200, from: ctx.dataIntervalStart.toISOString(), to: ctx.dataIntervalEnd.toISOString() };
    });
    const transform = d.task('transform', { priorityWeight: 2 }, async (ctx) => {
      const { rows } = ctx.upstream.extract as { rows: number };
      await sleep(200);
      return { rows, deduplicated: Math.floor(rows * 0.97) };
    });
    const load = d.shell('load', {
      command:
        'echo "loading {{ params.table }} partition {{ ds }} ({{ data_interval_start }} .. {{ data_interval_end }})"',
      poolSlots: 2,
    });
    extract.before(transform).before(load);
  },
);
// !!
