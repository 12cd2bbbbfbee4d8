/**
 * The invariants under real races on DynamoDB Local (test/support/store-race.ts): eight schedulers,
 * each its own loop and client, claim through the real claim pass over pools of 3, 5 and 8 slots
 * (weighted), DAGs at maxActiveTasks 6 and tasks at maxActiveTisPerDag / maxActiveTisPerDagrun 2,
 * while eight workers start, heartbeat, succeed, fail and retry at random and every dispatch is
 * delivered twice. An observer outside the counters checks that no limit was exceeded at any
 * instant, that every try started once, and, at rest, that every counter is 0 and the reconciler
 * (which also ran with repair in every sweep) never found drift. The same race with the counters'
 * room conditions stripped must show violations, so these tests can fail.
 *
 * In the race with injected faults, the workers share two stores, so their try ends are also
 * committed in groups (the store's group commit of try ends).
 *
 * The sizes keep `npm test` near two minutes on a loaded 2-core machine; `npm run bench --
 * dynamodb-race` runs the same race with 5,000 and with 100,000 claims (bench/README.md).
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';
import type { CounterKey } from '#core/model.ts';
import { run as runFactory, ti as tiFactory } from '../support/factories.ts';
import { type RaceReport, runRace } from '../support/store-race.ts';

const endpoint = inject('ddbEndpoint');
/** Generous for a loaded CI machine; the race gives up (and fails with what is unfinished) well before. */
const TIMEOUT_MS = 300_000;
const DEADLINE_MS = 240_000;

function client() {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

function expectSound(report: RaceReport) {
  expect(report.violations).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(report.drift).toEqual([]);
  expect(report.countersAtRest).toEqual([]);
  // The race was a race: failures were retried, duplicates dropped, and the limits were reached.
  expect(report.failedTries).toBeGreaterThan(0);
  expect(report.tries).toBeGreaterThan(report.instances);
  expect(report.duplicateDeliveries).toBeGreaterThan(0);
  expect(report.sweeps).toBeGreaterThan(0);
}

describe('concurrent schedulers and workers on DynamoDB Local', () => {
  it(
    'never exceed a limit, run every try once, and leave every counter at zero',
    async () => {
      const report = await runRace({
        endpoint,
        instances: 390,
        schedulers: 8,
        workers: 8,
        seed: 1,
        deadlineMs: DEADLINE_MS,
      });
      expectSound(report);
      // A dispatch the sweep found stuck (a loaded machine) is claimed again in the same try.
      expect(report.claims).toBeGreaterThanOrEqual(report.tries);
      // Due retries were claimed straight from up_for_retry too (scheduled in the claim's write).
      expect(report.scheduleClaims).toBeGreaterThan(0);
      // Every kind of limit was pushed to (or, as the observer sees intervals shorter than the truth and a
      // loaded machine spreads the race out, within one of) its ceiling, so each could have been exceeded.
      expect(report.peaks.maxActiveTasks).toBeGreaterThanOrEqual(6 - 1);
      expect(report.peaks.maxActiveTisPerDag).toBeGreaterThanOrEqual(2 - 1);
      expect(report.peaks.maxActiveTisPerDagrun).toBeGreaterThanOrEqual(2 - 1);
      expect(report.peaks.pool).toBeGreaterThanOrEqual(8 - 1);
    },
    TIMEOUT_MS,
  );

  it(
    'keep those invariants through injected conflicts, throttling, time-outs after commit and dead workers, with sharded counters',
    async () => {
      const report = await runRace({
        endpoint,
        instances: 130,
        schedulers: 8,
        workers: 8,
        seed: 2,
        deadlineMs: DEADLINE_MS,
        faults: { conflict: 0.1, throttle: 0.01, timeoutAfterCommit: 0.08 },
        crash: 0.01,
        // Hot counters in 3 shards: pools of 3, 5, 8 slots split 1+1+1, 2+2+1, 3+3+2; 2-slot tasks spread.
        store: { counterShards: 3 },
        // Two stores of four workers each, as one Lambda runs an SQS batch: their try ends coincide
        // and are committed in groups (try-ends.ts), under the same faults.
        workersPerStore: 4,
      });
      expectSound(report);
      expect(report.workerEnds.ends).toBeGreaterThan(report.workerEnds.transactions);
      const { conflict, throttle, timeoutAfterCommit } = report.injected;
      // How many depends on the interleaving (how many requests the race needed): each kind happened.
      expect(conflict).toBeGreaterThan(0);
      expect(throttle).toBeGreaterThan(0);
      expect(timeoutAfterCommit).toBeGreaterThan(0);
      expect(conflict + throttle + timeoutAfterCommit).toBeGreaterThan(20);
    },
    TIMEOUT_MS,
  );

  it(
    'would see limits exceeded if a claim raised its counters without their room conditions',
    async () => {
      const report = await runRace({
        endpoint,
        instances: 130,
        schedulers: 8,
        workers: 8,
        seed: 3,
        deadlineMs: DEADLINE_MS,
        sabotage: true,
      });
      expect(report.violations.length).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it('gives a 3-slot pool to exactly 3 of 24 instances when 8 clients claim different ones at once', async () => {
    // Claim selection is deterministic, so racing schedulers usually pick the same instances and the
    // instances' own conditions settle it. Here each client claims different instances: only the
    // pool counter's condition stands between them and an over-full pool.
    const raceTable = `race_claim_${process.pid}_${Date.now()}`;
    const c = client();
    await c.send(new CreateTableCommand(createTableInput(raceTable)));
    try {
      const store = new DynamoDbStateStore(c, raceTable);
      const run = { ...runFactory(), dagId: 'flat', runId: 'manual__race' };
      const tis = Array.from({ length: 24 }, (_, i) =>
        tiFactory({
          dagId: 'flat',
          runId: run.runId,
          taskId: `t${String(i).padStart(2, '0')}`,
          pool: 'narrow',
        }),
      );
      await store.createRun(run, tis);
      const pool: CounterKey = { kind: 'pool', pool: 'narrow' };
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, racer) => {
          const mine = tis.slice(racer * 3, racer * 3 + 3);
          return new DynamoDbStateStore(client(), raceTable).claim(
            mine.map((ti) => ({
              key: ti,
              tryNumber: ti.tryNumber,
              queuedAt: Date.now(),
              holds: [{ counter: pool, amount: 1, limit: 3 }],
            })),
          );
        }),
      );
      const claimed = results.flatMap((r) => r.claimed);
      expect(claimed).toHaveLength(3);
      expect(results.flatMap((r) => r.lost).every((l) => l.reason === 'limit_reached')).toBe(true);
      expect((await store.readCounters([pool]))[0]?.used).toBe(3);
    } finally {
      await c.send(new DeleteTableCommand({ TableName: raceTable }));
      c.destroy();
    }
  });
});
