/**
 * Simulates one day of 1,000 hourly DAGs × 10 tasks (a chain of 3 fanning out to 6 and into 1)
 * on the real services in virtual time. Target: under 10 s of wall time per simulated day.
 */
import { pathToFileURL } from 'node:url';
import { dag } from '#sdk/index.ts';
import { runSimulation } from '#simulator/engine.ts';
import type { Scenario } from '#simulator/scenario.ts';

function hourlyDag(i: number) {
  return dag(
    `hourly_${String(i).padStart(4, '0')}`,
    { schedule: '@hourly', startDate: '2026-01-01' },
    (d) => {
      const extract = d.task('extract', async () => null);
      const stage = d.task('stage', async () => null);
      const parts = Array.from({ length: 7 }, (_, p) =>
        d.task(`part_${p}`, { pool: `pool_${i % 10}` }, async () => null),
      );
      const publish = d.task('publish', async () => null);
      extract.before(stage).before(parts);
      for (const part of parts) part.before(publish);
    },
  );
}

async function benchSimulateDay(
  options: { dags?: number; hours?: number } = {},
): Promise<Record<string, string | number>> {
  const count = options.dags ?? 1_000;
  const dags = Array.from({ length: count }, (_, i) => hourlyDag(i));
  const scenario: Scenario = {
    seed: 7,
    start: '2026-01-05T00:00:00Z',
    end: new Date(Date.parse('2026-01-05T00:00:00Z') + (options.hours ?? 24) * 3_600_000).toISOString(),
    settings: { parallelism: 512 },
    pools: Array.from({ length: 10 }, (_, p) => ({ name: `pool_${p}`, slots: 64 })),
    tasks: { '*': { duration: '20s', jitter: 0.5 } },
  };
  const started = performance.now();
  const report = await runSimulation({ dags, scenario });
  const seconds = (performance.now() - started) / 1000;
  const tis = report.tries.length;
  return {
    'wall time per simulated day (s)': seconds.toFixed(2),
    'target (s)': 10,
    'runs completed': report.totals.runs.success,
    'task tries': tis,
    'µs of wall time per task try': ((seconds * 1e6) / Math.max(1, tis)).toFixed(0),
    'scheduler passes': report.totals.schedulerPasses,
    'limit violations': report.violations.length,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // node --import tsx bench/simulate-day.ts [dags] [hours]: a shorter day for profiling.
  const dags = Number(process.argv[2] ?? 1000);
  const hours = Number(process.argv[3] ?? 24);
  console.log(await benchSimulateDay({ dags, hours }));
}

export { benchSimulateDay };
