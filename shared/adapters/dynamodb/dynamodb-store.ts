/**
 * The state store on DynamoDB (docs/state-store.md): one table, conditional writes, claims and
 * try ends as transactions with their counters. Proven by the same contract suite as the memory store.
 */
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import {
  type Backfill,
  type CounterKey,
  type DagRecord,
  type DagRun,
  DEFAULT_POOL,
  DEFAULT_POOL_SLOTS,
  type ImportError,
  type Pool,
  registeredDag,
  type TaskInstance,
  type TiKey,
  type WaitReason,
} from '#core/model.ts';
import { isRunFinished, type RunState } from '#core/states.ts';
import type {
  ClaimRequest,
  ClaimResult,
  CounterState,
  Page,
  PageRequest,
  StateStore,
  TiChange,
  TryEnd,
} from '#ports';
import { type Item, Items, itemOf, keyOf, N, recordOf, S } from './items.ts';
import { keys, pad, tiIndexes } from './keys.ts';
import { chunks, claimBatch, endTryTransaction } from './slots.ts';

const DEFAULT: Pool = {
  name: DEFAULT_POOL,
  slots: DEFAULT_POOL_SLOTS,
  description: 'Default pool',
  includeDeferred: false,
};

function dagItem(dag: DagRecord): Item {
  const due = dag.active && !dag.paused && dag.nextRun;
  return itemOf(keys.dag(dag.dagId), 'dag', dag, {
    updatedAt: dag.updatedAt,
    dagPk: 'DAGS',
    dagSk: dag.dagId,
    activePk: due ? 'DUE' : null,
    activeSk: due && dag.nextRun ? `${pad(dag.nextRun.runAfter)}#${dag.dagId}` : null,
  });
}

function runItem(run: DagRun): Item {
  const open = !isRunFinished(run.state);
  return itemOf(keys.run(run.dagId, run.runId), 'run', run, {
    state: run.state,
    dagPk: `DAG#${run.dagId}#RUNS`,
    dagSk: `${pad(run.logicalDate)}#${pad(run.createdAt)}#${run.runId}`,
    activePk: open ? 'RUNS' : null,
    activeSk: open ? `${run.dagId}#${pad(run.logicalDate)}#${run.runId}` : null,
  });
}

function tiItem(ti: TaskInstance): Item {
  return itemOf(keys.ti(ti), 'ti', ti, {
    state: ti.state,
    tryNumber: ti.tryNumber,
    dagId: ti.dagId,
    taskId: ti.taskId,
    ...tiIndexes(ti),
  });
}

/** A task instance with the attributes written beside its record (wait reason, heartbeat). */
function tiOf(item: Item): TaskInstance {
  const ti = recordOf<TaskInstance>(item, 'ti');
  if (item.waitReason?.S !== undefined) ti.waitReason = JSON.parse(item.waitReason.S) as WaitReason | null;
  if (item.heartbeatAt?.N !== undefined) ti.heartbeatAt = Number(item.heartbeatAt.N);
  return ti;
}

const stateIs = (state: string) => ({
  expression: '#state = :state',
  names: { '#state': 'state' },
  values: { ':state': S(state) },
});
const absent = { expression: 'attribute_not_exists(pk)' };

class DynamoDbStateStore implements StateStore {
  readonly #items: Items;

  constructor(client: DynamoDBClient, table: string) {
    this.#items = new Items(client, table);
  }

  // ---- DAGs

