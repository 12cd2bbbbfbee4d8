/**
 * The whole local stack (`npm start`'s code paths: the handlers behind SQS pollers on fauxqs,
 * DynamoDB Local), measured end to end.
 *
 * - `handoff`: a chain of 200 no-op tasks; per link, downstream start − upstream end, from the task
 *   instances' own timestamps. Beside it, the round trip of one DynamoDB Local read in the same run,
 *   since every link is a chain of store calls.
 * - `throughput`: 2,000 no-op tasks of one run in a 64-slot pool: task instances per second from
 *   trigger to the run's end, beside DynamoDB Local's raw conditional-write rate (64 at a time, like
 *   the pool). A second, metered run counts per task instance: DynamoDB write units (the exact meter
 *   of bench/dynamodb-store.ts) and items read, SQS requests, function invocations and their busy
 *   time; and prices 1M task instances at list prices.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import type { DagRun, TaskInstance } from '#core/model.ts';
import type { StateStore } from '#ports';
import { triggerRun } from '#services/trigger-run.ts';
import { compute } from '../cli/dev/invocation-meter.ts';
import {
  type AwsRequest,
  type Invoked,
  type LocalStack,
  startLocalStack,
  type TimedRequest,
} from '../cli/dev/stack.ts';
import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts';
import { FUNCTIONS, type FunctionName } from '../shared/resources.ts';
import { MeteredClient } from './dynamodb-store.ts';

const PRICES = {
  /** DynamoDB on-demand, per write / read request unit. */
  write: 0.625 / 1e6,
  read: 0.125 / 1e6,
  sqsRequest: 0.4 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
};

/**
 * What a request takes in AWS, from a function in the table's region (ms): our assumption, on the
 * high side of what is published (DynamoDB: "single-digit millisecond" for item reads and writes;
 * transactions about 2–3× a single write, more with more items, alexdebrie.com/posts/
 * dynamodb-transactions-performance; SQS and S3 tens of ms). Lambda bills the wall time of an
 * invocation, waiting included, so a function's duration on AWS is its computing plus these; the
 * local emulators are slower (DynamoDB Local ≈ 6–30 ms a request, a transaction up to ≈ 40 ms on
 * this machine), which is why the bench prints both.
 */
function awsLatencyMs(request: TimedRequest): number {
  if (request.service === 's3') return 30;
  if (request.service === 'sqs') return 15;
  if (request.command === 'TransactWriteItemsCommand') return 12 + request.size;
  if (request.command === 'BatchGetItemCommand' || request.command === 'BatchWriteItemCommand')
    return 8 + request.size / 10;
  return 8;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

function chainSource(n: number): string {
  return `import { dag } from 'updraft/sdk';
export default dag('chain', { schedule: null, maxActiveTasks: 16 }, (d) => {
  let previous = null;
  for (let i = 0; i < ${n}; i += 1) {
    const task = d.task('t' + String(i).padStart(4, '0'), async () => null);
    if (previous) previous.before(task);
    previous = task;
  }
});
`;
}

function flatSource(n: number): string {
  return `import { dag } from 'updraft/sdk';
export default dag('flat', { schedule: null, maxActiveTasks: ${n} }, (d) => {
  for (let i = 0; i < ${n}; i += 1) d.task('t' + String(i).padStart(4, '0'), { pool: 'bench' }, async () => null);
});
`;
}

async function finished(store: StateStore, dagId: string, runId: string): Promise<DagRun> {
  for (;;) {
    const run = await store.getRun(dagId, runId);
    if (run?.state === 'success' || run?.state === 'failed') return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Puts the DAG file, triggers a run and waits for it to finish. `watch` is the store the bench
 * polls the run and lists its instances with (a metered run's is unmetered: the polling is the
 * bench's, not the system's).
 */
async function runDag(
  stack: LocalStack,
  file: string,
  source: string,
  dagId: string,
  watch: StateStore = stack.deps.store,
) {
  await stack.putDagFile(file, source);
  const started = performance.now();
  const run = await triggerRun(stack.deps, { dagId, now: Date.now() });
  const done = await finished(watch, dagId, run.runId);
  const seconds = (performance.now() - started) / 1000;
  if (done.state !== 'success') throw new Error(`bench run ${dagId} ended ${done.state}`);
  const tis = await watch.listTis(dagId, run.runId);
  return { seconds, tis };
}

/** Median round trip of one GetItem on DynamoDB Local, now. */
async function readRoundTripMs(client: DynamoDBClient, table: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const t = performance.now();
    await client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'NONE' }, sk: { S: 'NONE' } } }),
    );
    times.push(performance.now() - t);
  }
  return quantile(times, 0.5);
}

