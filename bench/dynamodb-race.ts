/**
 * The concurrency proof at full size on DynamoDB Local (test/support/store-race.ts): eight
 * schedulers and eight workers race over small weighted pools and every DAG/task limit, with
 * duplicate deliveries and retries; the observer's verdict and the race's figures are printed.
 * `RACE_INSTANCES` sets the size (default 5,000; the large run is 100,000 claims),
 * `RACE_FAULTS=1` injects conflicts, throttling, time-outs after commit and dead workers,
 * `RACE_SHARDS` sets counterShards, `RACE_WORKERS` the simulated workers (default 8); `RACE_WINDOW_MS` (default 25), `RACE_IDLE_MS` (default
 * 3000) and `RACE_SWEEP_MS` (default 60,000) pace the schedulers and the sweep (RaceConfig.pacing;
 * `RACE_WINDOW_MS=0` paces them as `npm test` does); `RACE_LIVE_RUNS` (default 400, 0 = all up
 * front) keeps about that many runs unfinished at once, creating the rest as earlier ones end.
 */

import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts';
import { runRace } from '../test/support/store-race.ts';

async function benchDynamoDbRace(): Promise<Record<string, string | number>> {
  const instances = Number(process.env.RACE_INSTANCES ?? 5_000);
  const faults = process.env.RACE_FAULTS === '1';
  const shards = Number(process.env.RACE_SHARDS ?? 1);
  const windowMs = Number(process.env.RACE_WINDOW_MS ?? 25);
  const idleMs = Number(process.env.RACE_IDLE_MS ?? 3000);
  // One sweep a minute, as the stack's rate schedule runs it: each sweep walks every listed run.
  const sweepMs = Number(process.env.RACE_SWEEP_MS ?? 60_000);
  // About this many runs unfinished at once (a backfill under maxActiveRuns): the rest are created
  // as earlier ones end. 0 = every run up front (as npm test).
  const liveRuns = Number(process.env.RACE_LIVE_RUNS ?? 400);
  const ddb = await startDynamoDbLocal({ inMemory: true });
  try {
    const report = await runRace({
      endpoint: ddb.endpoint,
      instances,
      schedulers: 8,
      workers: Number(process.env.RACE_WORKERS ?? 8),
      seed: 42,
      deadlineMs: 6 * 3600_000,
      ...(liveRuns > 0 && { liveRuns }),
      store: { counterShards: shards },
      ...(windowMs > 0 && { pacing: { windowMs, idleMs, sweepMs } }),
      onProgress: ({ claims, finals, total, seconds }) => {
        const left = total - finals;
        const eta = finals > 0 ? (left * seconds) / finals / 60 : Number.NaN;
        console.error(
          `race: ${Math.round(seconds / 60)} min, ${claims} claims (${(claims / seconds).toFixed(1)}/s), ` +
            `${finals} of ${total} instances final, ≈ ${Number.isFinite(eta) ? Math.round(eta) : '?'} min left`,
        );
      },
      ...(faults && { faults: { conflict: 0.1, throttle: 0.01, timeoutAfterCommit: 0.05 }, crash: 0.01 }),
    });
    return {
      'task instances': report.instances,
      'claims (tries claimed)': report.claims,
      'of which scheduled in the claim (due retries)': report.scheduleClaims,
      tries: report.tries,
      'failed tries (retried or failed)': report.failedTries,
      'duplicate deliveries dropped': report.duplicateDeliveries,
      'dead workers': report.crashes,
      'counter shards': shards,
      workers: Number(process.env.RACE_WORKERS ?? 8),
      pacing:
        windowMs > 0
          ? `window ${windowMs} ms, idle ${idleMs} ms, sweep every ${sweepMs} ms`
          : 'as in npm test',
      sweeps: report.sweeps,
      'runs unfinished at once (about)': liveRuns > 0 ? liveRuns : 'all',
      'requests (all racers)': report.requests,
      'requests per try': (report.requests / Math.max(1, report.tries)).toFixed(1),
      seconds: report.seconds.toFixed(0),
      'claims per second': (report.claims / report.seconds).toFixed(1),
      'limit violations seen by the observer': report.violations.length,
      'problems (double starts/ends, unfinished)': report.problems.length,
      'reconciler drift (during the race and at rest)': report.drift.length,
      'counters not 0 at rest': report.countersAtRest.length,
      'peak held: parallelism / pool / maxActiveTasks': `${report.peaks.parallelism} / ${report.peaks.pool} / ${report.peaks.maxActiveTasks}`,
      'injected conflicts / throttles / time-outs': `${report.injected.conflict} / ${report.injected.throttle} / ${report.injected.timeoutAfterCommit}`,
    };
  } finally {
    await ddb.stop();
  }
}

export { benchDynamoDbRace };
