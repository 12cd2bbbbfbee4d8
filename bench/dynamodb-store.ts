/**
 * The DynamoDB store on DynamoDB Local: write units per task instance over its whole life, items
 * read per claimed instance, and claims per second beside the raw conditional-write rate of the same
 * emulator. DynamoDB Local's ConsumedCapacity is not realistic, so write units are counted from the
 * request log and each written item's images before and after (writeUnits: DynamoDB's rules for
 * items and for each global secondary index, with its projection).
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { tiItem } from '#adapters/dynamodb/entities.ts';
import { createTableInput, TABLE } from '#adapters/dynamodb/table.ts';
import { compileDag } from '#core/compile.ts';
import { DEFAULT_SETTINGS } from '#core/model.ts';
import type { DispatchMessage } from '#ports';
import { dag } from '#sdk/index.ts';
import { claimAndDispatch } from '#services/claim-pass.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts';
import { QUEUES } from '../shared/resources.ts';
import { ti } from '../test/support/factories.ts';

type Attr = { S?: string; N?: string; SS?: string[]; B?: Uint8Array };
type Item = Record<string, Attr>;

const WRITE_PRICE = 0.625 / 1e6;
const READ_PRICE = 0.125 / 1e6;

function size(item: Item | null | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes +=
      name.length +
      (value.S?.length ?? 0) +
      (value.N?.length ?? 0) +
      (value.B?.length ?? 0) +
      (value.SS?.join('').length ?? 0);
  return bytes;
}

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * Write units of one item write from its images before and after (DynamoDB's rules): the larger
 * image in 1 KB units (×2 in a transaction); per index, a put of the projected entry when the item
 * enters it, a delete when it leaves, both when an index key changes, and an update of the entry
 * when a projected attribute changes (any change for ALL, none for KEYS_ONLY). Split into the
 * item's own write (`item`) and each index's (by index name).
 */
function writeUnitParts(
  before: Item | null,
  after: Item | null,
  transactional: boolean,
): Map<string, number> {
  const parts = new Map<string, number>();
  parts.set('item', units(Math.max(size(before), size(after))) * (transactional ? 2 : 1));
  for (const index of TABLE.globalSecondaryIndexes) {
    const keyOf = (item: Item | null) =>
      item?.[index.partitionKey] && item[index.sortKey]
        ? `${item[index.partitionKey]!.S}|${item[index.sortKey]!.S}`
        : null;
    const [b, a] = [keyOf(before), keyOf(after)];
    const entry = (item: Item) =>
      index.projection === 'ALL' ? size(item) : 100 + (index.partitionKey.length + index.sortKey.length) * 2;
    let wu = 0;
    if (!b && !a) continue;
    if (b && !a) wu = 1;
    else if (!b && a) wu = units(entry(after!));
    else if (b !== a) wu = 1 + units(entry(after!));
    else if (index.projection === 'ALL' && JSON.stringify(before) !== JSON.stringify(after))
      wu = units(size(after));
    if (wu > 0) parts.set(index.name, wu);
  }
  return parts;
}

/**
 * Read units of one request (DynamoDB's rules): a get per item, its size in 4 KB units (at least 1,
 * also for a key with no item, in a batch too);
 * a query or scan, the items' total size in 4 KB units (at least 1); half for an eventually
 * consistent read, twice in a transaction. Sizes are the items returned (a filter is not used).
 */
