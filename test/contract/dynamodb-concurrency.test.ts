/**
 * The invariants under real races: four schedulers, each with its own loop and client, claim on
 * DynamoDB Local while four workers start, fail, retry and finish tries, and every dispatch
 * message is delivered twice. An observer outside the counters checks, from when each try was
 * claimed and ended, that no limit was ever exceeded; that every try started once; and that every
 * counter is back to zero at rest.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';
import { compileDag } from '#core/compile.ts';
import type { CounterKey } from '#core/model.ts';
import { DEFAULT_SETTINGS } from '#core/model.ts';
import { isRunFinished } from '#core/states.ts';
import type { DispatchMessage } from '#ports';
import { dag } from '#sdk/index.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { reconcileCounters } from '#services/reconcile.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { run as runFactory, ti as tiFactory } from '../support/factories.ts';
import { FaultyDynamoDbClient } from '../support/faulty-dynamodb.ts';

const SCHEDULERS = 4;
const WORKERS = 4;
const RUNS = 6;
const PARALLELISM = 6;
const POOLS = { narrow: 3, wide: 5 };
const MAX_ACTIVE_TASKS = 5;
/** A race takes about 20 s on an idle machine and about a minute on a loaded 2-core one (CI, other suites). */
const RACE_TIMEOUT_MS = 180_000;
const table = `race_${process.pid}_${Date.now()}`;
const endpoint = inject('ddbEndpoint');

