/**
 * The race that proves the DynamoDB store: schedulers, each its own loop and DynamoDB client, claim
 * through the real claim pass while simulated workers start, heartbeat, succeed, fail and retry at
 * random, every dispatch delivered twice. An observer outside the counters stamps every claim after
 * its transaction returned and every release before its transaction is sent (one in-process
 * sequence), so an interval it sees can only be shorter than the slot was really held: an overlap
 * it finds really happened. From those intervals and the workload's own definition of each task
 * (pool, slots, DAG, limits) — never from the counters or the recorded holds — it checks that no
 * limit was exceeded at any instant; from the stores' answers that every try started once; and at
 * rest that every counter is 0, nothing holds a slot, and the reconciler (which also ran in every
 * sweep, with repair) never found anything.
 *
 * Used by test/contract/dynamodb-concurrency.test.ts (small enough for `npm test`) and by
 * bench/dynamodb-race.ts (≥ 100,000 claims).
 */
import { Agent as HttpAgent } from 'node:http';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDbStateStore, type DynamoDbStoreOptions } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';
import { compileDag } from '#core/compile.ts';
import type { DagManifest } from '#core/manifest.ts';
import { DEFAULT_SETTINGS, type TaskInstance, type TiKey, tiKeyString } from '#core/model.ts';
import { makeTaskInstances } from '#core/runs.ts';
import type { DispatchMessage, TryEnd } from '#ports';
import { dag } from '#sdk/index.ts';
import { claimAndDispatch } from '#services/claim-pass.ts';
import { newRun } from '#services/create-runs.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { reconcileCounters } from '#services/reconcile.ts';
import { registerDag } from '#services/register-dag.ts';
import { runSweep } from '#services/sweep.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { mulberry32 } from '#simulator/timeline.ts';
import { type Faults, FaultyDynamoDbClient, SabotagedDynamoDbClient } from './faulty-dynamodb.ts';

/** The limits of the workload, small so that everything contends. */
const LIMITS = {
  parallelism: 24,
  pools: { p3: 3, p5: 5, p8: 8 } as Record<string, number>,
  maxActiveTasks: 6,
  /** t1: at most this many running across the DAG's runs. */
  maxActiveTisPerDag: 2,
  /** t2 is mapped MAPPED ways per run: at most this many of one run at once. */
  maxActiveTisPerDagrun: 2,
};
const DAGS = ['race_a', 'race_b', 'race_c', 'race_d'];
const TASKS = 10;
const MAPPED = 4;
/** Instances per run: TASKS tasks, t2 mapped MAPPED ways instead of once. */
const PER_RUN = TASKS - 1 + MAPPED;

function manifestOf(dagId: string): DagManifest {
  return compileDag(
    dag(dagId, { maxActiveTasks: LIMITS.maxActiveTasks, maxActiveRuns: 100_000 }, (d) => {
      for (let i = 0; i < TASKS; i += 1) {
        d.task(
          `t${i}`,
          {
            pool: ['p3', 'p5', 'p8'][i % 3]!,
            poolSlots: i % 4 === 0 ? 2 : 1,
            priorityWeight: (i * 7) % 10,
            retries: i % 2 === 0 ? 1 : 2,
            retryDelay: 0,
            ...(i === 1 && { maxActiveTisPerDag: LIMITS.maxActiveTisPerDag }),
            ...(i === 2 && { maxActiveTisPerDagrun: LIMITS.maxActiveTisPerDagrun }),
          },
          async () => null,
        );
      }
    }),
  );
}

