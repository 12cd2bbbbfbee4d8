/**
 * The whole system on one machine, on the code paths it runs in AWS (`updraft dev`, the end-to-end
 * tests, the benchmarks): DynamoDB Local, fauxqs (SQS and S3) in this process, the resources of
 * shared/resources.ts, and the four functions' real handlers (`createHandler`) behind what invokes
 * them in AWS — an SQS poller acting as Lambda's event source for the two queues, timers standing
 * in for EventBridge Scheduler (a DAG's wake-up, the sweep's rate), uploads to `dags/` handed to
 * the dag-processor as S3 notifications, container exits handed to task-events as ECS events.
 *
 * `startLocalStack` returns the running stack: its endpoints, resource names, the dependencies the
 * handlers share (for an HTTP API mounted on it: `http.handler`), and `stop()`.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { createS3Client, createSqsClient } from '#adapters/aws-clients.ts';
import { BundleRuntimes, EsbuildDagBundler } from '#adapters/bundle/bundle-runtimes.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { LocalContainerLauncher } from '#adapters/local/local-container-launcher.ts';
import { LogNotifier } from '#adapters/local/log-notifier.ts';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { TimerScheduleRegistry } from '#adapters/local/timer-schedule-registry.ts';
import { readDagObject } from '#adapters/s3/dag-objects.ts';
import { S3BundleStore } from '#adapters/s3/s3-bundle-store.ts';
import { S3LogStore } from '#adapters/s3/s3-log-store.ts';
import { S3ResultStore } from '#adapters/s3/s3-result-store.ts';
import { SqsDispatcher, SqsSchedulerEvents } from '#adapters/sqs/sqs-publishers.ts';
import { DEFAULT_SETTINGS, type SchedulerSettings } from '#core/model.ts';
import type { Logger } from '#ports';
import { ManifestCache } from '#services/deps.ts';
import { createHandler as dagProcessorHandler } from '../../functions/dag-processor/handler.ts';
import { createHandler as schedulerHandler } from '../../functions/scheduler/handler.ts';
import { createHandler as taskEventsHandler } from '../../functions/task-events/handler.ts';
import { forWorker, heartbeatEvery } from '../../functions/worker/deps.ts';
import type { WorkerFunctionDeps } from '../../functions/worker/dispatch.ts';
import { createHandler as workerHandler } from '../../functions/worker/handler.ts';
import { BUCKET } from '../../shared/resources.ts';
import { DagBucketEvents } from './bucket-events.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.ts';
import { type Invokers, lambdaContext, startEventSources } from './event-sources.ts';
import {
  compute,
  type Invocation,
  meterInvocation,
  modeledDuration,
  sharedWork,
  type TimedRequest,
  timeRequests,
} from './invocation-meter.ts';
import { assertPortFree } from './ports.ts';
import { type LocalResourceNames, provision } from './provision.ts';
import { restoreBucket, saveBucket } from './s3-snapshot.ts';
import { workerProcess } from './worker-process.ts';

export interface LocalStackOptions {
  /** Where DynamoDB Local's files and the saved bucket live; null keeps everything in memory. @default '.updraft/dev' */
  dataDir?: string | null;
  /** An already running DynamoDB Local (the tests'); otherwise one is started. */
  dynamodbEndpoint?: string;
  /** @default 8000 (0: any free port) */
  dynamodbPort?: number;
  /** An already running fauxqs; otherwise one is started in this process. */
  awsEndpoint?: string;
  /** @default 4566 (0: any free port) */
  awsPort?: number;
  /** Prefix of every resource name, to keep several stacks apart. @default 'updraft-' */
  prefix?: string;
  settings?: Partial<SchedulerSettings>;
  /** Start the dispatch queue's event source (the workers) at once. @default true */
  startWorkers?: boolean;
  /** Start the scheduler-events queue's event source at once. @default true */
  startScheduler?: boolean;
  /** The sweep's rate; 0: no sweep. @default 60_000 */
  sweepEveryMs?: number;
  /** How often the bucket's `dags/` is listed for objects others uploaded (S3 notifications locally). @default 1000 */
  bucketPollMs?: number;
  /** @default from the heartbeat timeout */
  heartbeatEveryMs?: number;
  /** Long-poll wait of the queue pollers, 0–20 s. @default 20 */
  pollWaitSeconds?: number;
  /** Concurrent batches per queue (Lambda's maximum concurrency). @default resources.ts */
  concurrency?: { worker?: number; scheduler?: number };
  /** Pools created (or resized) at start, by name: slots. */
  pools?: Record<string, number>;
  /** New DAGs start unpaused (the examples should run). @default true */
  unpauseNew?: boolean;
  logger?: (service: string) => Logger;
  /** Every line a task prints, as it prints it. */
  onTaskLog?: (
    task: { dagId: string; runId: string; taskId: string; tryNumber: number },
    line: string,
  ) => void;
  /** The DynamoDB client the handlers use (a benchmark's meter); one is made otherwise. */
  dynamodbClient?: DynamoDBClient;
  /** Sees every SQS and S3 request the stack makes, with its answer (a benchmark's meter). */
  onAwsRequest?: (request: AwsRequest) => void;
  /**
   * What an AWS request would take in AWS, in ms (a benchmark's model of latency in the region):
   * with it, each invocation's duration is also modelled as AWS would bill it (`stats.modeledMs`),
   * and each invocation's own compute is timed (async hooks, which slow the process down a little).
   */
  requestLatencyMs?: (request: TimedRequest) => number;
  /**
   * The share of a vCPU each function has in AWS (Lambda: its memory / 1,769 MB), by which the
   * model stretches an invocation's own compute. @default 1
   */
  vcpus?: (fn: Invoked) => number;
  /** Serve HTTP on this stack (the API and console mount here). */
  http?: { port: number; handler: (stack: LocalStack) => RequestListener };
}

