// > A sensor waiting for an upstream export
// The sensor pokes every 30 s in reschedule mode: between pokes it holds no slot, so a long wait
// never blocks other work. It gives up after 2 hours.
import { dag } from 'updraft/sdk';

const readyAfterPokes = new Map<string, number>();

export default dag(
  'sensor_wait',
  { schedule: '@daily', startDate: '2026-01-01', tags: ['sensor', 'example'] },
  (d) => {
    const waitForExport = d.sensor('wait_for_export', {
      pokeInterval: '30s',
      timeout: '2h',
      poke: (ctx) => {
        // Stands in for "does s3://exports/{ds}/_SUCCESS exist?": ready on the third poke.
        const pokes = (readyAfterPokes.get(ctx.runId) ?? 0) + 1;
        readyAfterPokes.set(ctx.runId, pokes);
        ctx.log(`poke ${pokes}: export for ${ctx.ds} ${pokes >= 3 ? 'is ready' : 'not there yet'}`);
        return pokes >= 3;
      },
    });
    const ingest = d.shell('ingest', { command: 'echo "ingesting export {{ ds }}"' });
    waitForExport.before(ingest);
  },
);
// !!