  async registerDagVersion(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ) {
    const newVersion = await this.#items.put(
      itemOf(keys.version(manifest.dagId, manifest.hash), 'version', manifest),
      absent,
    );
    for (;;) {
      const existing = await this.getDag(manifest.dagId);
      const dag = registeredDag(existing, manifest, opts);
      const written = existing
        ? await this.#items.put(dagItem(dag), {
            expression: 'updatedAt = :u',
            values: { ':u': N(existing.updatedAt) },
          })
        : await this.#items.put(dagItem(dag), absent);
      if (written) return { dag, newVersion };
    }
  }

  async getDag(dagId: string) {
    const item = await this.#items.get(keys.dag(dagId));
    return item ? recordOf<DagRecord>(item, 'dag') : null;
  }

  async listDags(request: PageRequest = {}) {
    const page = await this.#items.query(
      {
        IndexName: 'byDag',
        KeyConditionExpression: 'dagPk = :p',
        ExpressionAttributeValues: { ':p': S('DAGS') },
        Limit: request.limit ?? 100,
      },
      request.cursor,
    );
    return { items: page.items.map((i) => recordOf<DagRecord>(i, 'dag')), next: page.next };
  }

  async getDagVersion(dagId: string, version: string) {
    const item = await this.#items.get(keys.version(dagId, version));
    return item ? recordOf<DagManifest>(item, 'version') : null;
  }

  async updateDag(
    dagId: string,
    expectUpdatedAt: number,
    patch: Partial<Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>>,
    now: number,
  ) {
    const dag = await this.getDag(dagId);
    if (!dag || dag.updatedAt !== expectUpdatedAt) return false;
    const next = { ...dag, ...patch, updatedAt: Math.max(now, dag.updatedAt + 1) };
    return this.#items.put(dagItem(next), {
      expression: 'updatedAt = :u',
      values: { ':u': N(expectUpdatedAt) },
    });
  }

  async listDagsDue(now: number, limit: number) {
    const page = await this.#items.query({
      IndexName: 'active',
      KeyConditionExpression: 'activePk = :p AND activeSk < :until',
      ExpressionAttributeValues: { ':p': S('DUE'), ':until': S(`${pad(now + 1)}`) },
      Limit: limit,
    });
    return page.items.map((i) => recordOf<DagRecord>(i, 'dag'));
  }

  async recordImportError(dagId: string | null, error: ImportError) {
    await this.#items.put(
      itemOf(
        keys.importError(error.fileloc),
        'importError',
        { ...error, dagId },
        { activePk: 'IMPORTERRS', activeSk: error.fileloc },
      ),
    );
    if (dagId) await this.#patchDag(dagId, { importError: error });
  }

  async #patchDag(dagId: string, patch: Partial<DagRecord>) {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const dag = await this.getDag(dagId);
      if (!dag) return;
      const next = { ...dag, ...patch, updatedAt: dag.updatedAt + 1 };
      if (
        await this.#items.put(dagItem(next), {
          expression: 'updatedAt = :u',
          values: { ':u': N(dag.updatedAt) },
        })
      )
        return;
    }
  }

  async listImportErrors() {
    const items = await this.#items.queryAll({
      IndexName: 'active',
      KeyConditionExpression: 'activePk = :p',
      ExpressionAttributeValues: { ':p': S('IMPORTERRS') },
    });
    return items.map((i) => {
      const { dagId: _, ...error } = recordOf<ImportError & { dagId: string | null }>(i, 'importError');
      return error;
    });
  }

  async clearImportError(fileloc: string) {
    const item = await this.#items.get(keys.importError(fileloc));
    if (!item) return;
    const { dagId } = recordOf<ImportError & { dagId: string | null }>(item, 'importError');
    await this.#items.client.send(
      new DeleteItemCommand({ TableName: this.#items.table, Key: keyOf(keys.importError(fileloc)) }),
    );
    if (dagId) await this.#patchDag(dagId, { importError: null });
  }

  // ---- runs

  async createRun(run: DagRun, tis: TaskInstance[]) {
    const created = await this.#items.put(runItem(run), absent);
    // Each instance is written only if absent, so a repeat completes what an interrupted call left.
    await Promise.all(tis.map((ti) => this.#items.put(tiItem(ti), absent)));
    return { created };
  }

  async getRun(dagId: string, runId: string) {
    const item = await this.#items.get(keys.run(dagId, runId));
    return item ? recordOf<DagRun>(item, 'run') : null;
  }

  async listRuns(dagId: string, opts: PageRequest & { states?: RunState[] } = {}) {
    const page = await this.#items.query(
      {
        IndexName: 'byDag',
        KeyConditionExpression: 'dagPk = :p',
        ExpressionAttributeValues: { ':p': S(`DAG#${dagId}#RUNS`) },
        ScanIndexForward: false,
        Limit: opts.limit ?? 100,
      },
      opts.cursor,
    );
    const runs = page.items.map((i) => recordOf<DagRun>(i, 'run'));
    return {
      items: opts.states ? runs.filter((r) => opts.states!.includes(r.state)) : runs,
      next: page.next,
    };
  }

  async listUnfinishedRuns(opts: PageRequest & { dagId?: string } = {}) {
    const page = await this.#items.query(
      {
        IndexName: 'active',
        KeyConditionExpression: opts.dagId ? 'activePk = :p AND begins_with(activeSk, :d)' : 'activePk = :p',
        ExpressionAttributeValues: { ':p': S('RUNS'), ...(opts.dagId ? { ':d': S(`${opts.dagId}#`) } : {}) },
        Limit: opts.limit ?? 1000,
      },
      opts.cursor,
    );
    return { items: page.items.map((i) => recordOf<DagRun>(i, 'run')), next: page.next };
  }

  async findRunByLogicalDate(dagId: string, logicalDate: number) {
    const items = await this.#items.queryAll({
      IndexName: 'byDag',
      KeyConditionExpression: 'dagPk = :p AND begins_with(dagSk, :d)',
      ExpressionAttributeValues: { ':p': S(`DAG#${dagId}#RUNS`), ':d': S(`${pad(logicalDate)}#`) },
    });
    const runs = items.map((i) => recordOf<DagRun>(i, 'run')).sort((a, b) => a.createdAt - b.createdAt);
    return runs.at(-1) ?? null;
  }

  async updateRun(
    dagId: string,
    runId: string,
    expect: { state: RunState },
    patch: Partial<Omit<DagRun, 'dagId' | 'runId'>>,
  ) {
    const run = await this.getRun(dagId, runId);
    if (!run || run.state !== expect.state) return false;
    return this.#items.put(runItem({ ...run, ...patch }), stateIs(expect.state));
  }

  // ---- task instances

  async listTis(dagId: string, runId: string) {
    const items = await this.#items.queryAll({
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :t)',
      ExpressionAttributeValues: { ':p': S(`RUN#${dagId}#${runId}`), ':t': S('TI#') },
      ConsistentRead: true,
    });
    return items.map(tiOf);
  }

  async getTi(key: TiKey) {
    const item = await this.#items.get(keys.ti(key));
    return item ? tiOf(item) : null;
  }

  async #putTi(next: TaskInstance, expect: { state: string; tryNumber: number }) {
    return this.#items.put(tiItem(next), {
      expression: '#state = :s AND #tryNumber = :t',
      names: { '#state': 'state', '#tryNumber': 'tryNumber' },
      values: { ':s': S(expect.state), ':t': N(expect.tryNumber) },
    });
  }

  async updateTis(changes: TiChange[]) {
    const applied: TiKey[] = [];
    const lost: TiKey[] = [];
    for (const change of changes) {
      const ti = await this.getTi(change.key);
      const fresh = ti && ti.state === change.expect.state && ti.tryNumber === change.expect.tryNumber;
      if (
        fresh &&
        ti.holds.length > 0 &&
        change.set.state &&
        change.set.state !== 'queued' &&
        change.set.state !== 'running'
      ) {
        throw new Error(
          `updateTis cannot end the try of ${change.key.taskId}, which holds slots: use endTry`,
        );
      }
      if (fresh && (await this.#putTi({ ...ti, ...change.set }, change.expect))) applied.push(change.key);
      else lost.push(change.key);
    }
    return { applied, lost };
  }

  async setWaitReasons(reasons: { key: TiKey; reason: WaitReason | null }[]) {
    await Promise.all(
      reasons.map(({ key, reason }) =>
        this.#items.client
          .send(
            new UpdateItemCommand({
              TableName: this.#items.table,
              Key: keyOf(keys.ti(key)),
              UpdateExpression: 'SET waitReason = :r',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':r': S(JSON.stringify(reason)) },
            }),
          )
          .catch((error: Error) => {
            if (error.name !== 'ConditionalCheckFailedException') throw error;
          }),
      ),
    );
  }

  // ---- claiming

  async listClaimCandidates(query: {
    pool: string;
    limit: number;
    cursor?: string | null;
    exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
  }): Promise<Page<TaskInstance>> {
    const excludedDags = new Set(query.exclude?.dagIds ?? []);
    const excludedTasks = new Set((query.exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
    const out: TaskInstance[] = [];
    let cursor = query.cursor ?? null;
    do {
      const page = await this.#items.query(
        {
          IndexName: 'claim',
          KeyConditionExpression: 'claimPk = :p',
          ExpressionAttributeValues: { ':p': S(`POOL#${query.pool}`) },
          Limit: query.limit - out.length,
        },
        cursor,
      );
      for (const ti of page.items.map(tiOf)) {
        if (!excludedDags.has(ti.dagId) && !excludedTasks.has(`${ti.dagId}/${ti.taskId}`)) out.push(ti);
      }
      cursor = page.next;
    } while (cursor && out.length < query.limit);
    return { items: out, next: cursor };
  }

  async readCounters(counters: CounterKey[]): Promise<CounterState[]> {
    const used = new Map<string, number>();
    for (let i = 0; i < counters.length; i += 100) {
      const batch = counters.slice(i, i + 100).map((c) => keys.counter(c));
      const unique = [...new Map(batch.map((k) => [k.pk, k])).values()];
      let request: Record<string, { Keys: Item[] }> | undefined = {
        [this.#items.table]: { Keys: unique.map(keyOf) },
      };
      while (request && Object.keys(request).length > 0) {
        const out = await this.#items.client.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.#items.table] ?? [])
          used.set(item.pk!.S!, Number(item.used?.N ?? 0));
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return counters.map((key) => ({ key, used: used.get(keys.counter(key).pk) ?? 0 }));
  }

  async claim(requests: ClaimRequest[]): Promise<ClaimResult> {
    const result: ClaimResult = { claimed: [], lost: [] };
    const read = await Promise.all(
      requests.map(async (request) => ({ request, current: await this.getTi(request.key) })),
    );
    const live: { request: ClaimRequest; current: TaskInstance }[] = [];
    for (const { request, current } of read) {
      if (!current || current.state !== 'scheduled' || current.tryNumber !== request.tryNumber) {
        result.lost.push({ key: request.key, reason: 'ti_changed' });
      } else live.push({ request, current });
    }
    for (const batch of chunks(live)) {
      const out = await claimBatch(this.#items, batch, tiItem);
      result.claimed.push(...out.claimed);
      result.lost.push(...out.lost);
    }
    return result;
  }

  async listCounters(): Promise<CounterState[]> {
    const items = await this.#items.queryAll({
      IndexName: 'active',
      KeyConditionExpression: 'activePk = :p',
      ExpressionAttributeValues: { ':p': S('CTRS') },
    });
    return items.map((i) => ({
      key: JSON.parse(i.counterKey!.S!) as CounterKey,
      used: Number(i.used?.N ?? 0),
    }));
  }

  async startTry(key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
    const ti = await this.getTi(key);
    if (!ti || ti.state !== 'queued' || ti.tryNumber !== tryNumber) return false;
    const next: TaskInstance = {
      ...ti,
      state: 'running',
      startedAt: opts.now,
      heartbeatAt: opts.now,
      workerId: opts.workerId,
    };
    return this.#putTi(next, { state: 'queued', tryNumber });
  }

  async heartbeat(key: TiKey, tryNumber: number, now: number) {
    try {
      await this.#items.client.send(
        new UpdateItemCommand({
          TableName: this.#items.table,
          Key: keyOf(keys.ti(key)),
          UpdateExpression: 'SET heartbeatAt = :now',
          ConditionExpression: '#state = :running AND #tryNumber = :t',
          ExpressionAttributeNames: { '#state': 'state', '#tryNumber': 'tryNumber' },
          ExpressionAttributeValues: { ':now': N(now), ':running': S('running'), ':t': N(tryNumber) },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async endTry(end: TryEnd) {
    const ti = await this.getTi(end.key);
    if (!ti || ti.state !== end.expect.state || ti.tryNumber !== end.expect.tryNumber) return false;
    return endTryTransaction(this.#items, ti, tiItem({ ...ti, ...end.set, holds: [] }), end.expect);
  }

  async listHoldingTis(request: PageRequest = {}) {
    const page = await this.#items.query(
      {
        IndexName: 'holding',
        KeyConditionExpression: 'holdPk = :p',
        ExpressionAttributeValues: { ':p': S('HOLD') },
        Limit: request.limit ?? 1000,
      },
      request.cursor,
    );
    return { items: page.items.map(tiOf), next: page.next };
  }

  async listDueWaits(now: number, limit: number) {
    const items = await this.#items.queryAll({
      IndexName: 'waits',
      KeyConditionExpression: 'waitPk = :p AND waitSk < :until',
      ExpressionAttributeValues: { ':p': S('WAIT'), ':until': S(pad(now + 1)) },
      Limit: limit,
    });
    const tis = await Promise.all(items.map((i) => this.#items.get({ pk: i.pk!.S!, sk: i.sk!.S! })));
    return tis
      .filter((i): i is Item => i !== null)
      .map(tiOf)
      .filter((ti) =>
        ti.state === 'up_for_retry'
          ? (ti.nextRetryAt ?? Infinity) < now
          : (ti.rescheduleAt ?? Infinity) <= now,
      )
      .slice(0, limit);
  }

  // ---- pools

  async getPool(name: string) {
    const item = await this.#items.get(keys.pool(name));
    if (item) return recordOf<Pool>(item, 'pool');
    return name === DEFAULT_POOL ? { ...DEFAULT } : null;
  }

  async listPools() {
    const items = await this.#items.queryAll({
      IndexName: 'active',
      KeyConditionExpression: 'activePk = :p',
      ExpressionAttributeValues: { ':p': S('POOLS') },
    });
    const pools = items.map((i) => recordOf<Pool>(i, 'pool'));
    if (!pools.some((p) => p.name === DEFAULT_POOL)) pools.push({ ...DEFAULT });
    return pools.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async putPool(pool: Pool) {
    await this.#items.put(
      itemOf(keys.pool(pool.name), 'pool', pool, { activePk: 'POOLS', activeSk: pool.name }),
    );
  }

  async deletePool(name: string) {
    if (name === DEFAULT_POOL) throw new ConflictError('default_pool cannot be deleted (resize it instead)');
    try {
      await this.#items.client.send(
        new DeleteItemCommand({
          TableName: this.#items.table,
          Key: keyOf(keys.pool(name)),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  // ---- backfills

  #backfillItem(backfill: Backfill): Item {
    return itemOf(keys.backfill(backfill.backfillId), 'backfill', backfill, {
      dagPk: `DAG#${backfill.dagId}#BACKFILLS`,
      dagSk: `${pad(backfill.createdAt)}#${backfill.backfillId}`,
    });
  }

  async createBackfill(backfill: Backfill) {
    return { created: await this.#items.put(this.#backfillItem(backfill), absent) };
  }

  async getBackfill(backfillId: string) {
    const item = await this.#items.get(keys.backfill(backfillId));
    return item ? recordOf<Backfill>(item, 'backfill') : null;
  }

  async listBackfills(dagId: string) {
    const items = await this.#items.queryAll({
      IndexName: 'byDag',
      KeyConditionExpression: 'dagPk = :p',
      ExpressionAttributeValues: { ':p': S(`DAG#${dagId}#BACKFILLS`) },
      ScanIndexForward: false,
    });
    return items.map((i) => recordOf<Backfill>(i, 'backfill'));
  }

  async updateBackfill(backfillId: string, patch: Partial<Pick<Backfill, 'completedAt' | 'cancelledAt'>>) {
    const backfill = await this.getBackfill(backfillId);
    if (!backfill) return false;
    return this.#items.put(this.#backfillItem({ ...backfill, ...patch }), {
      expression: 'attribute_exists(pk)',
    });
  }
}

export { DynamoDbStateStore };