function readUnits(
  command: string,
  input: {
    ConsistentRead?: boolean;
    RequestItems?: Record<string, { ConsistentRead?: boolean; Keys?: unknown[] }>;
  },
  out: { Items?: unknown[]; Item?: unknown; Responses?: Record<string, unknown[]> | unknown[] },
): number {
  const rate = (consistent: boolean | undefined) => (consistent ? 1 : 0.5);
  const perItem = (items: unknown[], factor: number) =>
    items.reduce<number>((sum, item) => sum + Math.ceil(Math.max(1, size(item as Item)) / 4096) * factor, 0);
  if (command === 'GetItemCommand')
    return out.Item ? perItem([out.Item], rate(input.ConsistentRead)) : rate(input.ConsistentRead);
  if (command === 'QueryCommand' || command === 'ScanCommand') {
    const bytes = (out.Items ?? []).reduce<number>((sum, item) => sum + size(item as Item), 0);
    return Math.max(1, Math.ceil(bytes / 4096)) * rate(input.ConsistentRead);
  }
  if (command === 'BatchGetItemCommand') {
    // Each key is read as a GetItem: one with no item still costs the minimum.
    const requests = Object.values(input.RequestItems ?? {}) as {
      ConsistentRead?: boolean;
      Keys?: unknown[];
    }[];
    const consistent = requests[0]?.ConsistentRead;
    const found = Object.values((out.Responses ?? {}) as Record<string, unknown[]>).flat();
    const asked = requests.reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
    const unprocessed = Object.values(
      (out as { UnprocessedKeys?: Record<string, { Keys?: unknown[] }> }).UnprocessedKeys ?? {},
    ).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
    const absent = Math.max(0, asked - unprocessed - found.length);
    return perItem(found, rate(consistent)) + absent * rate(consistent);
  }
  if (command === 'TransactGetItemsCommand')
    return perItem(
      ((out.Responses ?? []) as { Item?: unknown }[]).flatMap((r) => (r.Item ? [r.Item] : [])),
      2,
    );
  return 0;
}

/** A read request's shape: command, index, partition prefix, sort key condition, consistency. */
function readShape(
  command: string,
  input: {
    IndexName?: string;
    KeyConditionExpression?: string;
    ConsistentRead?: boolean;
    ExpressionAttributeValues?: Record<string, Attr>;
    RequestItems?: Record<string, { ConsistentRead?: boolean }>;
  },
): string {
  const name = command.replace('Command', '');
  if (name === 'BatchGetItem')
    return `${name}${Object.values(input.RequestItems ?? {})[0]?.ConsistentRead ? '' : ' ec'}`;
  if (name !== 'Query') return `${name}${input.ConsistentRead ? '' : ' ec'}`;
  const values = Object.values(input.ExpressionAttributeValues ?? {});
  const part = (values[0]?.S ?? '').split('#')[0];
  const sk = input.KeyConditionExpression?.includes('BETWEEN')
    ? ' sk range'
    : input.KeyConditionExpression?.includes('begins_with')
      ? ' sk prefix'
      : '';
  return `${name}${input.IndexName ? ` ${input.IndexName}` : ''} ${part}${sk}${input.ConsistentRead ? '' : ' ec'}`;
}