type Metered = 'scheduler' | 'worker';
const INVOKED: Invoked[] = ['scheduler', 'worker', 'dagProcessor', 'taskEvents'];
const FUNCTION_OF: Record<Invoked, FunctionName> = {
  scheduler: 'scheduler',
  worker: 'worker',
  dagProcessor: 'dag-processor',
  taskEvents: 'task-events',
};

/**
 * The share of a vCPU a function has in AWS at the memory it is deployed with (FUNCTIONS, the
 * defaults infra/props.ts deploys): Lambda allocates CPU in proportion to memory, one vCPU at
 * 1,769 MB (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A core of this machine
 * is taken as one vCPU of Graviton.
 */
const vcpus = (fn: Invoked) => Math.min(1, FUNCTIONS[FUNCTION_OF[fn]].memoryMiB / 1769);

/**
 * What the stack's functions did from `before` on, per task: invocations, busy time, own compute
 * and GB-s (at each one's configured memory, as infra/props.ts deploys it by default); and the CPU
 * time of this process since `cpuBefore` — the functions' CPU and also fauxqs's and the pollers'
 * (DynamoDB Local is another process) — beside the invocations' own compute summed, which must not
 * be more (the check of the meter's attribution).
 */
function lambdaFigures(
  stack: LocalStack,
  before: LocalStack['stats'],
  cpuBefore: NodeJS.CpuUsage,
  segmentsBefore: number,
  tasks: number,
  modelled = true,
) {
  const fns: Metered[] = ['scheduler', 'worker'];
  const invocations = (fn: Metered) => stack.stats.invocations[fn] - before.invocations[fn];
  const busyMs = (fn: Metered) => stack.stats.busyMs[fn] - before.busyMs[fn];
  const ioMs = (fn: Metered) => stack.stats.ioMs[fn] - before.ioMs[fn];
  const modeledMs = (fn: Metered) => stack.stats.modeledMs[fn] - before.modeledMs[fn];
  const computeMs = (fn: Invoked) => stack.stats.computeMs[fn] - before.computeMs[fn];
  const gb = (fn: Metered) => FUNCTIONS[fn].memoryMiB / 1024;
  const gbSeconds = (fn: Metered) => (busyMs(fn) / 1000) * gb(fn);
  const modeledGbSeconds = (fn: Metered) => (modeledMs(fn) / 1000) * gb(fn);
  const total = fns.reduce((sum, fn) => sum + gbSeconds(fn), 0) / tasks;
  const modeledTotal = fns.reduce((sum, fn) => sum + modeledGbSeconds(fn), 0) / tasks;
  const requests = fns.reduce((sum, fn) => sum + invocations(fn), 0) / tasks;
  const figures: Record<string, string> = {};
  for (const fn of fns) {
    figures[`  ${fn} invocations`] = (invocations(fn) / tasks).toFixed(3);
    figures[`    ${fn} busy per invocation (ms), at ${FUNCTIONS[fn].memoryMiB} MiB`] = (
      busyMs(fn) / Math.max(1, invocations(fn))
    ).toFixed(1);
    figures[`    ${fn} process CPU while it ran, per invocation (ms, upper bound)`] = (
      (stack.stats.cpuMs[fn] - before.cpuMs[fn]) /
      Math.max(1, invocations(fn))
    ).toFixed(1);
    figures[`    ${fn} waiting on AWS requests, own or shared, per invocation (ms, local)`] = (
      ioMs(fn) / Math.max(1, invocations(fn))
    ).toFixed(1);
    if (!modelled) continue;
    figures[
      `    ${fn} own compute per invocation (ms of CPU in its context; modelled at ${vcpus(fn).toFixed(2)} vCPU)`
    ] = (computeMs(fn) / Math.max(1, invocations(fn))).toFixed(1);
    figures[`    ${fn} duration per invocation as AWS would bill it (ms, modelled)`] = (
      modeledMs(fn) / Math.max(1, invocations(fn))
    ).toFixed(1);
    figures[`    ${fn} GB-s (local / modelled)`] =
      `${(gbSeconds(fn) / tasks).toFixed(4)} / ${(modeledGbSeconds(fn) / tasks).toFixed(4)}`;
  }
  figures['  Lambda GB-s (local busy time × configured memory)'] = total.toFixed(4);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  figures['  CPU of the stack process (ms; functions, fauxqs, pollers, GC threads)'] = (
    cpuMs / tasks
  ).toFixed(1);
  if (!modelled) {
    figures['  Lambda as AWS would bill it'] = 'see throughput (its meter would slow the hand-off)';
    return { figures, gbSeconds: total, modeledGbSeconds: total, requests };
  }
  figures['  Lambda GB-s (modelled: own compute + requests at AWS latency, awsLatencyMs)'] =
    modeledTotal.toFixed(4);
  // The attribution's check: the functions' own compute, all four, is part of what this process did.
  const allCompute = INVOKED.reduce((sum, fn) => sum + computeMs(fn), 0);
  figures['  own compute of every invocation, all functions (ms; ≤ the CPU above)'] =
    `${(allCompute / tasks).toFixed(1)} — ${allCompute <= cpuMs ? 'within' : 'ABOVE'} the process's CPU (${((100 * allCompute) / cpuMs).toFixed(0)}%)`;
  const segments = compute.segments - segmentsBefore;
  figures['    segments charged (each holds one read of the CPU clock, ≈ µs below)'] =
    `${(segments / tasks).toFixed(0)} per task instance; ${clockReadUs().toFixed(2)} µs a read`;
  return { figures, gbSeconds: total, modeledGbSeconds: modeledTotal, requests };
}