function client() {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

const manifest = compileDag(
  dag('race', { maxActiveTasks: MAX_ACTIVE_TASKS, maxActiveRuns: RUNS }, (d) => {
    for (let i = 0; i < 12; i += 1) {
      d.task(
        `t${i}`,
        {
          pool: i % 2 === 0 ? 'narrow' : 'wide',
          poolSlots: i % 3 === 0 ? 2 : 1,
          priorityWeight: i,
          retries: 1,
          retryDelay: 0,
          ...(i === 5 ? { maxActiveTisPerDag: 1 } : {}),
        },
        async () => null,
      );
    }
  }),
);

/**
 * A logical clock for the observer: claims are stamped after their transaction committed and
 * releases before theirs starts, so a held interval can only be shorter than the truth — an overlap
 * the observer sees really happened.
 */
let seq = 0;
const claimedAt = new Map<string, number>();
/** Every drift the reconciler found while the race ran (it runs in every sweep, with repair). */
const driftSeen: unknown[] = [];

class ObservedStore extends DynamoDbStateStore {
  constructor(client: DynamoDBClient, table: string) {
    // DynamoDB Local's indexes do not lag, so the reconciler may judge any counter that holds still.
    super(client, table, { reconcileSettleMs: 0 });
  }

  override async reconcileCounters(opts: { repair: boolean }) {
    const report = await super.reconcileCounters(opts);
    driftSeen.push(...report.drift, ...report.repaired);
    return report;
  }

  override async claim(requests: Parameters<DynamoDbStateStore['claim']>[0]) {
    const result = await super.claim(requests);
    const stamp = ++seq;
    const tries = new Map(requests.map((r) => [`${r.key.runId}/${r.key.taskId}`, r.tryNumber]));
    for (const key of result.claimed)
      claimedAt.set(`${key.runId}/${key.taskId}#${tries.get(`${key.runId}/${key.taskId}`)}`, stamp);
    return result;
  }
}

function depsFor(store: DynamoDbStateStore, queue: DispatchMessage[], faulty = false): ServiceDeps {
  // With faults, lost dispatches and dead tries are recovered by the sweep: short timeouts keep the test quick.
  const timeouts = faulty
    ? { taskQueuedTimeoutMs: 1_500, heartbeatTimeoutMs: 1_500, numStuckInQueuedRetries: 10 }
    : {};
  return {
    store,
    settings: { ...DEFAULT_SETTINGS, parallelism: PARALLELISM, maxTisPerQuery: 10, ...timeouts },
    logger: silentLogger,
    manifests: new ManifestCache(store),
    // Every message is delivered twice: consumers must be idempotent.
    dispatcher: { dispatch: async (messages) => void queue.push(...messages, ...messages) },
    events: { publish: async () => {} },
    schedules: { setNextWakeUp: async () => {} },
  };
}

interface Held {
  id: string;
  pool: string;
  poolSlots: number;
  taskId: string;
  from: number;
  to: number;
}

beforeAll(async () => {
  const c = client();
  await c.send(new CreateTableCommand(createTableInput(table)));
  c.destroy();
});

afterAll(async () => {
  const c = client();
  await c.send(new DeleteTableCommand({ TableName: table }));
  c.destroy();
});

async function race(opts: { table: string; client: (seed: number) => DynamoDBClient; faulty: boolean }) {
  const queue: DispatchMessage[] = [];
  const setup = depsFor(new DynamoDbStateStore(opts.client(0), opts.table), queue);
  for (const [name, slots] of Object.entries(POOLS)) {
    await setup.store.putPool({ name, slots, description: '', includeDeferred: false });
  }
  const { dag: record } = await registerDag(setup, manifest, { now: Date.now(), fileloc: null });
  await setup.store.updateDag('race', record.updatedAt, { paused: false, nextRun: null }, Date.now());
  const runs: { runId: string }[] = [];
  for (let i = 0; i < RUNS; i += 1)
    runs.push(await triggerRun(setup, { dagId: 'race', now: Date.now() + i, runId: `manual__${i}` }));

  claimedAt.clear();
  driftSeen.length = 0;
  const held: Held[] = [];
  const starts = new Map<string, number>();
  let done = false;
  const deadline = Date.now() + 60_000;
  const allFinished = async () =>
    (await Promise.all(runs.map((r) => setup.store.getRun('race', r.runId)))).every(
      (r) => r && isRunFinished(r.state),
    );

  const schedulers = Array.from({ length: SCHEDULERS }, async (_, s) => {
    const deps = depsFor(new ObservedStore(opts.client(s + 1), opts.table), queue, opts.faulty);
    while (!done && Date.now() < deadline) {
      // A pass that fails (throttled, timed out) is simply followed by the next one, as Lambda would retry.
      await schedulerPass(deps, { now: Date.now(), dagIds: [], sweep: opts.faulty }).catch(() => {});
      if (await allFinished().catch(() => false)) done = true;
    }
  });
  let failures = 0;
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    const deps = depsFor(new DynamoDbStateStore(opts.client(100 + w), opts.table), queue, opts.faulty);
    while (!done && Date.now() < deadline) {
      const message = queue.shift();
      if (!message) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const begun = await beginTry(deps, message, { now: Date.now(), workerId: `w${w}` }).catch(() => null);
      if (begun?.kind !== 'started') continue;
      const { ti } = begun.started;
      const id = `${ti.runId}/${ti.taskId}#${ti.tryNumber}`;
      starts.set(id, (starts.get(id) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      const fail = Math.random() < 0.25;
      if (fail) failures += 1;
      const releaseStamp = ++seq;
      const outcome = fail ? { state: 'failed' as const, error: 'chaos' } : { state: 'success' as const };
      const { ended } = await finishTry(deps, begun.started, outcome, Date.now()).catch(() => ({
        ended: false,
      }));
      const from = claimedAt.get(id);
      if (ended && from !== undefined) {
        held.push({
          id,
          pool: ti.pool,
          poolSlots: ti.poolSlots,
          taskId: ti.taskId,
          from,
          to: releaseStamp,
        });
      }
    }
  });
  await Promise.all([...schedulers, ...workers]);

  // Every run finished, every try started exactly once.
  expect(done).toBe(true);
  expect([...starts.values()].every((n) => n === 1)).toBe(true);
  expect(failures).toBeGreaterThan(0);
  if (!opts.faulty) expect(held.length).toBe(starts.size);
  // No limit exceeded at any instant, judged from the held intervals alone.
  const peak = (filter: (h: Held) => boolean, weight: (h: Held) => number) => {
    const events = held.filter(filter).flatMap((h) => [
      { at: h.from, d: weight(h) },
      { at: h.to, d: -weight(h) },
    ]);
    events.sort((a, b) => a.at - b.at || a.d - b.d);
    let value = 0;
    let max = 0;
    for (const e of events) {
      value += e.d;
      max = Math.max(max, value);
    }
    return max;
  };
  expect(
    peak(
      () => true,
      () => 1,
    ),
  ).toBeLessThanOrEqual(PARALLELISM);
  expect(
    peak(
      (h) => h.pool === 'narrow',
      (h) => h.poolSlots,
    ),
  ).toBeLessThanOrEqual(POOLS.narrow);
  expect(
    peak(
      (h) => h.pool === 'wide',
      (h) => h.poolSlots,
    ),
  ).toBeLessThanOrEqual(POOLS.wide);
  expect(
    peak(
      () => true,
      () => 1,
    ),
  ).toBeLessThanOrEqual(MAX_ACTIVE_TASKS);
  expect(
    peak(
      (h) => h.taskId === 't5',
      () => 1,
    ),
  ).toBeLessThanOrEqual(1);
  // At rest every counter is zero.
  const counters: CounterKey[] = [
    { kind: 'global' },
    { kind: 'pool', pool: 'narrow' },
    { kind: 'pool', pool: 'wide' },
    { kind: 'dag', dagId: 'race' },
    { kind: 'task', dagId: 'race', taskId: 't5' },
  ];
  expect((await setup.store.readCounters(counters)).map((c) => c.used)).toEqual([0, 0, 0, 0, 0]);
  expect((await setup.store.listHoldingTis()).items).toEqual([]);
  // The reconciler, run in every sweep during the race and once more at rest, never found drift.
  expect(driftSeen).toEqual([]);
  const atRest = depsFor(new ObservedStore(opts.client(0), opts.table), queue);
  expect(await reconcileCounters(atRest)).toEqual({ drift: [], repaired: [], unsettled: 0 });
}

describe('concurrent schedulers and workers on DynamoDB Local', () => {
  it(
    'never exceed a limit, run every try once, and leave every counter at zero',
    async () => {
      await race({ table, client: () => client(), faulty: false });
    },
    RACE_TIMEOUT_MS,
  );

  it(
    'keep those invariants through injected conflicts, throttling and time-outs after commit',
    async () => {
      const faultTable = `${table}_faults`;
      const c = client();
      await c.send(new CreateTableCommand(createTableInput(faultTable)));
      const clients: FaultyDynamoDbClient[] = [];
      try {
        await race({
          table: faultTable,
          faulty: true,
          client: (seed) => {
            if (seed === 0) return client();
            const faulty = new FaultyDynamoDbClient(
              {
                endpoint,
                region: 'us-east-1',
                credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
              },
              { conflict: 0.1, throttle: 0.02, timeoutAfterCommit: 0.05 },
              seed,
            );
            clients.push(faulty);
            return faulty;
          },
        });
        const injected = clients.reduce(
          (sum, f) => sum + f.injected.conflict + f.injected.throttle + f.injected.timeoutAfterCommit,
          0,
        );
        expect(injected).toBeGreaterThan(10);
      } finally {
        await c.send(new DeleteTableCommand({ TableName: faultTable }));
        c.destroy();
      }
    },
    RACE_TIMEOUT_MS,
  );

  it('gives a 3-slot pool to exactly 3 of 24 instances when 8 clients claim different ones at once', async () => {
    // Claim selection is deterministic, so racing schedulers usually pick the same instances and the
    // instances' own conditions settle it. Here each client claims different instances: only the
    // pool counter's condition stands between them and an over-full pool.
    const raceTable = `${table}_claim`;
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