/** The store's frames that made a request: the first two in shared/ outside items.ts. */
function callerOf(stack: string): string {
  const frames = stack
    .split('\n')
    .filter((line) => line.includes('/shared/') && !line.includes('/items.ts'))
    .slice(0, 2)
    .map((line) =>
      line
        .trim()
        .replace(/^at (async )?/, '')
        .replace(/ \(.*\/shared\//, ' (')
        .replace(/:\d+\)$/, ')'),
    );
  return frames.join(' < ') || '?';
}

/**
 * Counts write units and items read per request, by the phase of a task instance's life. Each
 * written item is read back with a separate client (not counted) to know its image after the write.
 */
class MeteredClient extends DynamoDBClient {
  phase = 'setup';
  readonly writes = new Map<string, number>();
  /** Write units by phase, request, entity type and part (the item or an index). */
  readonly detail = new Map<string, number>();
  /** Items read by phase, request and index (partition prefix for queries). */
  readonly readDetail = new Map<string, number>();
  readonly reads = new Map<string, number>();
  /** Read request units billed on demand (see `readUnits`), by phase. */
  readonly readUnits = new Map<string, number>();
  /**
   * Read units by phase, request, index, partition prefix, consistency and the store's caller (the
   * first frames of shared/ outside items.ts), so a figure names the code that read it.
   */
  readonly readUnitDetail = new Map<string, number>();
  readonly images = new Map<string, Item | null>();
  readonly #raw: DynamoDBClient;
  readonly #table: string;

  constructor(config: ConstructorParameters<typeof DynamoDBClient>[0] & object, table: string) {
    super(config);
    this.#raw = new DynamoDBClient(config);
    this.#table = table;
  }

  #add(map: Map<string, number>, n: number) {
    map.set(this.phase, (map.get(this.phase) ?? 0) + n);
  }

  async #settle(keys: Item[], transactional: boolean, command: string) {
    for (const key of keys) {
      const id = `${key.pk?.S}|${key.sk?.S}`;
      const before = this.images.get(id) ?? null;
      const out = await this.#raw.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: key as Record<string, AttributeValue>,
          ConsistentRead: true,
        }),
      );
      const after = (out.Item as Item | undefined) ?? null;
      this.images.set(id, after);
      if (!before && !after) continue;
      const type = (after ?? before)?.type?.S ?? '?';
      for (const [part, wu] of writeUnitParts(before, after, transactional)) {
        this.#add(this.writes, wu);
        const id = `${this.phase} | ${command} | ${type} | ${part}`;
        this.detail.set(id, (this.detail.get(id) ?? 0) + wu);
      }
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: wraps every overload of send.
  override async send(command: any, ...rest: any[]): Promise<any> {
    const name: string = command.constructor.name;
    const input = command.input;
    const keyOf = (item: Item) => ({ pk: item.pk!, sk: item.sk! });
    let written: Item[] = [];
    let transactional = false;
    if (name === 'PutItemCommand') written = [keyOf(input.Item)];
    if (name === 'UpdateItemCommand' || name === 'DeleteItemCommand') written = [input.Key];
    if (name === 'BatchWriteItemCommand')
      written = Object.values(input.RequestItems as Record<string, { PutRequest?: { Item: Item } }[]>)
        .flat()
        .map((r) => keyOf(r.PutRequest!.Item));
    if (name === 'TransactWriteItemsCommand') {
      transactional = true;
      written = input.TransactItems.map((a: { Put?: { Item: Item }; Update?: { Key: Item } }) =>
        a.Put ? keyOf(a.Put.Item) : a.Update!.Key,
      );
    }
    let out: { Items?: unknown[]; Item?: unknown; Responses?: Record<string, unknown[]> };
    try {
      out = (await super.send(command, ...rest)) as typeof out;
    } catch (error) {
      // A failed condition still costs a write unit per item it was checked on.
      if (written.length > 0) {
        const wu = written.length * (transactional ? 2 : 1);
        this.#add(this.writes, wu);
        // What failed: the kinds of the items whose condition failed (a run partition's: an instance).
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
        const kinds = new Set<string>();
        reasons?.forEach((r, i) => {
          if (r.Code === 'ConditionalCheckFailed') kinds.add(String(written[i]?.pk?.S).split('#')[0]!);
          else if (r.Code && r.Code !== 'None') kinds.add(r.Code);
        });
        const failed = [...kinds].sort().join('+');
        // `DYNAMODB_BENCH_WHY=1`: also what failed and the store's caller.
        const why = process.env.DYNAMODB_BENCH_WHY ? ` ${failed} | ${callerOf(new Error().stack ?? '')}` : '';
        const id = `${this.phase} | ${name.replace('Command', '')} | failed condition${why}`;
        this.detail.set(id, (this.detail.get(id) ?? 0) + wu);
      }
      throw error;
    }
    if (written.length > 0) await this.#settle(written, transactional, name.replace('Command', ''));
    const read = out.Items?.length ?? (out.Item ? 1 : 0) + Object.values(out.Responses ?? {}).flat().length;
    this.#add(this.reads, read);
    const ru = readUnits(name, input, out);
    this.#add(this.readUnits, ru);
    if (ru > 0) {
      const id = `${this.phase} | ${readShape(name, input)} | ${callerOf(new Error().stack ?? '')}`;
      this.readUnitDetail.set(id, (this.readUnitDetail.get(id) ?? 0) + ru);
    }
    if (read > 0) {
      const on = input.IndexName ? ` ${input.IndexName}` : '';
      // A query is told apart by its partition's prefix (POOL, PARKED, HOLD, CTRS, …).
      const values = Object.values((input.ExpressionAttributeValues ?? {}) as Record<string, Attr>);
      const type = name === 'QueryCommand' ? ` ${(values[0]?.S ?? '').split('#')[0]}` : '';
      const id = `${this.phase} | ${name.replace('Command', '')}${on}${type}`;
      this.readDetail.set(id, (this.readDetail.get(id) ?? 0) + read);
    }
    return out;
  }
}