export interface RaceConfig {
  endpoint: string;
  /** Task instances to create (rounded up to whole runs of PER_RUN). */
  instances: number;
  schedulers: number;
  workers: number;
  seed: number;
  /** Faults injected into every scheduler's and worker's client (not the setup's or the observer's). */
  faults?: Faults;
  /** Strip the counters' room conditions from every claim: the observer must then see violations. */
  sabotage?: boolean;
  /** Store options beside the test's own (counterShards, …). */
  store?: Omit<DynamoDbStoreOptions, 'now'>;
  /** The race gives up (and reports unfinished instances) after this long. */
  deadlineMs: number;
  /**
   * Runs created before the race starts; the rest are created while it runs, as earlier ones end,
   * so that about this many are unfinished at once (a backfill under maxActiveRuns, rather than
   * every run of the race scheduled at once). @default every run up front
   */
  liveRuns?: number;
  /** Probability that a started try's worker dies without ending it (the sweep fails it). */
  crash?: number;
  /**
   * How schedulers are woken (the bench's large race; the tests keep the default). By default every
   * try end wakes one waiting scheduler at once, a scheduler that claimed something passes again at
   * once, and an idle one passes every 1–1.5 s. With `windowMs`, the try ends within that window
   * wake one scheduler together (as an SQS event source's batching window hands one invocation a
   * batch of `task_finished` events), every scheduler waits for a ring after each pass, and an idle
   * one passes every `idleMs` to 1.5 × `idleMs`: fewer passes, each claiming what several ends freed.
   * One sweep runs at a time, `sweepMs` after the last one ended (default 3 s; AWS's rate is a minute).
   */
  pacing?: { windowMs: number; idleMs: number; sweepMs?: number };
  /** Told about every minute how far the race is (the bench prints it: a long race is not silent). */
  onProgress?: (progress: RaceProgress) => void;
  /**
   * Workers sharing one store and client, as the tries of one Lambda's SQS batch do: their try ends
   * can then coincide and be committed together (the store's group commit, try-ends.ts). @default 1
   */
  workersPerStore?: number;
}

export interface RaceProgress {
  claims: number;
  /** Instances seen to reach success or failed, of `total`. */
  finals: number;
  total: number;
  seconds: number;
}

export interface RaceReport {
  instances: number;
  tries: number;
  claims: number;
  /** Claims that scheduled their instance in the same write (a due retry handed to the claim step). */
  scheduleClaims: number;
  failedTries: number;
  duplicateDeliveries: number;
  crashes: number;
  seconds: number;
  /** Every limit the observer saw exceeded, with its peak (empty when the store is correct). */
  violations: string[];
  /** Tries started more than once, tries ended twice, instances not final at the end. */
  problems: string[];
  /** Peak concurrent holds the observer saw per limit group kind (how hard the limits were pushed). */
  peaks: Record<string, number>;
  /** Drift the reconciler reported during the race and at rest (each one a bug). */
  drift: unknown[];
  countersAtRest: { key: string; used: number }[];
  injected: { conflict: number; throttle: number; timeoutAfterCommit: number };
  sweeps: number;
  unconfirmedEnds: number;
  /** Requests the schedulers' and workers' clients sent (not the setup's or the observer's). */
  requests: number;
  /** The workers' try-end transactions and the ends they committed (more ends than transactions: grouped). */
  workerEnds: { transactions: number; ends: number };
}

interface Interval {
  key: TiKey;
  tryNumber: number;
  from: number;
  to: number;
}

/** The observer's one clock: a sequence every claim and release is stamped from, in this process. */
class Observer {
  seq = 0;
  readonly claimed = new Map<string, { key: TiKey; tryNumber: number; from: number }>();
  readonly intervals: Interval[] = [];
  readonly starts = new Map<string, number>();
  readonly ends = new Map<string, number>();
  readonly drift: unknown[] = [];
  claims = 0;
  scheduleClaims = 0;
  /** Instances that reached success or failed (each does once: nothing clears them). */
  finals = 0;
  /** Try ends whose commit the caller may never have heard of (a time-out after commit), by try. */
  readonly maybeEnded = new Map<string, number[]>();
  /** How many of those turned out to be the end of their try. */
  unconfirmed = 0;

  /** At rest: a try still open whose end was not confirmed to anyone ended by the unconfirmed call. */
  settle(): void {
    for (const [id, claim] of this.claimed) {
      // The earliest candidate after the claim: the shortest interval it can have been.
      const stamp = Math.min(...(this.maybeEnded.get(id) ?? []).filter((s) => s > claim.from));
      if (!Number.isFinite(stamp)) continue;
      this.intervals.push({ ...claim, to: stamp });
      this.claimed.delete(id);
      this.unconfirmed += 1;
    }
  }
  reconciled = 0;
}

const tryId = (key: TiKey, tryNumber: number) => `${tiKeyString(key)}#${tryNumber}`;

/** The DynamoDB store as every racer uses it, with the observer's stamps around claims, starts and ends. */
class ObservedStore extends DynamoDbStateStore {
  readonly #observer: Observer;

  constructor(client: DynamoDBClient, table: string, observer: Observer, options: DynamoDbStoreOptions) {
    // DynamoDB Local's indexes do not lag, so the reconciler may judge any counter that holds still.
    super(client, table, { reconcileSettleMs: 0, ...options });
    this.#observer = observer;
  }

