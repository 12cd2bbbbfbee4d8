/**
 * THE definition of every AWS resource Updraft runs on, as plain data: the local stack
 * (`updraft dev`, the end-to-end tests, the benchmarks) and the CDK construct (infra/) both create
 * them from here, so the two cannot drift. Nothing here talks to AWS.
 *
 * | resource                   | what it is for                                           | consumer       |
 * | -------------------------- | -------------------------------------------------------- | -------------- |
 * | `table`                    | the state store (shared/adapters/dynamodb/table.ts)      | every function |
 * | `queues.dispatch`          | claimed tries → workers (catalog message `dispatch`)     | worker         |
 * | `queues.schedulerEvents`   | "look at this now" events and schedule wake-ups          | scheduler      |
 * | `bucket`                   | DAG files, bundles, task logs, large results             | see prefixes   |
 * | `schedules`                | one `at()` wake-up per DAG + the sweep's rate schedule   | scheduler      |
 * | `rules.ecsTaskStateChange` | ECS task state changes of Fargate tries                  | task-events    |
 * | `functions`                | the Lambda functions: entry file, timeout, memory, env   |                |
 *
 * Each queue has a dead-letter queue (`<name>-dlq`) that receives a message after
 * `maxReceiveCount` receives; visibility timeouts are 6 × the consumer's timeout (Lambda's
 * guidance), taken from the message catalog.
 */
import { TABLE as TABLE_DEFINITION, type TableDefinition } from './adapters/dynamodb/table.ts';
import { type MessageType, messageCatalog } from './messages.ts';

/** Names of the functions; each lives in `functions/<name>/handler.ts` and exports `handler`. */
const FUNCTION_NAMES = ['scheduler', 'worker', 'dag-processor', 'task-events'] as const;
type FunctionName = (typeof FUNCTION_NAMES)[number];

interface QueueDefinition {
  /** Physical name suffix: a deployment prefixes it (`<stack>-dispatch`); locally it is the name. */
  name: string;
  /** Catalog messages this queue carries (the first is its main one). */
  carries: readonly MessageType[];
  /** The function whose event source reads the queue. */
  consumer: FunctionName;
  /** How long a received message stays hidden: 6 × the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the DLQ (the redrive policy). */
  maxReceiveCount: number;
  /** Messages per invocation of the consumer (Lambda event source `batchSize`, 1–10). */
  batchSize: number;
  /** Lambda event source `maxBatchingWindow`: 0 hands a message over at once (hand-off latency). */
  maxBatchingWindowSeconds: number;
  /** Lambda event source `maximumConcurrency` (2–1000): concurrent batches. */
  maxConcurrency: number;
  /** How long an unconsumed message is kept. */
  retentionSeconds: number;
  dlq: { name: string; retentionSeconds: number };
}

const DAY = 86_400;

function queue(
  name: string,
  carries: readonly MessageType[],
  consumer: FunctionName,
  opts: { batchSize: number; maxConcurrency: number },
): QueueDefinition {
  const main = messageCatalog[carries[0]!];
  return {
    name,
    carries,
    consumer,
    visibilityTimeoutSeconds: main.visibilityTimeoutSeconds,
    maxReceiveCount: main.retry.maxReceiveCount,
    batchSize: opts.batchSize,
    maxBatchingWindowSeconds: 0,
    maxConcurrency: opts.maxConcurrency,
    retentionSeconds: 4 * DAY,
    dlq: { name: `${name}-dlq`, retentionSeconds: 14 * DAY },
  };
}

const QUEUES = {
  /** One message per claimed try; a duplicate is a no-op (the worker's start is conditional). */
  dispatch: queue('dispatch', ['dispatch'], 'worker', { batchSize: 10, maxConcurrency: 64 }),
  /** Small batches and few concurrent schedulers: a pass looks at many runs at once anyway. */
  schedulerEvents: queue('scheduler-events', ['scheduler-event', 'schedule-wakeup'], 'scheduler', {
    batchSize: 10,
    maxConcurrency: 4,
  }),
} as const satisfies Record<string, QueueDefinition>;

type QueueId = keyof typeof QUEUES;