export interface AwsRequest {
  service: 'sqs' | 's3';
  /** The SDK command's name, e.g. `SendMessageBatchCommand`. */
  command: string;
  input: unknown;
  output: unknown;
}

type Invoked = 'scheduler' | 'worker' | 'dagProcessor' | 'taskEvents';

export interface LocalStack {
  endpoints: { dynamodb: string; aws: string; http: string | null };
  names: LocalResourceNames;
  /** What the handlers share: store, queues, schedules, logs, results, bundles, notifier. */
  deps: WorkerFunctionDeps;
  clients: { ddb: DynamoDBClient; sqs: SQSClient; s3: S3Client };
  notifier: LogNotifier;
  schedules: TimerScheduleRegistry;
  invoke: Invokers;
  /**
   * Invocations of each function so far, the time they ran (what Lambda would bill), and this
   * process's CPU time while they ran (an upper bound: whatever else the process did meanwhile,
   * other invocations included, counts too).
   */
  stats: {
    invocations: Record<Invoked, number>;
    busyMs: Record<Invoked, number>;
    cpuMs: Record<Invoked, number>;
    /**
     * The part of `busyMs` an invocation spent with at least one AWS request in flight that it
     * waited on: its own, or one of shared work it joined (a group commit of try ends).
     */
    ioMs: Record<Invoked, number>;
    /**
     * Synchronous execution in the invocations' own async contexts, with a share of the shared work
     * they waited on (invocation-meter.ts); 0 without `requestLatencyMs`.
     */
    computeMs: Record<Invoked, number>;
    /**
     * Each invocation's own compute plus its I/O at `requestLatencyMs` instead of the local
     * emulators' times (see `modeledDuration`); equals `busyMs` without that option.
     */
    modeledMs: Record<Invoked, number>;
  };
  /** Batches handled at once per queue. */
  concurrency: { worker: number; scheduler: number };
  /** The event sources of the two queues, to stop and start them (as disabling a Lambda trigger). */
  eventSources: { workers: EventSourceControl; scheduler: EventSourceControl };
  /** Uploads a DAG file under `dags/` and runs the dag-processor on it (as the S3 notification would). */
  putDagFile(name: string, source: string): Promise<unknown>;
  deleteDagFile(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

interface EventSourceControl {
  start(): void;
  /** Lets the batches being handled finish, then stops polling. */
  stop(): Promise<void>;
  /**
   * As if the function's containers crashed: polling stops, batches in flight are abandoned (their
   * messages come back after the visibility timeout) and, for workers, the tries they were running
   * stop heartbeating and never end. `start()` then brings up fresh ones.
   */
  kill(): void;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function startStores(options: LocalStackOptions, cleanups: (() => Promise<unknown>)[]) {
  let ddbLocal: DynamoDbLocal | null = null;
  let dynamodb = options.dynamodbEndpoint;
  if (!dynamodb) {
    const port = options.dynamodbPort ?? 8000;
    await assertPortFree(port, 'DynamoDB Local', '--dynamodb-port');
    const dataDir = options.dataDir === undefined ? '.updraft/dev' : options.dataDir;
    ddbLocal = await startDynamoDbLocal(
      dataDir
        ? { port: port || undefined, dbPath: join(dataDir, 'dynamodb'), inMemory: false }
        : { port: port || undefined },
    );
    cleanups.push(() => ddbLocal!.stop());
    dynamodb = ddbLocal.endpoint;
  }
  let aws = options.awsEndpoint;
  if (!aws) {
    const port = options.awsPort ?? 4566;
    await assertPortFree(port, 'SQS and S3 (fauxqs)', '--aws-port');
    const server = await startFauxqs({ port, logger: false });
    cleanups.push(() => server.stop());
    aws = server.address;
  }
  return { dynamodb, aws };
}

async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const loggerOf = options.logger ?? (() => silent);
  const dataDir = options.dataDir === undefined ? '.updraft/dev' : options.dataDir;
  try {
    const endpoints = await startStores(options, cleanups);
    const config = { region: 'us-east-1', endpoint: endpoints.aws };
    const ddb =
      options.dynamodbClient ??
      new DynamoDBClient({
        ...config,
        endpoint: endpoints.dynamodb,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
    const sqs = createSqsClient(config);
    const s3 = createS3Client(config);
    const observe = options.onAwsRequest;
    if (observe) {
      observeRequests(sqs, 'sqs', observe);
      observeRequests(s3, 's3', observe);
    }
    timeRequests(ddb, 'dynamodb');
    timeRequests(sqs, 'sqs');
    timeRequests(s3, 's3');
    cleanups.push(async () => {
      ddb.destroy();
      sqs.destroy();
      s3.destroy();
    });
    const names = await provision({ ddb, sqs, s3 }, options.prefix);
    if (dataDir) await restoreBucket(s3, names.bucket, join(dataDir, 's3'));

    const settings = { ...DEFAULT_SETTINGS, ...options.settings };
    const store = new DynamoDbStateStore(ddb, names.table, { sharedWork });
    for (const [name, slots] of Object.entries(options.pools ?? {})) {
      const existing = await store.getPool(name);
      if (existing?.slots !== slots)
        await store.putPool({
          name,
          slots,
          description: existing?.description ?? 'created by updraft dev',
          includeDeferred: false,
        });
    }
    const bundles = new S3BundleStore(s3, names.bucket);
    const logs = new S3LogStore(s3, names.bucket);
    const notifier = new LogNotifier(loggerOf('notifications'));
    const invoke: Invokers = {} as Invokers;
    const schedules = new TimerScheduleRegistry({
      onWakeUp: async (dagId) => {
        await invoke.scheduler({ v: 1, type: 'wakeup', dagId });
      },
      logger: loggerOf('schedules'),
    });
    const runtimes = new BundleRuntimes(bundles, { logger: loggerOf('worker') });
    const containers = new LocalContainerLauncher({
      onStopped: (event) => invoke.taskEvents(event),
      onOutput: (launch, line) => {
        options.onTaskLog?.({ ...launch.key, tryNumber: launch.tryNumber }, line);
        void logs.append(launch.key, launch.tryNumber, [`${new Date().toISOString()} ${line}`]);
      },
    });
    const executor = new LocalTaskExecutor((dagId, version) => runtimes.runtime(dagId, version));
    const base = {
      clock: { now: () => Date.now() },
      store,
      dispatcher: new SqsDispatcher(sqs, names.queues.dispatch.url),
      events: new SqsSchedulerEvents(sqs, names.queues.schedulerEvents.url),
      schedules,
      settings,
      manifests: new ManifestCache(store),
      notifier,
      runtimes,
      containers,
      callbacks: executor,
    };
    const deps: WorkerFunctionDeps = {
      ...base,
      logger: loggerOf('worker'),
      logs,
      results: new S3ResultStore(s3, names.bucket),
      executor,
      workerId: `local:${process.pid}`,
      heartbeatEveryMs: options.heartbeatEveryMs ?? heartbeatEvery(settings.heartbeatTimeoutMs),
      ...(options.onTaskLog && {
        log: (m, line) => options.onTaskLog!({ ...m.key, tryNumber: m.tryNumber }, line),
      }),
    };
    const stats: LocalStack['stats'] = {
      invocations: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
      busyMs: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
      cpuMs: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
      ioMs: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
      computeMs: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
      modeledMs: { scheduler: 0, worker: 0, dagProcessor: 0, taskEvents: 0 },
    };
    const model = options.requestLatencyMs;
    if (model) {
      compute.enable();
      cleanups.push(async () => compute.disable());
    }
    /** A handler whose invocations are counted and timed: their compute and AWS requests apart. */
    const counted =
      <E, R>(name: Invoked, handler: (event: E, context: Context) => Promise<R>) =>
      async (event: E, context: Context): Promise<R> => {
        stats.invocations[name] += 1;
        const invocation: Invocation = { requests: [], computeMs: 0, done: false };
        const start = performance.now();
        const cpu = process.cpuUsage();
        try {
          return await meterInvocation(invocation, () => handler(event, context));
        } finally {
          const end = performance.now();
          invocation.done = true;
          stats.busyMs[name] += end - start;
          const used = process.cpuUsage(cpu);
          stats.cpuMs[name] += (used.user + used.system) / 1000;
          const modeled = modeledDuration(
            {
              start,
              end,
              computeMs: model ? invocation.computeMs : null,
              requests: invocation.requests,
              vcpus: options.vcpus?.(name) ?? 1,
            },
            model,
          );
          stats.ioMs[name] += modeled.ioMs;
          stats.computeMs[name] += model ? invocation.computeMs : 0;
          stats.modeledMs[name] += modeled.ms;
        }
      };
    let workerGeneration = 0;
    const newWorker = () => {
      workerGeneration += 1;
      const worker = workerProcess(deps, workerGeneration);
      // Its grouped events and downstream pass run on the worker's own (severable) dependencies: they die with it.
      return {
        handler: counted('worker', workerHandler(forWorker(worker.deps, sharedWork))),
        kill: worker.kill,
      };
    };
    const handlers = {
      scheduler: counted('scheduler', schedulerHandler({ ...base, logger: loggerOf('scheduler') })),
      dagProcessor: counted(
        'dagProcessor',
        dagProcessorHandler({
          ...base,
          logger: loggerOf('dag-processor'),
          bundles,
          bundler: new EsbuildDagBundler({ dir: dataDir ? join(dataDir, 'bundles') : undefined }),
          readDagFile: async (key) => (await readDagObject(s3, names.bucket, key))?.source ?? null,
        }),
      ),
      taskEvents: counted('taskEvents', taskEventsHandler({ ...base, logger: loggerOf('task-events') })),
    };
    Object.assign(invoke, {
      scheduler: (event: unknown) => handlers.scheduler(event, lambdaContext('scheduler')),
      taskEvents: (event: unknown) => handlers.taskEvents(event, lambdaContext('task-events')),
      dagProcessor: (event: import('aws-lambda').S3Event) =>
        handlers.dagProcessor(event, lambdaContext('dag-processor')),
    });
    const sources = startEventSources({
      aws: config,
      names,
      handlers,
      worker: newWorker,
      ...(observe && { instrument: (client: SQSClient) => observeRequests(client, 'sqs', observe) }),
      invoke,
      logger: loggerOf('event-sources'),
      pollWaitSeconds: options.pollWaitSeconds,
      concurrency: options.concurrency,
      sweepEveryMs: options.sweepEveryMs ?? 60_000,
      enabled: { dispatch: options.startWorkers ?? true, schedulerEvents: options.startScheduler ?? true },
    });
    cleanups.push(async () => {
      await schedules.stop();
      await sources.stop();
      await containers.stopAll('the local stack is stopping');
    });
    // S3's notifications to the dag-processor, for objects others upload (updraft dags deploy).
    const bucketEvents = new DagBucketEvents({
      s3,
      bucket: names.bucket,
      prefix: BUCKET.prefixes.dags,
      everyMs: options.bucketPollMs ?? 1_000,
      notify: async (key, change) => {
        const event = s3Event(key, change === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete');
        const results = await invoke.dagProcessor(event);
        if (change === 'created' && (options.unpauseNew ?? true))
          await unpauseRegistered(stack, results, base.clock.now());
      },
      onError: (error) => loggerOf('dag-processor').warn(`watching the bucket: ${String(error)}`),
    });
    await bucketEvents.start();
    cleanups.push(() => bucketEvents.stop());

    const unpauseNew = options.unpauseNew ?? true;
    const dagKey = (name: string) => `${BUCKET.prefixes.dags}${name}`;
    const stack: LocalStack = {
      endpoints: { ...endpoints, http: null },
      names,
      deps,
      clients: { ddb, sqs, s3 },
      notifier,
      schedules,
      invoke,
      stats,
      concurrency: sources.loops,
      eventSources: { workers: sources.workers, scheduler: sources.scheduler },
      async putDagFile(name, source) {
        const key = dagKey(name);
        const put = await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: source }));
        bucketEvents.note(key, put.ETag ?? null);
        const results = await invoke.dagProcessor(s3Event(key, 'ObjectCreated:Put'));
        if (unpauseNew) await unpauseRegistered(stack, results, base.clock.now());
        return results;
      },
      async deleteDagFile(name) {
        const key = dagKey(name);
        await s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: key }));
        bucketEvents.note(key, null);
        return invoke.dagProcessor(s3Event(key, 'ObjectRemoved:Delete'));
      },
      async stop() {
        if (dataDir) await saveBucket(s3, names.bucket, join(dataDir, 's3')).catch(() => 0);
        await runCleanups(cleanups);
      },
    };
    if (options.http) {
      await assertPortFree(options.http.port, 'the HTTP API', '--port');
      const server: Server = createServer(options.http.handler(stack));
      await new Promise<void>((resolve) => server.listen(options.http!.port, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      const address = server.address();
      stack.endpoints.http = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.http.port}`;
    }
    return stack;
  } catch (error) {
    await runCleanups(cleanups);
    throw error;
  }
}

/** Hands every request of `client` and its answer to `observe`. */
function observeRequests(
  client: SQSClient | S3Client,
  service: AwsRequest['service'],
  observe: (request: AwsRequest) => void,
): void {
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      observe({ service, command: String(context.commandName), input: args.input, output: result.output });
      return result;
    },
    { step: 'initialize', name: 'updraftObserveRequests' },
  );
}

async function runCleanups(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

/** An S3 notification for one object, as S3 sends it (key URL-encoded, spaces as `+`). */
function s3Event(key: string, eventName: string) {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return {
    Records: [{ eventName, s3: { object: { key: encoded } } }],
  } as unknown as import('aws-lambda').S3Event;
}

/** DAGs registered for the first time start unpaused, and the scheduler looks at them at once. */
async function unpauseRegistered(stack: LocalStack, results: unknown, now: number): Promise<void> {
  const registered = (results as { kind: string; dags?: { dagId: string; created: boolean }[] }[]).flatMap(
    (r) => (r.kind === 'registered' ? (r.dags ?? []) : []),
  );
  for (const { dagId, created } of registered) {
    const record = created ? await stack.deps.store.getDag(dagId) : null;
    if (!record?.paused) continue;
    if (
      await stack.deps.store.updateDag(
        dagId,
        record.updatedAt,
        { paused: false },
        Math.max(now, record.updatedAt + 1),
      )
    )
      await stack.invoke.scheduler({ v: 1, type: 'wakeup', dagId });
  }
}

export { type Invoked, startLocalStack, type TimedRequest };
