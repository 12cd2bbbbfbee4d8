/**
 * The state store on DynamoDB (docs/state-store.md): one table, conditional writes, claims and try
 * ends as transactions with their counters. This class wires the port to the modules beside it; it
 * is cheap to make (one per table and client), and takes any DynamoDBClient, so tests can hand it a
 * fault-injecting one. Proven by the same contract suite as the memory store, on DynamoDB Local.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import {
  type Backfill,
  type BackfillPatch,
  type CounterKey,
  type DagRecord,
  type DagRun,
  DEFAULT_POOL,
  DEFAULT_POOL_SLOTS,
  type ImportError,
  type Pool,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import type { SharedWorkObserver } from '#core/shared-work.ts';
import { isFinished, isRunFinished, type RunState } from '#core/states.ts';
import type {
  ClaimRequest,
  ClaimResult,
  CounterState,
  Logger,
  Page,
  PageRequest,
  StateStore,
  TiChange,
  TryEnd,
} from '#ports';
import { type CandidateQuery, listClaimCandidates, setAsideBlocked } from './candidates.ts';
import { claim } from './claim.ts';
import {
  backfillAtRevision,
  backfillBeforeRevisions,
  both,
  itemAbsent,
  itemPresent,
  runStillAsRead,
} from './conditions.ts';
import { listCounters, readCounters } from './counters.ts';
import * as dags from './dags.ts';
import {
  backfillItem,
  backfillOf,
  isIncompleteRun,
  poolItem,
  runItem,
  runOf,
  tiOf,
  triesOf,
} from './entities.ts';
import { DELIST_AFTER_MS, listHolders, listLive } from './holders.ts';
import { Items } from './items.ts';
import { keys, pad } from './keys.ts';
import { type Item, N, recordOf, S } from './marshal.ts';
import { isBlock, listedChanges, listedRecords, pendingOf, tisOfBlock } from './pending.ts';
import { forgetListed, isReadyList, listedCandidate } from './ready.ts';
import { reconcile, SETTLE_MS } from './reconcile.ts';
import { createRun } from './runs.ts';
import { getTis, itemsByRun } from './ti-reads.ts';
import * as tries from './tries.ts';
import { type TryEndGroupStats, TryEndGroups } from './try-ends.ts';

export interface DynamoDbStoreOptions {
  /** Wall clock for parking and counter bookkeeping; tests may pass their own. @default Date.now */
  now?: () => number;
  /**
   * How long a counter must have been still before the reconciler judges it: longer than the
   * `active` index (the unfinished runs, through which holders are found) can lag its items
   * (reconcile.ts). DynamoDB Local's indexes do not lag.
   * @default 10_000
   */
  reconcileSettleMs?: number;
  /**
   * How long a finished run stays in the unfinished-runs list after it ended when it finished with
   * an instance unsettled (holders.ts): longer than any pass can live, so none that read it as
   * running can still schedule one of its instances. Tests may shorten it.
   * @default 960_000 (16 minutes: Lambda's 15-minute limit and a minute)
   */
  delistAfterMs?: number;
  /**
   * Items per hot counter (`global`, each `pool`, each `executor`): one item takes about 500
   * transactional writes a second, so a pool whose tries end faster than that needs more
   * (docs/state-store.md, "Hot counters"). A limit splits into min(counterShards, limit) shares.
   * Raise it freely; lowering it strands what shards above the new count hold until they drain.
   * @default 1
   */
  counterShards?: number;
  /**
   * Most try ends one transaction commits together (try-ends.ts): ends that coincide (a worker's
   * batch) lower each counter once per group instead of once per end. 1 turns grouping off.
   * @default 25
   */
  tryEndGroup?: number;
  /** Where the store reports what goes wrong in work it does after a call returned (letting parked work back). */
  logger?: Pick<Logger, 'warn'>;
  /**
   * Sees the work the store does for several callers at once (a group commit of try ends, the
   * let-back after it), for a meter that charges each caller's wait (the local stack's model of
   * Lambda's bill). @default none
   */
  sharedWork?: SharedWorkObserver;
}

