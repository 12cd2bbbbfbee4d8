/**
 * `npm run bench`: runs every benchmark in turn and prints its figures. Benchmarks never run in
 * `npm test`; their latest results are copied into bench/README.md by hand.
 * `npm run bench -- claim simulate` runs only the named ones.
 */
import { benchClaim } from './core-claim.ts';
import { benchCorePaths } from './core-paths.ts';
import { benchDynamoDbRace } from './dynamodb-race.ts';
import { benchDynamoDbStore } from './dynamodb-store.ts';
import { benchSimulateDay } from './simulate-day.ts';
import { benchHandoff, benchThroughput } from './stack.ts';

type Bench = () => Promise<Record<string, string | number>>;

const BENCHES: Record<string, { title: string; run: Bench }> = {
  claim: { title: 'core: claim selection, 1,000 of 100,000 scheduled task instances', run: benchClaim },
  core: {
    title: 'compile, evaluate, timetables and a memory-store drain at 1,000–20,000',
    run: benchCorePaths,
  },
  simulate: { title: 'core: simulate one day of 1,000 hourly DAGs × 10 tasks', run: benchSimulateDay },
  dynamodb: {
    title: 'store: the life of a task instance on DynamoDB Local (write units, reads, claim rate)',
    run: benchDynamoDbStore,
  },
  handoff: {
    title: 'stack: hand-off latency on a chain of 200 no-op tasks (upstream end → downstream start)',
    run: benchHandoff,
  },
  throughput: {
    title: 'stack: 2,000 no-op tasks in a 64-slot pool (rate, write units, requests, cost per 1M)',
    run: benchThroughput,
  },
  'dynamodb-race': {
    title: 'store: 8 schedulers and 8 workers racing on DynamoDB Local (RACE_INSTANCES, default 5,000)',
    run: benchDynamoDbRace,
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench) {
      console.error(`updraft bench: unknown benchmark ${name} (known: ${Object.keys(BENCHES).join(', ')})`);
      process.exitCode = 2;
      return;
    }
    console.log(`\n## ${name}: ${bench.title}`);
    const figures = await bench.run();
    for (const [key, value] of Object.entries(figures)) console.log(`  ${key.padEnd(36)} ${value}`);
  }
}

await main();