async function benchDynamoDbStore(
  options: { tasks?: number } = {},
): Promise<Record<string, string | number>> {
  const tasks = options.tasks ?? 500;
  const ddb = await startDynamoDbLocal({ inMemory: true });
  try {
    const config = {
      endpoint: ddb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    };
    // `DYNAMODB_BENCH_LIFE=0`: only the waiting-reads figure.
    if (process.env.DYNAMODB_BENCH_LIFE === '0') return await waitingReads(config);
    const client = new MeteredClient(config, 'bench');
    await client.send(new CreateTableCommand(createTableInput('bench')));
    const store = new DynamoDbStateStore(client, 'bench');
    const queue: DispatchMessage[] = [];
    const deps: ServiceDeps = {
      store,
      settings: { ...DEFAULT_SETTINGS, parallelism: 10_000, maxTisPerQuery: 100 },
      logger: silentLogger,
      manifests: new ManifestCache(store),
      dispatcher: { dispatch: async (m) => void queue.push(...m) },
      events: { publish: async () => {} },
      schedules: { setNextWakeUp: async () => {} },
    };
    // `DYNAMODB_BENCH_POOL=64`: a pool of that many slots, so most instances wait scheduled for
    // one (as in the throughput bench); the tries are then started and ended after each pass.
    const slots = Number(process.env.DYNAMODB_BENCH_POOL ?? -1);
    await store.putPool({ name: 'default_pool', slots, description: '', includeDeferred: false });
    const flat = compileDag(
      dag('flat', { maxActiveTasks: 100_000 }, (d) => {
        for (let i = 0; i < tasks; i += 1) d.task(`t${i}`, async () => null);
      }),
    );
    const { dag: record } = await registerDag(deps, flat, { now: Date.now(), fileloc: null });
    await store.updateDag('flat', record.updatedAt, { paused: false, nextRun: null }, Date.now());

    client.phase = 'create';
    const run = await triggerRun(deps, { dagId: 'flat', now: Date.now() });
    // As a worker ends the tries of one SQS batch (functions/worker/handler.ts): together, so the
    // store's group commit of try ends (try-ends.ts) can coalesce them. 1: one end at a time.
    const endBatch = Math.max(1, Number(process.env.DYNAMODB_BENCH_END_BATCH ?? QUEUES.dispatch.batchSize));
    const started = performance.now();
    for (let done = 0; done < tasks; ) {
      client.phase = 'schedule + claim';
      const before = queue.length;
      while (queue.length === before) await schedulerPass(deps, { now: Date.now(), dagIds: [], runs: [run] });
      if (slots === -1 && queue.length < tasks) continue;
      const batch = queue.slice(done);
      done = queue.length;
      client.phase = 'start';
      const begun = [];
      for (const message of batch)
        begun.push(await beginTry(deps, message, { now: Date.now(), workerId: 'w' }));
      client.phase = 'end';
      const ending = begun.flatMap((b) => (b.kind === 'started' ? [b.started] : []));
      for (let i = 0; i < ending.length; i += endBatch)
        await Promise.allSettled(
          ending.slice(i, i + endBatch).map((s) => finishTry(deps, s, { state: 'success' }, Date.now())),
        );
    }
    const meteredSeconds = (performance.now() - started) / 1000;
    const claimReads = client.reads.get('schedule + claim') ?? 0;

    // Claims per second without the meter (it reads back every written item): a second run, plain client.
    const plain = new DynamoDBClient(config);
    const plainStore = new DynamoDbStateStore(plain, 'bench');
    const plainQueue: DispatchMessage[] = [];
    const plainDeps: ServiceDeps = {
      ...deps,
      store: plainStore,
      manifests: new ManifestCache(plainStore),
      dispatcher: { dispatch: async (m) => void plainQueue.push(...m) },
    };
    const timed = performance.now();
    // A limited pool's claims wait for try ends: the rate is the metered run's, then.
    if (slots === -1) {
      const second = await triggerRun(plainDeps, { dagId: 'flat', now: Date.now() + 1 });
      while (plainQueue.length < tasks)
        await schedulerPass(plainDeps, { now: Date.now(), dagIds: [], runs: [second] });
    }
    const claimSeconds = slots === -1 ? (performance.now() - timed) / 1000 : meteredSeconds;

    // Raw conditional writes of the same emulator, for the ratio.
    const raw = new DynamoDBClient(config);
    const rawStart = performance.now();
    for (let i = 0; i < tasks; i += 1) {
      await raw.send(
        new PutItemCommand({
          TableName: 'bench',
          Item: { pk: { S: `RAW#${i}` }, sk: { S: 'X' }, n: { N: '1' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    }
    const rawPerSecond = tasks / ((performance.now() - rawStart) / 1000);
    const perTi = (phase: string) => (client.writes.get(phase) ?? 0) / tasks;
    const totalWrites = ['create', 'schedule + claim', 'start', 'end'].reduce((sum, p) => sum + perTi(p), 0);
    const totalReads =
      [...client.reads.entries()].filter(([p]) => p !== 'setup').reduce((sum, [, r]) => sum + r, 0) / tasks;
    const claimsPerSecond = tasks / claimSeconds;
    return {
      'task instances': tasks,
      'write units per task instance (total)': totalWrites.toFixed(1),
      '  create (with its run)': perTi('create').toFixed(1),
      '  scheduled + claimed': perTi('schedule + claim').toFixed(1),
      '  started': perTi('start').toFixed(1),
      '  ended (slots released)': perTi('end').toFixed(1),
      'items read per claimed instance': (claimReads / tasks).toFixed(2),
      'claims per second': claimsPerSecond.toFixed(0),
      'raw conditional writes per second': rawPerSecond.toFixed(0),
      'claims per raw write (ratio)': (claimsPerSecond / rawPerSecond).toFixed(2),
      'cost per 1M task instances ($, on-demand)': (
        totalWrites * 1e6 * WRITE_PRICE +
        totalReads * 1e6 * READ_PRICE
      ).toFixed(2),
      ...breakdown(client, tasks),
      ...(await waitingReads(config)),
    };
  } finally {
    await ddb.stop();
  }
}

/** Write units per task instance by phase, request, entity and part (item or index), largest first per phase. */
function breakdown(client: MeteredClient, tasks: number): Record<string, string> {
  const out: Record<string, string> = {};
  const rows = [...client.detail.entries()].filter(([id]) => !id.startsWith('setup'));
  for (const [id, wu] of rows) out[`  wu: ${id}`] = (wu / tasks).toFixed(2);
  return out;
}

/** Backlog sizes of the waiting-reads figure (`DYNAMODB_BENCH_WAITING=1000,10000`; `0`: none). */
function waitingSizes(): number[] {
  const text = process.env.DYNAMODB_BENCH_WAITING ?? '1000,10000,100000';
  return text
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
}

/**
 * Items read per claimed instance in claim passes over a backlog of N waiting instances (1,000,
 * 10,000, 100,000), the first HOT_BACKLOG of them from a DAG at maxActiveTasks 5 and ahead in
 * priority. Three passes, the claimed tries ended between them; the figure is items read (queries,
 * gets, batch gets) over instances claimed.
 *
 * Two ways the hot DAG's backlog can arrive:
 * - `saturated` (the figure): the DAG already runs 5 tries when its 300 instances become scheduled
 *   (through the store's updateTis, as advance-runs writes them), so they are written parked; its
 *   5 tries end after the first pass, letting 5 back.
 * - `cold`: the 300 became scheduled before the DAG's counter was ever raised (seeded straight into
 *   the pool's partition), so the first pass reads them once and parks them.
 */
const HOT_BACKLOG = 300;
const HOT_LIMIT = 5;

type Scenario = 'saturated' | 'cold';

/** Items written straight into the table, 25 per request, 8 requests at a time. */
async function seed(raw: DynamoDBClient, table: string, items: Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25 * 8) {
    await Promise.all(
      Array.from({ length: 8 }, (_, j) => items.slice(i + j * 25, i + (j + 1) * 25))
        .filter((chunk) => chunk.length > 0)
        .map(async (chunk) => {
          let request: Record<string, { PutRequest: { Item: Item } }[]> | undefined = {
            [table]: chunk.map((Item) => ({ PutRequest: { Item } })),
          };
          while (request && (request[table]?.length ?? 0) > 0) {
            const out = await raw.send(
              new BatchWriteItemCommand({ RequestItems: request as Record<string, never[]> }),
            );
            request = out.UnprocessedItems as typeof request;
          }
        }),
    );
  }
}

async function waitingReads(config: ConstructorParameters<typeof DynamoDBClient>[0] & object) {
  const out: Record<string, string> = {};
  const sizes = waitingSizes();
  const cold = (process.env.DYNAMODB_BENCH_COLD ?? String(sizes[0] ?? 0))
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const runs: [number, Scenario][] = [
    ...sizes.map((n): [number, Scenario] => [n, 'saturated']),
    ...cold.map((n): [number, Scenario] => [n, 'cold']),
  ];
  for (const [waiting, scenario] of runs) {
    const table = `waiting_${scenario}_${waiting}`;
    const client = new MeteredClient(config, table);
    await client.send(new CreateTableCommand(createTableInput(table)));
    const store = new DynamoDbStateStore(client, table);
    const queue: DispatchMessage[] = [];
    const deps: ServiceDeps = {
      store,
      settings: { ...DEFAULT_SETTINGS, parallelism: 100_000, maxTisPerQuery: 100 },
      logger: silentLogger,
      manifests: new ManifestCache(store),
      dispatcher: { dispatch: async (m) => void queue.push(...m) },
      events: { publish: async () => {} },
      schedules: { setNextWakeUp: async () => {} },
    };
    await store.putPool({ name: 'bench', slots: 100, description: '', includeDeferred: false });
    const manifests = [
      compileDag(
        dag(
          'hot',
          { maxActiveTasks: HOT_LIMIT },
          (d) => void d.task('t', { pool: 'bench', priorityWeight: 10 }, async () => null),
        ),
      ),
      compileDag(
        dag(
          'wide',
          { maxActiveTasks: 100_000 },
          (d) => void d.task('t', { pool: 'bench', priorityWeight: 1 }, async () => null),
        ),
      ),
    ];
    for (const m of manifests) {
      const { dag: record } = await registerDag(deps, m, { now: Date.now(), fileloc: null });
      await store.updateDag(m.dagId, record.updatedAt, { paused: false, nextRun: null }, Date.now());
    }
    const instance = (i: number, state: 'scheduled' | 'none') => {
      const m = manifests[i < HOT_BACKLOG + HOT_LIMIT ? 0 : 1]!;
      return ti({
        dagId: m.dagId,
        runId: `r${String(i).padStart(6, '0')}`,
        taskId: 't',
        pool: 'bench',
        priorityWeight: m.dagId === 'hot' ? 10 : 1,
        dagVersion: m.hash,
        logicalDate: Date.UTC(2026, 0, 1) + i,
        ...(state === 'none' && { state: 'none', tryNumber: 0 }),
      });
    };
    // The backlog, one instance per run, written straight as items; the hot DAG's first.
    const raw = new DynamoDBClient(config);
    const seedStarted = performance.now();
    const running: DispatchMessage[] = [];
    if (scenario === 'saturated') {
      // The hot DAG runs HOT_LIMIT tries, then its backlog becomes scheduled through updateTis.
      const first = Array.from({ length: HOT_LIMIT }, (_, i) => instance(i, 'scheduled'));
      await seed(raw, table, first.map(tiItem));
      const claim = await store.claim(
        first.map((t) => ({
          key: t,
          tryNumber: t.tryNumber,
          queuedAt: Date.now(),
          holds: [{ counter: { kind: 'dag', dagId: 'hot' }, amount: 1, limit: HOT_LIMIT }],
        })),
      );
      for (const key of claim.claimed) {
        running.push({ key, tryNumber: 1, dagVersion: manifests[0]!.hash, executor: 'lambda' });
        await store.startTry(key, 1, { now: Date.now(), workerId: 'w' });
      }
      const backlog = Array.from({ length: HOT_BACKLOG }, (_, i) => instance(HOT_LIMIT + i, 'none'));
      await seed(raw, table, backlog.map(tiItem));
      for (let i = 0; i < backlog.length; i += 100)
        await store.updateTis(
          backlog.slice(i, i + 100).map((t) => ({
            key: t,
            expect: { state: 'none', tryNumber: 0 },
            set: { state: 'scheduled', tryNumber: 1, scheduledAt: Date.now() },
          })),
        );
    } else {
      await seed(
        raw,
        table,
        Array.from({ length: HOT_BACKLOG + HOT_LIMIT }, (_, i) => tiItem(instance(i, 'scheduled'))),
      );
    }
    const rest = waiting - HOT_BACKLOG - (scenario === 'cold' ? HOT_LIMIT : 0);
    await seed(
      raw,
      table,
      Array.from({ length: Math.max(0, rest) }, (_, i) =>
        tiItem(instance(HOT_BACKLOG + HOT_LIMIT + i, 'scheduled')),
      ),
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    let claimed = 0;
    const perPass: string[] = [];
    for (let pass = 0; pass < 3; pass += 1) {
      client.phase = 'passes';
      const before = client.reads.get('passes') ?? 0;
      const report = await claimAndDispatch(deps, Date.now());
      claimed += report.claimed;
      perPass.push(`${(client.reads.get('passes') ?? 0) - before}/${report.claimed}`);
      client.phase = 'between';
      // The claimed tries end, and after the first pass the hot DAG's running ones (saturated).
      for (const m of queue.splice(0)) {
        await store.startTry(m.key, m.tryNumber, { now: Date.now(), workerId: 'w' });
        await store.endTry({
          key: m.key,
          expect: { state: 'running', tryNumber: m.tryNumber },
          set: { state: 'success' },
        });
      }
      for (const m of running.splice(0))
        await store.endTry({
          key: m.key,
          expect: { state: 'running', tryNumber: m.tryNumber },
          set: { state: 'success' },
        });
    }
    const label = `${waiting.toLocaleString('en')} waiting${scenario === 'cold' ? ' (cold: hot DAG scheduled before it ever ran)' : ''}`;
    out[`items read per claimed instance, ${label}`] =
      `${((client.reads.get('passes') ?? 0) / claimed).toFixed(2)} (${claimed} claimed in 3 passes; read/claimed per pass ${perPass.join(', ')}; seeded in ${seedSeconds.toFixed(0)} s)`;
    for (const [id, n] of client.readDetail)
      if (id.startsWith('passes')) out[`  reads, ${scenario} ${waiting}: ${id}`] = (n / claimed).toFixed(2);
    raw.destroy();
  }
  return out;
}

export { benchDynamoDbStore, MeteredClient };