/** The one bucket and what lives under each prefix (shared/adapters/s3/keys.ts builds the keys). */
const BUCKET = {
  prefixes: {
    /** DAG files (`.ts`, `.js`) and prebuilt bundles (`.bundle.mjs`) uploaded by users. */
    dags: 'dags/',
    /** Built bundles, one per DAG version: `bundles/<dagId>/<version>.mjs`. */
    bundles: 'bundles/',
    /** Task logs, per try: `logs/<dagId>/<runId>/<taskId>/<mapIndex>/<try>/<chunk>.log`. */
    logs: 'logs/',
    /** Results too large for the task-instance item: `results/<dagId>/<runId>/<taskId>/<mapIndex>/<try>.json`. */
    results: 'results/',
  },
  /** S3 notifications to the dag-processor: objects created or removed under `dags/`. */
  dagEvents: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as const,
  /** Days a task log or large result is kept. */
  logRetentionDays: 90,
} as const;

/** EventBridge Scheduler: one-time `at()` wake-ups per DAG in one group, plus the sweep. */
const SCHEDULES = {
  /** Group name suffix (a deployment prefixes it). */
  group: 'updraft',
  /** The sweep: due retries, silent heartbeats, stuck dispatches, leaked slots. */
  sweep: { rateMinutes: 1, message: { type: 'sweep' } as const },
  retry: messageCatalog['schedule-wakeup'].retry,
} as const;

/** EventBridge rules. */
const RULES = {
  /** ECS says a Fargate try's task stopped: the task-events function ends the try. */
  ecsTaskStateChange: {
    consumer: 'task-events' as FunctionName,
    eventPattern: {
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { lastStatus: ['STOPPED'], startedBy: [{ prefix: 'updraft' }] },
    },
  },
} as const;

/** Environment variables the functions read (each `functions/<name>/config.ts` parses its own). */
const ENV = {
  tableName: 'TABLE_NAME',
  dispatchQueueUrl: 'DISPATCH_QUEUE_URL',
  schedulerEventsQueueUrl: 'SCHEDULER_EVENTS_QUEUE_URL',
  bucketName: 'BUCKET_NAME',
  scheduleGroup: 'SCHEDULE_GROUP',
  scheduleTargetArn: 'SCHEDULE_TARGET_ARN',
  scheduleRoleArn: 'SCHEDULE_ROLE_ARN',
  scheduleDlqArn: 'SCHEDULE_DLQ_ARN',
  notificationsTopicArn: 'NOTIFICATIONS_TOPIC_ARN',
  ecsCluster: 'ECS_CLUSTER',
  ecsTaskDefinition: 'ECS_TASK_DEFINITION',
  ecsContainerName: 'ECS_CONTAINER_NAME',
  ecsSubnets: 'ECS_SUBNETS',
  ecsSecurityGroups: 'ECS_SECURITY_GROUPS',
  /** `ENABLED` gives Fargate tasks a public IP (public subnets without a NAT gateway); else none. */
  ecsAssignPublicIp: 'ECS_ASSIGN_PUBLIC_IP',
  /** The api function's authentication: `IAM` or `JWT` behind API Gateway, `TOKEN` self-hosted. */
  apiAuthMode: 'API_AUTH_MODE',
  /** Optional JSON of SchedulerSettings overrides (parallelism, heartbeatTimeoutMs, dagDefaults, …). */
  settings: 'UPDRAFT_SETTINGS',
  /** Optional items per hot counter of the DynamoDB store (its `counterShards`; default 1): every function the same. */
  counterShards: 'UPDRAFT_COUNTER_SHARDS',
  /** Optional endpoint of emulators (local runs only). */
  awsEndpoint: 'AWS_ENDPOINT_URL',
} as const;

type EnvKey = keyof typeof ENV;

interface FunctionDefinition {
  /** Entry file for `NodejsFunction`; it exports `handler`. */
  entry: string;
  timeoutSeconds: number;
  memoryMiB: number;
  /** Environment variables it needs (names in `ENV`). */
  env: readonly EnvKey[];
  /** Resources it reads or writes, for IAM grants. */
  uses: {
    table: 'read' | 'readWrite';
    queues: readonly QueueId[];
    bucket: 'none' | 'read' | 'readWrite';
    schedules: boolean;
    ecs: boolean;
    notifications: boolean;
  };
  /** Modules the bundler must leave out and install (esbuild-wasm ships a .wasm file). */
  nodeModules?: readonly string[];
}