  override async claim(requests: Parameters<DynamoDbStateStore['claim']>[0]) {
    const result = await super.claim(requests);
    const stamp = ++this.#observer.seq;
    const tries = new Map(requests.map((r) => [tiKeyString(r.key), r]));
    for (const key of result.claimed) {
      const request = tries.get(tiKeyString(key))!;
      const tryNumber = request.tryNumber;
      this.#observer.claimed.set(tryId(key, tryNumber), { key, tryNumber, from: stamp });
      this.#observer.claims += 1;
      if (request.schedule) this.#observer.scheduleClaims += 1;
    }
    return result;
  }

  override async startTry(key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
    const started = await super.startTry(key, tryNumber, opts);
    const id = tryId(key, tryNumber);
    if (started) this.#observer.starts.set(id, (this.#observer.starts.get(id) ?? 0) + 1);
    return started;
  }

  override async endTry(end: TryEnd) {
    const stamp = ++this.#observer.seq;
    const ended = await super.endTry(end).catch(async (error: unknown) => {
      await this.#unconfirmed(end, stamp);
      throw error;
    });
    if (!ended) await this.#unconfirmed(end, stamp);
    if (ended) {
      if (end.set.state === 'success' || end.set.state === 'failed') this.#observer.finals += 1;
      const id = tryId(end.key, end.expect.tryNumber);
      // A dispatch given up as stuck goes back to scheduled with the same try: that is not an end of it.
      if (end.set.state !== 'scheduled') this.#observer.ends.set(id, (this.#observer.ends.get(id) ?? 0) + 1);
      const claim = this.#observer.claimed.get(id);
      if (claim) {
        this.#observer.intervals.push({ ...claim, to: stamp });
        this.#observer.claimed.delete(id);
      }
    }
    return ended;
  }

  /**
   * A try end whose answer was lost (a time-out after it committed, then a retry that found the try
   * already over) may have ended the try at some moment after `stamp`. Whether it did is decided at
   * rest (`settle`): if nobody else was told the try ended, this call did.
   */
  async #unconfirmed(end: TryEnd, stamp: number): Promise<void> {
    const id = tryId(end.key, end.expect.tryNumber);
    this.#observer.maybeEnded.set(id, [...(this.#observer.maybeEnded.get(id) ?? []), stamp]);
  }

  override async reconcileCounters(opts: { repair: boolean }) {
    const report = await super.reconcileCounters(opts);
    this.#observer.reconciled += 1;
    this.#observer.drift.push(...report.drift);
    return report;
  }
}

/** What the workload says an instance holds, from its own definition (not from the store). */
function groupsOf(key: TiKey): { group: string; weight: number; limit: number }[] {
  const i = Number(key.taskId.slice(1));
  const pool = ['p3', 'p5', 'p8'][i % 3]!;
  const groups = [
    { group: 'parallelism', weight: 1, limit: LIMITS.parallelism },
    { group: `pool ${pool}`, weight: i % 4 === 0 ? 2 : 1, limit: LIMITS.pools[pool]! },
    { group: `maxActiveTasks ${key.dagId}`, weight: 1, limit: LIMITS.maxActiveTasks },
  ];
  if (i === 1)
    groups.push({ group: `maxActiveTisPerDag ${key.dagId}/t1`, weight: 1, limit: LIMITS.maxActiveTisPerDag });
  if (i === 2) {
    groups.push({
      group: `maxActiveTisPerDagrun ${key.dagId}/${key.runId}/t2`,
      weight: 1,
      limit: LIMITS.maxActiveTisPerDagrun,
    });
  }
  return groups;
}

/** Peak of each limit group over the intervals, and the groups whose peak exceeds their limit. */
function judge(intervals: Interval[]): { violations: string[]; peaks: Record<string, number> } {
  const events = new Map<string, { limit: number; at: { stamp: number; delta: number }[] }>();
  for (const iv of intervals) {
    for (const { group, weight, limit } of groupsOf(iv.key)) {
      const entry = events.get(group) ?? { limit, at: [] };
      entry.at.push({ stamp: iv.from, delta: weight }, { stamp: iv.to, delta: -weight });
      events.set(group, entry);
    }
  }
  const violations: string[] = [];
  const peaks: Record<string, number> = {};
  for (const [group, { limit, at }] of events) {
    at.sort((a, b) => a.stamp - b.stamp);
    let value = 0;
    let peak = 0;
    for (const e of at) {
      value += e.delta;
      peak = Math.max(peak, value);
    }
    const kind = group.split(' ')[0]!;
    peaks[kind] = Math.max(peaks[kind] ?? 0, peak);
    if (peak > limit) violations.push(`${group}: ${peak} held at once, limit ${limit}`);
  }
  return { violations, peaks };
}