const DEFAULT: Pool = {
  name: DEFAULT_POOL,
  slots: DEFAULT_POOL_SLOTS,
  description: 'Default pool',
  includeDeferred: false,
};

class DynamoDbStateStore implements StateStore {
  readonly #items: Items;
  readonly #now: () => number;
  readonly #settleMs: number;
  readonly #delistAfterMs: number;
  readonly #shards: number;
  readonly #ends: TryEndGroups | null;
  /** The tries this store started, as written, so their ends need no read (tries.ts). */
  readonly #started = new tries.StartedTries();

  constructor(client: DynamoDBClient, table: string, options: DynamoDbStoreOptions = {}) {
    this.#items = new Items(client, table);
    this.#now = options.now ?? Date.now;
    this.#settleMs = options.reconcileSettleMs ?? SETTLE_MS;
    this.#delistAfterMs = options.delistAfterMs ?? DELIST_AFTER_MS;
    this.#shards = Math.max(1, Math.floor(options.counterShards ?? 1));
    const group = Math.floor(options.tryEndGroup ?? 25);
    this.#ends =
      group >= 2 ? new TryEndGroups(this.#items, this.#now, group, options.logger, options.sharedWork) : null;
  }

  // ---- DAGs

  registerDagVersion(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ) {
    return dags.registerDagVersion(this.#items, manifest, opts);
  }

  getDag(dagId: string) {
    return dags.getDag(this.#items, dagId);
  }

  listDags(request?: PageRequest) {
    return dags.listDags(this.#items, request);
  }

  listDagVersions(dagId: string) {
    return dags.listDagVersions(this.#items, dagId);
  }

  getDagVersion(dagId: string, version: string) {
    return dags.getDagVersion(this.#items, dagId, version);
  }

  updateDag(
    dagId: string,
    expectUpdatedAt: number,
    patch: Partial<Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>>,
    now: number,
  ) {
    return dags.updateDag(this.#items, dagId, expectUpdatedAt, patch, now);
  }

  listDagsDue(now: number, limit: number) {
    return dags.listDagsDue(this.#items, now, limit);
  }

  recordImportError(dagId: string | null, error: ImportError) {
    return dags.recordImportError(this.#items, dagId, error);
  }

  listImportErrors() {
    return dags.listImportErrors(this.#items);
  }

  clearImportError(fileloc: string) {
    return dags.clearImportError(this.#items, fileloc);
  }

  // ---- runs

  createRun(run: DagRun, tis: TaskInstance[]) {
    return createRun(this.#items, run, tis);
  }

  async getRun(dagId: string, runId: string, opts: { consistent?: boolean } = {}) {
    const item = await this.#items.get(keys.run(dagId, runId), opts.consistent ?? true);
    return item ? runOf(item) : null;
  }

  async listRuns(dagId: string, opts: PageRequest & { states?: RunState[] } = {}): Promise<Page<DagRun>> {
    const page = await this.#items.query(
      {
        IndexName: 'byDag',
        KeyConditionExpression: 'dagPk = :runs',
        ScanIndexForward: false,
        Limit: opts.limit ?? 100,
      },
      { ':runs': S(`DAG#${dagId}#RUNS`) },
      opts.cursor,
    );
    const runs = page.items.map(runOf);
    return {
      items: opts.states ? runs.filter((r) => opts.states!.includes(r.state)) : runs,
      next: page.next,
    };
  }

  async listUnfinishedRuns(opts: PageRequest & { dagId?: string } = {}): Promise<Page<DagRun>> {
    const page = await this.#items.query(
      {
        IndexName: 'active',
        KeyConditionExpression: opts.dagId
          ? 'activePk = :runs AND begins_with(activeSk, :dag)'
          : 'activePk = :runs',
        Limit: opts.limit ?? 1000,
      },
      { ':runs': S('RUNS'), ...(opts.dagId && { ':dag': S(`${opts.dagId}#`) }) },
      opts.cursor,
    );
    // A run that finished while an instance was live stays listed until the sweep delists it (holders.ts).
    return { items: page.items.map(runOf).filter((run) => !isRunFinished(run.state)), next: page.next };
  }

  async findRunByLogicalDate(dagId: string, logicalDate: number) {
    const items = await this.#items.queryAll(
      { IndexName: 'byDag', KeyConditionExpression: 'dagPk = :runs AND begins_with(dagSk, :date)' },
      { ':runs': S(`DAG#${dagId}#RUNS`), ':date': S(`${pad(logicalDate)}#`) },
    );
    return (
      items
        .map(runOf)
        .sort((a, b) => a.createdAt - b.createdAt)
        .at(-1) ?? null
    );
  }

  async updateRun(
    dagId: string,
    runId: string,
    expect: { state: RunState },
    patch: Partial<Omit<DagRun, 'dagId' | 'runId'>>,
  ) {
    const item = await this.#items.get(keys.run(dagId, runId));
    if (!item) return false;
    const run = runOf(item);
    if (run.state !== expect.state) return false;
    const next = { ...run, ...patch, dagId, runId };
    // A listed run that finishes with an instance unsettled (live, or still to run: a mark settles
    // them after the run, and a pass that read the run as running may schedule one meanwhile) stays
    // listed, so the sweep and the reconciler find its holders (holders.ts); the reconciler delists
    // it once nothing is live and no pass that read it as running can be left (DELIST_AFTER_MS).
    const keepListed =
      isRunFinished(next.state) &&
      item.activePk?.S === 'RUNS' &&
      (await this.listTis(dagId, runId)).some((ti) => !isFinished(ti.state));
    // A run still being filled stays out of the unfinished-runs index until createRun completes it.
    return this.#items.put(runItem(next, isIncompleteRun(item), keepListed), {
      condition: runStillAsRead,
      values: { ':expectedState': S(expect.state) },
    });
  }

  // ---- task instances

  /**
   * The run's instance items, ready lists and blocks in one query (`TI` covers TI#…, TI#~RDY#… and
   * TIS#…), merged: items win, then what the lists mark scheduled (ready.ts), then the blocks.
   */
  async listTis(dagId: string, runId: string) {
    const read = await this.#items.queryAll(
      { KeyConditionExpression: 'pk = :run AND begins_with(sk, :ti)', ConsistentRead: true },
      { ':run': S(keys.run(dagId, runId).pk), ':ti': S('TI') },
    );
    const written = new Map<string, TaskInstance>();
    const pending = new Map<string, TaskInstance>();
    const lists: Item[] = [];
    for (const item of read) {
      if (isBlock(item)) for (const ti of tisOfBlock(item)) pending.set(keys.ti(ti).sk, ti);
      else if (isReadyList(item)) lists.push(item);
      else written.set(item.sk!.S!, tiOf(item));
    }
    const listed = listedChanges(lists);
    for (const [sk, ti] of pending)
      if (!written.has(sk)) {
        const change = listed.get(sk);
        written.set(sk, change ? { ...ti, ...structuredClone(change) } : ti);
      }
    return [...written.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ti]) => ti);
  }

  async getTi(key: TiKey) {
    const item = await this.#items.get(keys.ti(key));
    if (item) return tiOf(item);
    const { pk, sk } = keys.ti(key);
    return (await pendingOf(this.#items, [key])).get(`${pk}/${sk}`) ?? null;
  }

  /** One range query per run, by key for what it does not reach (ti-reads.ts). */
  getTis(tis: TiKey[]) {
    return getTis(this.#items, tis);
  }

  updateTis(changes: TiChange[]) {
    for (const change of changes) this.#started.drop(change.key);
    return tries.updateTis(this.#items, changes, this.#now());
  }

  setWaitReasons(reasons: { key: TiKey; reason: WaitReason | null }[]) {
    return tries.setWaitReasons(this.#items, reasons);
  }

  // ---- claiming

  /** Read after the parked work that try ends of this store let back (`settled`), so a pass that follows an end sees it. */
  async listClaimCandidates(query: CandidateQuery) {
    await this.#ends?.settled();
    return listClaimCandidates(this.#items, query, this.#now());
  }

  setAsideBlocked(pool: string, tis: TaskInstance[], exclude: CandidateQuery['exclude']) {
    return setAsideBlocked(this.#items, pool, tis, exclude, this.#now());
  }

  readCounters(counters: CounterKey[]): Promise<CounterState[]> {
    return readCounters(this.#items, counters, this.#shards);
  }

  /**
   * A candidate a ready list marks scheduled has no item (ready.ts): its claim creates it, as the
   * claim of an instance scheduled and claimed at once does (`schedule`, from its pending record).
   */
  async claim(requests: ClaimRequest[]): Promise<ClaimResult> {
    const withListed = requests.map((request) => {
      if (request.schedule) return request;
      const listed = listedCandidate(this.#items, request.key, request.tryNumber);
      return listed ? { ...request, schedule: listed } : request;
    });
    const result = await claim(this.#items, withListed, this.#now(), this.#shards);
    for (const key of result.claimed) forgetListed(this.#items, key);
    for (const { key, reason } of result.lost) if (reason === 'ti_changed') forgetListed(this.#items, key);
    // A claim of a listed instance this store did not list itself (read by getTi, say) finds no
    // item: read again, one that a list marks scheduled in the try claimed is claimed as listed.
    const byId = new Map(withListed.map((r) => [tiKeyString(r.key), r]));
    const unlisted = result.lost.filter(
      (l) => l.reason === 'ti_changed' && !byId.get(tiKeyString(l.key))?.schedule,
    );
    if (unlisted.length === 0) return result;
    const found = await itemsByRun(
      this.#items,
      unlisted.map((l) => keys.ti(l.key)),
    );
    const absent = unlisted.filter((l) => {
      const { pk, sk } = keys.ti(l.key);
      return !found.has(`${pk}/${sk}`);
    });
    const listed =
      absent.length > 0
        ? await listedRecords(
            this.#items,
            absent.map((l) => l.key),
          )
        : new Map();
    const retry: ClaimRequest[] = [];
    for (const l of absent) {
      const { pk, sk } = keys.ti(l.key);
      const record = listed.get(`${pk}/${sk}`);
      const request = byId.get(tiKeyString(l.key))!;
      if (record && (record.set.tryNumber ?? record.read.tryNumber) === request.tryNumber)
        retry.push({ ...request, schedule: record });
    }
    if (retry.length === 0) return result;
    const again = await claim(this.#items, retry, this.#now(), this.#shards);
    const retried = new Set(retry.map((r) => tiKeyString(r.key)));
    return {
      claimed: [...result.claimed, ...again.claimed],
      lost: [...result.lost.filter((l) => !retried.has(tiKeyString(l.key))), ...again.lost],
    };
  }

  async startTry(key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
    const started = await tries.startTry(this.#items, key, tryNumber, opts);
    if (!started) return null;
    this.#started.keep(key, started);
    return tiOf(started);
  }

  async listTries(key: TiKey) {
    const item = await this.#items.get(keys.ti(key));
    if (!item) return [];
    tiOf(item); // checks the item is an instance of this schema version
    return triesOf(item);
  }

  async heartbeat(key: TiKey, tryNumber: number, now: number) {
    const beat = await tries.heartbeat(this.#items, key, tryNumber, now);
    if (beat) this.#started.beat(key, tryNumber, now);
    else this.#started.drop(key);
    return beat;
  }

  async settled(): Promise<void> {
    await this.#ends?.settled();
  }

  /** Try-end transactions committed and the ends in them, since this store was made (null: grouping is off). */
  tryEndGroupStats(): TryEndGroupStats | null {
    return this.#ends ? { ...this.#ends.stats } : null;
  }

  endTry(end: TryEnd) {
    const image = this.#started.take(end.key);
    if (this.#ends) return this.#ends.end(end, image);
    return tries.endTry(this.#items, end, this.#now(), image);
  }

  listCounters() {
    return listCounters(this.#items);
  }

  /** Judges counters by this store's clock, the one their `changedAt` is written with. */
  reconcileCounters(opts: { repair: boolean }) {
    return reconcile(this.#items, {
      ...opts,
      now: this.#now(),
      settleMs: this.#settleMs,
      delistAfterMs: this.#delistAfterMs,
    });
  }

  /**
   * One page of the holders of the listed runs (holders.ts): each listed run's instance items read
   * with a strongly consistent query, in run then key order.
   */
  listHoldingTis(request: PageRequest = {}) {
    return listHolders(this.#items, request);
  }

  /**
   * One page of the live instances of the listed runs: the same walk as `listHoldingTis`, which
   * reads them all (its filter keeps every state a holder may come from) and keeps only holders.
   */
  listLiveTis(request: PageRequest = {}) {
    return listLive(this.#items, request);
  }

  /** Due waits from the KEYS_ONLY `waits` index, each re-read whole (the index may lag the item). */
  async listDueWaits(now: number, limit: number) {
    const due = await this.#items.query(
      { IndexName: 'waits', KeyConditionExpression: 'waitPk = :waits AND waitSk < :until', Limit: limit },
      { ':waits': S('WAIT'), ':until': S(pad(now + 1)) },
    );
    const items = await this.#items.getMany(due.items.map((i) => ({ pk: i.pk!.S!, sk: i.sk!.S! })));
    const dueAt = (ti: TaskInstance) =>
      (ti.state === 'up_for_retry' ? ti.nextRetryAt : ti.rescheduleAt) ?? Number.POSITIVE_INFINITY;
    return items
      .map(tiOf)
      .filter((ti) =>
        ti.state === 'up_for_retry' ? dueAt(ti) < now : ti.state === 'up_for_reschedule' && dueAt(ti) <= now,
      )
      .sort((a, b) => dueAt(a) - dueAt(b))
      .slice(0, limit);
  }

  // ---- pools

  async getPool(name: string) {
    const item = await this.#items.get(keys.pool(name));
    if (item) return recordOf<Pool>(item, 'pool');
    return name === DEFAULT_POOL ? { ...DEFAULT } : null;
  }

  async listPools() {
    const items = await this.#items.queryAll(
      { IndexName: 'active', KeyConditionExpression: 'activePk = :pools' },
      { ':pools': S('POOLS') },
    );
    const pools = items.map((i) => recordOf<Pool>(i, 'pool'));
    if (!pools.some((p) => p.name === DEFAULT_POOL)) pools.push({ ...DEFAULT });
    return pools.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async putPool(pool: Pool) {
    await this.#items.put(poolItem(pool));
  }

  async createPool(pool: Pool) {
    if (pool.name === DEFAULT_POOL) return false;
    return this.#items.put(poolItem(pool), { condition: itemAbsent });
  }

  async deletePool(name: string) {
    if (name === DEFAULT_POOL) throw new ConflictError('default_pool cannot be deleted (resize it instead)');
    return this.#items.delete(keys.pool(name), { condition: itemPresent });
  }

  // ---- backfills

  async createBackfill(backfill: Backfill) {
    return { created: await this.#items.put(backfillItem(backfill), { condition: itemAbsent }) };
  }

  async getBackfill(backfillId: string) {
    const item = await this.#items.get(keys.backfill(backfillId));
    return item ? backfillOf(item) : null;
  }

  async listBackfills(dagId: string) {
    const items = await this.#items.queryAll(
      { IndexName: 'byDag', KeyConditionExpression: 'dagPk = :backfills', ScanIndexForward: false },
      { ':backfills': S(`DAG#${dagId}#BACKFILLS`) },
    );
    return items.map(backfillOf);
  }

  async listUnfinishedBackfills() {
    const items = await this.#items.queryAll(
      { IndexName: 'active', KeyConditionExpression: 'activePk = :backfills' },
      { ':backfills': S('BACKFILLS') },
    );
    return items.map(backfillOf);
  }

  async updateBackfill(backfillId: string, expect: { revision: number }, patch: BackfillPatch) {
    const backfill = await this.getBackfill(backfillId);
    if (!backfill || backfill.revision !== expect.revision) return false;
    const next = { ...backfill, ...patch, revision: expect.revision + 1 };
    // Items written before revisions have no `revision` attribute: they read as revision 0.
    const unchanged =
      expect.revision === 0 ? `${backfillAtRevision} OR ${backfillBeforeRevisions}` : backfillAtRevision;
    return this.#items.put(backfillItem(next), {
      condition: both(itemPresent, unchanged),
      values: { ':expectedRevision': N(expect.revision) },
    });
  }
}

export { DynamoDbStateStore };