const SCHEDULING_ENV = [
  'tableName',
  'dispatchQueueUrl',
  'schedulerEventsQueueUrl',
  'scheduleGroup',
  'scheduleTargetArn',
  'scheduleRoleArn',
  'scheduleDlqArn',
  'settings',
  'counterShards',
] as const satisfies readonly EnvKey[];

const FUNCTIONS: Record<FunctionName, FunctionDefinition> = {
  scheduler: {
    entry: 'functions/scheduler/handler.ts',
    timeoutSeconds: messageCatalog['scheduler-event'].consumerTimeoutSeconds,
    // I/O-bound: a pass is store round trips in series (docs/deploy.md "Function memory").
    memoryMiB: 512,
    env: [...SCHEDULING_ENV, 'bucketName', 'notificationsTopicArn'],
    uses: {
      table: 'readWrite',
      queues: ['dispatch', 'schedulerEvents'],
      bucket: 'read',
      schedules: true,
      ecs: false,
      notifications: true,
    },
  },
  worker: {
    entry: 'functions/worker/handler.ts',
    timeoutSeconds: messageCatalog.dispatch.consumerTimeoutSeconds,
    memoryMiB: 1024,
    env: [
      ...SCHEDULING_ENV,
      'bucketName',
      'notificationsTopicArn',
      'ecsCluster',
      'ecsTaskDefinition',
      'ecsContainerName',
      'ecsSubnets',
      'ecsSecurityGroups',
      'ecsAssignPublicIp',
    ],
    uses: {
      table: 'readWrite',
      queues: ['dispatch', 'schedulerEvents'],
      bucket: 'readWrite',
      // A run finished by the worker's downstream pass sets its DAG's next wake-up.
      schedules: true,
      ecs: true,
      notifications: true,
    },
  },
  'dag-processor': {
    entry: 'functions/dag-processor/handler.ts',
    timeoutSeconds: 120,
    memoryMiB: 2048,
    env: [...SCHEDULING_ENV, 'bucketName'],
    uses: {
      table: 'readWrite',
      queues: ['schedulerEvents'],
      bucket: 'readWrite',
      schedules: true,
      ecs: false,
      notifications: false,
    },
    nodeModules: ['esbuild-wasm'],
  },
  'task-events': {
    entry: 'functions/task-events/handler.ts',
    timeoutSeconds: 60,
    memoryMiB: 512,
    env: [...SCHEDULING_ENV, 'bucketName', 'notificationsTopicArn'],
    uses: {
      table: 'readWrite',
      queues: ['schedulerEvents'],
      bucket: 'readWrite',
      schedules: false,
      ecs: false,
      notifications: true,
    },
  },
};

/**
 * The HTTP API's function (API Gateway HTTP API → Lambda; functions/api). Apart from the others:
 * its handler builds its dependencies at import and it consumes no queue. It never dispatches nor
 * moves schedules (the scheduler does, on the events it publishes).
 */
const API_FUNCTION: FunctionDefinition = {
  entry: 'functions/api/handler.ts',
  timeoutSeconds: 29,
  memoryMiB: 1024,
  env: ['tableName', 'schedulerEventsQueueUrl', 'bucketName', 'apiAuthMode', 'settings', 'counterShards'],
  uses: {
    table: 'readWrite',
    queues: ['schedulerEvents'],
    bucket: 'read',
    schedules: false,
    ecs: false,
    notifications: false,
  },
};

/** Everything, in one value. */
const RESOURCES = {
  table: TABLE_DEFINITION,
  queues: QUEUES,
  bucket: BUCKET,
  schedules: SCHEDULES,
  rules: RULES,
  functions: FUNCTIONS,
  apiFunction: API_FUNCTION,
  env: ENV,
} as const;

export {
  API_FUNCTION,
  BUCKET,
  ENV,
  type EnvKey,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionDefinition,
  type FunctionName,
  QUEUES,
  type QueueDefinition,
  type QueueId,
  RESOURCES,
  RULES,
  SCHEDULES,
  TABLE_DEFINITION as TABLE,
  type TableDefinition,
};