function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // Retries are the store's business (and the faults'): the SDK's own would hide them.
    maxAttempts: 1,
    // No idle keep-alive sockets: DynamoDB Local (Jetty) closes a connection idle for 30 s, and a
    // client reusing it gets "socket hang up", which, with no SDK retry, failed a race at 31 s.
    requestHandler: { httpAgent: new HttpAgent({ keepAlive: false }) },
  };
}

const requestCounts = new Map<string, number>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A wake-up the workers ring when a try ends: like a `task_finished` event in AWS, each ring starts
 * one pass (of the scheduler that has waited longest); idle schedulers also pass on a timer.
 */
class Doorbell {
  #waiters: (() => void)[] = [];
  #pending: ReturnType<typeof setTimeout> | null = null;
  constructor(private readonly windowMs = 0) {}
  ring() {
    if (this.windowMs <= 0) {
      this.#waiters.shift()?.();
      return;
    }
    // Rings within the window are one wake-up.
    if (this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = null;
      this.#waiters.shift()?.();
    }, this.windowMs);
  }
  wait(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function runRace(config: RaceConfig): Promise<RaceReport> {
  const table = `race_${process.pid}_${config.seed}_${Date.now()}`;
  const observer = new Observer();
  const setupClient = new DynamoDBClient(clientConfig(config.endpoint));
  await setupClient.send(new CreateTableCommand(createTableInput(table)));
  const clients: DynamoDBClient[] = [];
  let requests = 0;
  const faulty: FaultyDynamoDbClient[] = [];
  const clientFor = (seed: number): DynamoDBClient => {
    const base = clientConfig(config.endpoint);
    const made = config.sabotage
      ? new SabotagedDynamoDbClient(base)
      : config.faults
        ? new FaultyDynamoDbClient(base, config.faults, config.seed * 1000 + seed)
        : new DynamoDBClient(base);
    if (made instanceof FaultyDynamoDbClient) faulty.push(made);
    clients.push(made);
    const counted = made.send.bind(made);
    // biome-ignore lint/suspicious/noExplicitAny: counts every request, whatever its overload.
    (made as any).send = (...args: any[]) => {
      requests += 1;
      return (counted as (...a: unknown[]) => unknown)(...args);
    };
    if (process.env.RACE_COUNT) {
      const send = made.send.bind(made);
      // biome-ignore lint/suspicious/noExplicitAny: counting wrapper for a trial.
      (made as any).send = (command: any, ...rest: any[]) => {
        const input = command.input ?? {};
        const detail =
          command.constructor.name === 'QueryCommand'
            ? `${input.IndexName ?? 'table'} ${JSON.stringify(input.ExpressionAttributeValues ?? {})
                .replace(/\d+/g, 'N')
                .slice(0, 60)}`
            : command.constructor.name === 'UpdateItemCommand'
              ? String(input.UpdateExpression).slice(0, 40)
              : '';
        const name = `${seed < 100 ? 'sched' : 'work'} ${command.constructor.name} ${detail}`;
        requestCounts.set(name, (requestCounts.get(name) ?? 0) + 1);
        return send(command, ...rest);
      };
    }
    return made;
  };
  const queue: DispatchMessage[] = [];
  const doorbell = new Doorbell(config.pacing?.windowMs);
  const settings = {
    ...DEFAULT_SETTINGS,
    parallelism: LIMITS.parallelism,
    maxTisPerQuery: 50,
    // Lost dispatches and dead tries are recovered by the sweep: short timeouts keep the race short.
    taskQueuedTimeoutMs: 2_000,
    heartbeatTimeoutMs: 2_000,
    numStuckInQueuedRetries: 1_000,
  };
  const depsFor = (store: DynamoDbStateStore): ServiceDeps => ({
    store,
    settings,
    logger: silentLogger,
    manifests: new ManifestCache(store),
    // Every message is delivered twice: consumers must be idempotent.
    dispatcher: { dispatch: async (messages) => void queue.push(...messages, ...messages) },
    events: { publish: async () => doorbell.ring() },
    schedules: { setNextWakeUp: async () => {} },
  });
  const setup = depsFor(new ObservedStore(setupClient, table, observer, config.store ?? {}));
  const started = performance.now();
  try {
    // Prepare: pools, DAGs (unpaused), and running runs whose instances are all scheduled.
    for (const [name, slots] of Object.entries(LIMITS.pools))
      await setup.store.putPool({ name, slots, description: '', includeDeferred: false });
    const manifests = DAGS.map(manifestOf);
    for (const manifest of manifests) {
      const { dag: record } = await registerDag(setup, manifest, { now: Date.now(), fileloc: null });
      await setup.store.updateDag(
        manifest.dagId,
        record.updatedAt,
        { paused: false, nextRun: null },
        Date.now(),
      );
    }
    const runs = Math.ceil(config.instances / PER_RUN);
    const t0 = Date.UTC(2026, 0, 1);
    const createRun = (r: number) => {
      const manifest = manifests[r % manifests.length]!;
      const logicalDate = t0 + r * 3_600_000;
      const run = {
        ...newRun(
          manifest,
          {
            logicalDate,
            dataIntervalStart: logicalDate,
            dataIntervalEnd: logicalDate,
            runAfter: logicalDate,
          },
          { runType: 'manual', now: logicalDate, runId: `manual__${r}` },
        ),
        state: 'running' as const,
        startedAt: logicalDate,
      };
      const tis: TaskInstance[] = makeTaskInstances(manifest, run).flatMap((ti) => {
        const scheduled = { ...ti, state: 'scheduled' as const, tryNumber: 1, scheduledAt: logicalDate };
        return ti.taskId === 't2'
          ? Array.from({ length: MAPPED }, (_, m) => ({ ...scheduled, mapIndex: m }))
          : [scheduled];
      });
      return setup.store.createRun(run, tis);
    };
    const upFront = Math.min(runs, config.liveRuns ?? runs);
    let created = 0;
    const creations: Promise<unknown>[] = [];
    for (; created < upFront; created += 1) {
      creations.push(createRun(created));
      if (creations.length >= 8) await Promise.all(creations.splice(0));
    }
    await Promise.all(creations);
    const total = runs * PER_RUN;

    const deadline = Date.now() + config.deadlineMs;
    let failedTries = 0;
    let crashes = 0;
    let duplicates = 0;
    let sweeps = 0;
    // Done when every run is created and the store holds nothing unfinished (a watcher asks it
    // every second or so).
    let finished = false;
    const done = () => finished || Date.now() >= deadline;
    // The rest of the runs, created as earlier ones end (instances seen final, a run's worth each).
    const feeder = (async () => {
      while (created < runs && !done()) {
        const live = created - Math.floor(observer.finals / PER_RUN);
        if (live < upFront) {
          const batch = Math.min(runs - created, upFront - live, 8);
          await Promise.all(Array.from({ length: batch }, (_, i) => createRun(created + i)));
          created += batch;
          // New work is news to the schedulers, as a run's start is.
          doorbell.ring();
        } else await sleep(100);
      }
    })();

    // The sweep is one schedule, as in AWS (a rate schedule invokes one sweep at a time): whichever
    // scheduler finds it due runs it, and the next is due `sweepMs` after that one ended.
    const sweepMs = config.pacing?.sweepMs ?? 3_000;
    let sweepDueAt = 0;
    const schedulers = Array.from({ length: config.schedulers }, async (_, s) => {
      const deps = depsFor(new ObservedStore(clientFor(s + 1), table, observer, config.store ?? {}));
      const random = mulberry32(config.seed * 7919 + s);
      while (!done()) {
        // A pass that fails (throttled, timed out) is simply followed by the next one, as Lambda would retry.
        const now = Date.now();
        let claimed = 0;
        try {
          // What advance-runs does for a retry that is due: scheduled again, with the next try number.
          // Half the schedulers hand it to the claim step as a scheduler pass does (claimed straight
          // from up_for_retry in the claim's write, or written scheduled with its reason); the other
          // half write it scheduled first, as a pass of the code before did: both race each other.
          const due = await deps.store.listDueWaits(now + 1, 100);
          const toSchedule = due.map((ti) => ({
            read: ti,
            change: {
              key: ti,
              expect: { state: 'up_for_retry' as const, tryNumber: ti.tryNumber },
              set: {
                state: 'scheduled' as const,
                tryNumber: ti.tryNumber + 1,
                scheduledAt: now,
                nextRetryAt: null,
              },
            },
          }));
          const inClaim = s % 2 === 0;
          if (!inClaim && toSchedule.length > 0) await deps.store.updateTis(toSchedule.map((t) => t.change));
          claimed = (await claimAndDispatch(deps, now, inClaim ? { toSchedule } : {})).claimed;
          // The sweep (heartbeats, stuck dispatches, the reconciler with repair).
          if (now >= sweepDueAt) {
            sweepDueAt = Number.POSITIVE_INFINITY;
            sweeps += 1;
            try {
              await runSweep(deps, now);
            } finally {
              sweepDueAt = Date.now() + sweepMs;
            }
          }
        } catch {
          // next pass
        }
        const idle = config.pacing?.idleMs ?? 1_000;
        if (claimed === 0 || config.pacing) await doorbell.wait(idle + random() * idle * 0.5);
      }
    });

    const perStore = Math.max(1, config.workersPerStore ?? 1);
    const workerStores = Array.from(
      { length: Math.ceil(config.workers / perStore) },
      (_, i) => new ObservedStore(clientFor(100 + i), table, observer, config.store ?? {}),
    );
    const workers = Array.from({ length: config.workers }, async (_, w) => {
      const deps = depsFor(workerStores[Math.floor(w / perStore)]!);
      const random = mulberry32(config.seed * 104_729 + w);
      while (!done()) {
        const message = queue.shift();
        if (!message) {
          await sleep(2);
          continue;
        }
        const begun = await beginTry(deps, message, { now: Date.now(), workerId: `w${w}` }).catch(() => {
          queue.push(message); // the message comes back, as SQS redelivers after a failed invocation
          return null;
        });
        if (begun?.kind === 'duplicate') duplicates += 1;
        if (begun?.kind !== 'started') continue;
        if (random() < (config.crash ?? 0)) {
          crashes += 1; // the worker dies: no heartbeat, no end; the sweep fails the try
          continue;
        }
        if (random() < 0.3) {
          await sleep(random() * 5);
          await deps.store.heartbeat(message.key, message.tryNumber, Date.now()).catch(() => false);
        }
        await sleep(random() * 5);
        const fail = random() < 0.25;
        const outcome = fail ? { state: 'failed' as const, error: 'chaos' } : { state: 'success' as const };
        const result = await finishTry(deps, begun.started, outcome, Date.now()).catch(() => null);
        if (fail && result?.ended) failedTries += 1;
      }
    });
    const watcher = (async () => {
      let told = performance.now();
      while (!done()) {
        await sleep(1_000);
        // Slot holders are in no index (docs/state-store.md, "Holders"): a dead worker's try that
        // waits for the sweep is found through its run, as the sweep finds it, and keeps the race going.
        finished =
          created >= runs &&
          (await nothingUnfinished(setupClient, table).catch(() => false)) &&
          (await setup.store.listHoldingTis({ limit: 1 }).then(
            (page) => page.items.length === 0,
            () => false,
          ));
        if (config.onProgress && performance.now() - told >= 60_000) {
          told = performance.now();
          const seconds = (told - started) / 1000;
          config.onProgress({ claims: observer.claims, finals: observer.finals, total, seconds });
        }
      }
    })();
    await Promise.all([...schedulers, ...workers, watcher, feeder]);
    observer.settle();
    const seconds = (performance.now() - started) / 1000;
    if (process.env.RACE_COUNT) {
      const total = [...requestCounts.values()].reduce((a, b) => a + b, 0);
      console.log([...requestCounts].sort((a, b) => b[1] - a[1]).slice(0, 12), { total, seconds });
    }

    // Assess at rest, with a client of its own.
    const problems: string[] = [];
    const finals = await allInstances(setup.store as DynamoDbStateStore, runs);
    for (const ti of finals) {
      if (ti.state !== 'success' && ti.state !== 'failed') {
        const raw = await setupClient.send(
          new GetItemCommand({
            TableName: table,
            Key: { pk: { S: `RUN#${ti.dagId}#${ti.runId}` }, sk: { S: `TI#${ti.taskId}#${ti.mapIndex}` } },
          }),
        );
        problems.push(
          `${tiKeyString(ti)} is ${ti.state} (try ${ti.tryNumber}, listed under ${raw.Item?.claimPk?.S ?? 'nothing'})`,
        );
      }
    }
    if (observer.finals + observer.unconfirmed < total)
      problems.push(
        `${observer.finals} instances were seen to end (+${observer.unconfirmed} unconfirmed), of ${total}`,
      );
    for (const [id, n] of observer.starts) if (n > 1) problems.push(`try ${id} started ${n} times`);
    for (const [id, n] of observer.ends) if (n > 1) problems.push(`try ${id} ended ${n} times`);
    for (const id of observer.claimed.keys()) problems.push(`try ${id} was claimed and never released`);
    const tries = finals.reduce((sum, ti) => sum + ti.tryNumber, 0);
    const { violations, peaks } = judge(observer.intervals);
    const countersAtRest = (await setup.store.listCounters())
      .filter((c) => c.used !== 0)
      .map((c) => ({ key: JSON.stringify(c.key), used: c.used }));
    const holding = await setup.store.listHoldingTis({ limit: 10 });
    if (holding.items.length > 0) problems.push(`${holding.items.length}+ instances still hold slots`);
    const atRest = await reconcileCounters(setup, { repair: false });
    if (atRest.unsettled > 0) problems.push(`${atRest.unsettled} counters unsettled at rest`);
    return {
      instances: total,
      tries,
      claims: observer.claims,
      scheduleClaims: observer.scheduleClaims,
      failedTries,
      duplicateDeliveries: duplicates,
      crashes,
      seconds,
      violations,
      problems,
      peaks,
      drift: observer.drift,
      countersAtRest,
      injected: faulty.reduce(
        (sum, f) => ({
          conflict: sum.conflict + f.injected.conflict,
          throttle: sum.throttle + f.injected.throttle,
          timeoutAfterCommit: sum.timeoutAfterCommit + f.injected.timeoutAfterCommit,
        }),
        { conflict: 0, throttle: 0, timeoutAfterCommit: 0 },
      ),
      sweeps,
      unconfirmedEnds: observer.unconfirmed,
      requests,
      workerEnds: workerStores.reduce(
        (sum, store) => {
          const stats = store.tryEndGroupStats() ?? { transactions: 0, ends: 0 };
          return { transactions: sum.transactions + stats.transactions, ends: sum.ends + stats.ends };
        },
        { transactions: 0, ends: 0 },
      ),
    };
  } finally {
    await setupClient.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    setupClient.destroy();
    for (const c of clients) c.destroy();
  }
}

/** Nothing scheduled (listed or parked), queued, running or waiting for a retry. */
async function nothingUnfinished(client: DynamoDBClient, table: string): Promise<boolean> {
  const any = async (index: string, pk: string, value: string) =>
    ((
      await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: index,
          KeyConditionExpression: `${pk} = :v`,
          ExpressionAttributeValues: { ':v': { S: value } },
          Limit: 1,
        }),
      )
    ).Items?.length ?? 0) > 0;
  for (const pool of Object.keys(LIMITS.pools))
    if (await any('claim', 'claimPk', `POOL#${pool}`)) return false;
  if (await any('holding', 'holdPk', 'HOLD')) return false;
  if (await any('waits', 'waitPk', 'WAIT')) return false;
  // Counters with parked work are listed (keys only) in `holding` under PARKING; their pools are on the item.
  const flagged = await client.send(
    new QueryCommand({
      TableName: table,
      IndexName: 'holding',
      KeyConditionExpression: 'holdPk = :v',
      ExpressionAttributeValues: { ':v': { S: 'PARKING' } },
    }),
  );
  for (const listed of flagged.Items ?? []) {
    const counter = (
      await client.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: listed.pk!, sk: listed.sk! },
          ConsistentRead: true,
        }),
      )
    ).Item;
    for (const pool of counter?.parkedIn?.SS ?? [])
      if (await any('claim', 'claimPk', `PARKED#${pool}#${listed.holdSk?.S}`)) return false;
  }
  return true;
}

async function allInstances(store: DynamoDbStateStore, runs: number): Promise<TaskInstance[]> {
  const out: TaskInstance[] = [];
  for (let r = 0; r < runs; r += 16) {
    const batch = Array.from({ length: Math.min(16, runs - r) }, (_, i) =>
      store.listTis(DAGS[(r + i) % DAGS.length]!, `manual__${r + i}`),
    );
    for (const tis of await Promise.all(batch)) out.push(...tis);
  }
  return out;
}

export { LIMITS, PER_RUN, runRace };