/** What one read of the meter's CPU clock costs now, in µs. */
function clockReadUs(): number {
  const n = 100_000;
  const started = performance.now();
  for (let i = 0; i < n; i += 1) process.cpuUsage();
  return ((performance.now() - started) * 1000) / n;
}

/** `scheduleAfterTaskExecution` (the worker's downstream pass) from BENCH_MINI_SCHEDULER (0/1; unset: the default). */
function miniScheduler(): { scheduleAfterTaskExecution?: boolean } {
  const raw = process.env.BENCH_MINI_SCHEDULER;
  return raw === undefined ? {} : { scheduleAfterTaskExecution: raw !== '0' };
}

async function benchHandoff(): Promise<Record<string, string | number>> {
  const links = 200;
  const { meter, onAwsRequest } = sqsMeter();
  const stack = await startLocalStack({
    dataDir: null,
    dynamodbPort: 0,
    awsPort: 0,
    sweepEveryMs: 0,
    onAwsRequest,
    // No Lambda model here: its meter's async hooks cost the one event loop enough to lengthen the
    // hand-off (p50 210 ms against 97 back to back on a busy machine); throughput models Lambda.
    settings: miniScheduler(),
  });
  try {
    const before = await readRoundTripMs(stack.clients.ddb, stack.names.table);
    const stats = structuredClone(stack.stats);
    meter.sqs.clear();
    const segments = compute.segments;
    const cpu = process.cpuUsage();
    const { seconds, tis } = await runDag(stack, 'chain.ts', chainSource(links), 'chain');
    const lambda = lambdaFigures(stack, stats, cpu, segments, tis.length, false);
    const sqsRequests = [...meter.sqs.values()].reduce((a, b) => a + b, 0) / tis.length;
    const after = await readRoundTripMs(stack.clients.ddb, stack.names.table);
    const ordered = [...tis].sort((a, b) => a.taskId.localeCompare(b.taskId));
    const gaps: number[] = [];
    const toQueued: number[] = [];
    const toStart: number[] = [];
    for (let i = 1; i < ordered.length; i += 1) {
      const up = ordered[i - 1]!;
      const down = ordered[i]!;
      gaps.push(down.startedAt! - up.endedAt!);
      toQueued.push(down.queuedAt! - up.endedAt!);
      toStart.push(down.startedAt! - down.queuedAt!);
    }
    const roundTrip = (before + after) / 2;
    const p50 = quantile(gaps, 0.5);
    return {
      'chain of no-op tasks': links,
      'run, trigger to end (s)': seconds.toFixed(1),
      'hand-off p50 (ms)': `${p50.toFixed(0)} — target 50 ${p50 <= 50 ? 'met' : 'missed'}`,
      'hand-off p95 (ms)': quantile(gaps, 0.95).toFixed(0),
      '  upstream end → downstream queued, p50 (ms)': quantile(toQueued, 0.5).toFixed(0),
      '  queued → started, p50 (ms)': quantile(toStart, 0.5).toFixed(0),
      'DynamoDB Local read round trip, p50 (ms)': roundTrip.toFixed(1),
      'hand-off p50 in read round trips': (p50 / roundTrip).toFixed(1),
      'per task instance:': '',
      '  SQS requests (sends, receives with messages, deletes)': sqsRequests.toFixed(2),
      ...lambda.figures,
    };
  } finally {
    await stack.stop();
  }
}

