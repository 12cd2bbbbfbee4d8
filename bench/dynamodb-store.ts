/**
 * The DynamoDB store on DynamoDB Local: write units per task instance over its whole life, items
 * read per claimed instance, and claims per second beside the raw conditional-write rate of the same
 * emulator. DynamoDB Local's ConsumedCapacity is not realistic, so write units are counted from the
 * request log: ⌈item size / 1 KB⌉ per written item, ×2 inside transactions, plus one write per global
 * secondary index the item enters or stays in (at its size) and one per index it leaves.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTableInput, TABLE } from '#adapters/dynamodb/table.ts';
import { compileDag } from '#core/compile.ts';
import { DEFAULT_SETTINGS } from '#core/model.ts';
import type { DispatchMessage } from '#ports';
import { dag } from '#sdk/index.ts';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { startDynamoDbLocal } from '../cli/dev/dynamodb-local.ts';

type Attr = { S?: string; N?: string };
type Item = Record<string, Attr>;

const WRITE_PRICE = 0.625 / 1e6;
const READ_PRICE = 0.125 / 1e6;

function size(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes += name.length + (value.S?.length ?? 0) + (value.N?.length ?? 0);
  return bytes;
}

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const indexKeys = TABLE.globalSecondaryIndexes.map((i) => i.partitionKey);

/** Counts write units and items read per request, by the phase of a task instance's life. */
class MeteredClient extends DynamoDBClient {
  phase = 'setup';
  readonly writes = new Map<string, number>();
  readonly reads = new Map<string, number>();
  readonly last = new Map<string, Item>();

  #write(units: number) {
    this.writes.set(this.phase, (this.writes.get(this.phase) ?? 0) + units);
  }

  #put(item: Item, transactional: boolean) {
    const key = `${item.pk?.S}|${item.sk?.S}`;
    const before = this.last.get(key);
    this.last.set(key, item);
    this.#write(units(size(item)) * (transactional ? 2 : 1));
    for (const pk of indexKeys) {
      if (item[pk]) this.#write(units(size(item)));
      else if (before?.[pk]) this.#write(1);
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: wraps every overload of send.
  override async send(command: any, ...rest: any[]): Promise<any> {
    const name: string = command.constructor.name;
    const input = command.input;
    if (name === 'PutItemCommand') this.#put(input.Item, false);
    if (name === 'UpdateItemCommand') this.#write(1);
    if (name === 'TransactWriteItemsCommand') {
      for (const action of input.TransactItems) {
        if (action.Put) this.#put(action.Put.Item, true);
        else this.#write(2); // counter updates: small items, 1 KB, doubled in a transaction
      }
    }
    const out = (await super.send(command, ...rest)) as {
      Items?: unknown[];
      Item?: unknown;
      Responses?: Record<string, unknown[]>;
    };
    const read = out.Items?.length ?? (out.Item ? 1 : 0) + Object.values(out.Responses ?? {}).flat().length;
    this.reads.set(this.phase, (this.reads.get(this.phase) ?? 0) + read);
    return out;
  }
}

async function benchDynamoDbStore(
  options: { tasks?: number } = {},
): Promise<Record<string, string | number>> {
  const tasks = options.tasks ?? 500;
  const ddb = await startDynamoDbLocal();
  try {
    const config = {
      endpoint: ddb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    };
    const client = new MeteredClient(config);
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
    await store.putPool({ name: 'default_pool', slots: -1, description: '', includeDeferred: false });
    const flat = compileDag(
      dag('flat', { maxActiveTasks: 100_000 }, (d) => {
        for (let i = 0; i < tasks; i += 1) d.task(`t${i}`, async () => null);
      }),
    );
    const { dag: record } = await registerDag(deps, flat, { now: Date.now(), fileloc: null });
    await store.updateDag('flat', record.updatedAt, { paused: false, nextRun: null }, Date.now());

    client.phase = 'create';
    const run = await triggerRun(deps, { dagId: 'flat', now: Date.now() });
    client.phase = 'schedule + claim';
    const started = performance.now();
    while (queue.length < tasks) await schedulerPass(deps, { now: Date.now(), dagIds: [], runs: [run] });
    const claimSeconds = (performance.now() - started) / 1000;
    const claimReads = client.reads.get('schedule + claim') ?? 0;
    client.phase = 'start';
    const begun = [];
    for (const message of queue)
      begun.push(await beginTry(deps, message, { now: Date.now(), workerId: 'w' }));
    client.phase = 'end';
    for (const b of begun)
      if (b.kind === 'started') await finishTry(deps, b.started, { state: 'success' }, Date.now());

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
    };
  } finally {
    await ddb.stop();
  }
}

export { benchDynamoDbStore };