/** Raw conditional puts on the same emulator, `concurrency` at a time. */
async function rawWritesPerSecond(client: DynamoDBClient, table: string, n: number, concurrency: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: `RAW#${i}` }, sk: { S: 'X' }, n: { N: '1' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

interface Meter {
  sqs: Map<string, number>;
  emptyReceives: number;
}

function sqsMeter(): { meter: Meter; onAwsRequest: (request: AwsRequest) => void } {
  const meter: Meter = { sqs: new Map(), emptyReceives: 0 };
  return {
    meter,
    onAwsRequest: ({ service, command, output }) => {
      if (service !== 'sqs') return;
      const messages = (output as { Messages?: unknown[] } | undefined)?.Messages;
      if (command === 'ReceiveMessageCommand' && !messages?.length) meter.emptyReceives += 1;
      else meter.sqs.set(command, (meter.sqs.get(command) ?? 0) + 1);
    },
  };
}

async function benchThroughput(): Promise<Record<string, string | number>> {
  const tasks = 2_000;
  const slots = 64;
  const ddb = await startDynamoDbLocal({ inMemory: true });
  const config = {
    endpoint: ddb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  };
  const common = {
    dataDir: null,
    dynamodbEndpoint: ddb.endpoint,
    awsPort: 0,
    sweepEveryMs: 0,
    pools: { bench: slots },
    settings: { parallelism: 1_024, ...miniScheduler() },
  };
  try {
    // 1. Timed, unmetered.
    const plain = await startLocalStack({ ...common, prefix: 'plain-' });
    let seconds: number;
    let peak: number;
    try {
      const timed = await runDag(plain, 'flat.ts', flatSource(tasks), 'flat');
      seconds = timed.seconds;
      peak = peakRunning(timed.tis);
    } finally {
      await plain.stop();
    }
    const raw = new DynamoDBClient(config);
    await raw.send(new CreateTableCommand(rawTable('raw')));
    const rawRate = await rawWritesPerSecond(raw, 'raw', tasks, slots);
    raw.destroy();
    console.log(
      `  (timed run: ${(tasks / seconds).toFixed(0)} task instances/s; raw ${rawRate.toFixed(0)} writes/s)`,
    );

    // 2. Metered: every DynamoDB write unit, SQS request and invocation.
    // The stack's table is `<prefix>state` (cli/dev/provision.ts).
    const metered = new MeteredClient(config, 'metered-state');
    const { meter, onAwsRequest } = sqsMeter();
    const stack = await startLocalStack({
      ...common,
      prefix: 'metered-',
      dynamodbClient: metered,
      onAwsRequest,
      requestLatencyMs: awsLatencyMs,
      vcpus,
    });
    let tisCount: number;
    try {
      metered.phase = 'run';
      for (const key of meter.sqs.keys()) meter.sqs.delete(key);
      meter.emptyReceives = 0;
      const stats = structuredClone(stack.stats);
      const segments = compute.segments;
      const cpu = process.cpuUsage();
      const watch = new DynamoDbStateStore(new DynamoDBClient(config), 'metered-state');
      const { tis } = await runDag(stack, 'flat.ts', flatSource(tasks), 'flat', watch);
      tisCount = tis.length;
      const per = (n: number) => n / tisCount;
      const wu = per(metered.writes.get('run') ?? 0);
      const itemsRead = per(metered.reads.get('run') ?? 0);
      const ru = per(metered.readUnits.get('run') ?? 0);
      const sqsRequests = per([...meter.sqs.values()].reduce((a, b) => a + b, 0));
      const lambda = lambdaFigures(stack, stats, cpu, segments, tisCount);
      const cost = {
        dynamodb: 1e6 * (wu * PRICES.write + ru * PRICES.read),
        sqs: 1e6 * sqsRequests * PRICES.sqsRequest,
        lambdaRequests: 1e6 * lambda.requests * PRICES.lambdaRequest,
        lambdaDuration: 1e6 * lambda.gbSeconds * PRICES.lambdaGbSecond,
        lambdaModeled: 1e6 * lambda.modeledGbSeconds * PRICES.lambdaGbSecond,
      };
      const rest = cost.dynamodb + cost.sqs + cost.lambdaRequests;
      const total = rest + cost.lambdaDuration;
      const modeled = rest + cost.lambdaModeled;
      const throughput = tasks / seconds;
      return {
        'task instances, pool slots': `${tasks}, ${slots}`,
        'task instances per second (trigger → run end)': throughput.toFixed(0),
        'most running at once (from timestamps)': peak,
        'DynamoDB Local raw conditional writes per second (64 at once)': rawRate.toFixed(0),
        'task instances per raw write (ratio)': (throughput / rawRate).toFixed(3),
        'per task instance (metered run):': '',
        '  DynamoDB write units': wu.toFixed(1),
        '  DynamoDB items read': itemsRead.toFixed(1),
        '  DynamoDB read units': ru.toFixed(1),
        '  SQS requests (sends, receives with messages, deletes)': sqsRequests.toFixed(2),
        ...Object.fromEntries([...meter.sqs].map(([k, v]) => [`    ${k}`, per(v).toFixed(3)])),
        '  empty receives (idle pollers; not per task)': per(meter.emptyReceives).toFixed(2),
        ...lambda.figures,
        'cost per 1M task instances ($, list prices), Lambda as AWS would bill it (modelled)': `${modeled.toFixed(2)} — target 5 ${modeled <= 5 ? 'met' : 'missed'}`,
        '  the same with Lambda at local busy time (upper bound)': `${total.toFixed(2)} — target 5 ${total <= 5 ? 'met' : 'missed'}`,
        '  DynamoDB (on-demand)': cost.dynamodb.toFixed(2),
        '  SQS': cost.sqs.toFixed(2),
        '  Lambda requests': cost.lambdaRequests.toFixed(2),
        '  Lambda duration (arm64), modelled / local busy time': `${cost.lambdaModeled.toFixed(2)} / ${cost.lambdaDuration.toFixed(2)}`,
        'Step Functions Standard, 1M transitions': '25.00',
        'where the write units and item reads go (per task instance, ≥ 0.05; read units ≥ 0.02):': '',
        ...perPart(metered.detail, tisCount, 'wu', process.env.DYNAMODB_BENCH_WHY ? 0.005 : 0.05),
        ...perPart(metered.readDetail, tisCount, 'read'),
        ...perPart(metered.readUnitDetail, tisCount, 'ru', 0.02),
      };
    } finally {
      await stack.stop();
    }
  } finally {
    await ddb.stop();
  }
}

/** The metered run's entries of a meter's detail per task instance, largest first, the small ones left out. */
function perPart(
  detail: Map<string, number>,
  tasks: number,
  label: string,
  least = 0.05,
): Record<string, string> {
  const rows = [...detail.entries()]
    .filter(([id, n]) => id.startsWith('run |') && n / tasks >= least)
    .sort((x, y) => y[1] - x[1]);
  return Object.fromEntries(
    rows.map(([id, n]) => [`  ${label}: ${id.slice('run | '.length)}`, (n / tasks).toFixed(2)]),
  );
}

function rawTable(name: string) {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
  };
}

function peakRunning(tis: TaskInstance[]): number {
  const edges: [number, number][] = [];
  for (const ti of tis)
    if (ti.startedAt !== null && ti.endedAt !== null) edges.push([ti.startedAt, 1], [ti.endedAt, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let held = 0;
  let max = 0;
  for (const [, d] of edges) {
    held += d;
    max = Math.max(max, held);
  }
  return max;
}

export { benchHandoff, benchThroughput };
