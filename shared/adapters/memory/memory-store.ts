/**
 * The in-memory twin of the state store, for the simulator, `updraft dags test` and unit tests.
 * It keeps the DynamoDB store's semantics exactly — every change conditional, a lost race reported
 * rather than thrown, claims and try ends atomic with their counters — and its indexes, so the
 * services behave the same on both. Reads return copies: nothing outside can change the store.
 */
import { ConflictError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import {
  type Backfill,
  type CounterKey,
  counterKeyString,
  type DagRecord,
  type DagRun,
  DEFAULT_POOL,
  DEFAULT_POOL_SLOTS,
  type ImportError,
  type Pool,
  registeredDag,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import { holdsSlot, isRunFinished, type RunState } from '#core/states.ts';
import { assertTransition } from '#core/transitions.ts';
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
import { CandidateIndex } from './candidate-index.ts';

const copy = <T>(value: T): T => structuredClone(value);

/**
 * Deep-freezes plain data, so records can be handed out without copying and never changed by
 * accident. Writes copy the top level of what they are given; nested values a caller passes in
 * (a result, a conf) are frozen in place.
 */
function freeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Task instances and runs are stored frozen and replaced (never changed in place) on every write,
 * so reads return them as they are: copying was the simulator's hottest path. Callers that try to
 * change a record they read get a TypeError instead of silently changing the store.
 */
const copyTi = (ti: TaskInstance): TaskInstance => ti;
const copyRun = (run: DagRun): DagRun => run;

function copyDag(dag: DagRecord): DagRecord {
  return {
    ...dag,
    nextRun: dag.nextRun && { ...dag.nextRun },
    lastAutomatedInterval: dag.lastAutomatedInterval && { ...dag.lastAutomatedInterval },
    importError: dag.importError && { ...dag.importError },
    warnings: [...dag.warnings],
  };
}

const runKey = (dagId: string, runId: string) => `${dagId}/${runId}`;

/** Offset paging: cursors are opaque to callers. */
function page<T>(items: T[], request: PageRequest = {}, map: (item: T) => T = copy): Page<T> {
  const start = request.cursor ? Number(Buffer.from(request.cursor, 'base64url').toString()) : 0;
  const limit = request.limit ?? 100;
  const slice = items.slice(start, start + limit).map(map);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
  return { items: slice, next };
}

class MemoryStateStore implements StateStore {
  readonly #dags = new Map<string, DagRecord>();
  readonly #versions = new Map<string, DagManifest>();
  readonly #importErrors = new Map<string, ImportError & { dagId: string | null }>();
  readonly #runs = new Map<string, DagRun>();
  readonly #runsByDag = new Map<string, Set<string>>();
  readonly #unfinishedRuns = new Set<string>();
  readonly #unfinishedByDag = new Map<string, Set<string>>();
  readonly #runByLogicalDate = new Map<string, string>();
  readonly #tis = new Map<string, TaskInstance>();
  readonly #tisByRun = new Map<string, string[]>();
  readonly #candidates = new CandidateIndex();
  readonly #holding = new Set<string>();
  readonly #waits = new Set<string>();
  readonly #counters = new Map<string, { key: CounterKey; used: number }>();
  readonly #pools = new Map<string, Pool>();
  readonly #backfills = new Map<string, Backfill>();

  constructor() {
    this.#pools.set(DEFAULT_POOL, {
      name: DEFAULT_POOL,
      slots: DEFAULT_POOL_SLOTS,
      description: 'Default pool',
      includeDeferred: false,
    });
  }

  // ---- DAGs

  async registerDagVersion(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ) {
    const versionKey = `${manifest.dagId}@${manifest.hash}`;
    const newVersion = !this.#versions.has(versionKey);
    if (newVersion) this.#versions.set(versionKey, copy(manifest));
    const existing = this.#dags.get(manifest.dagId);
    const dag = registeredDag(existing ?? null, manifest, opts);
    this.#dags.set(dag.dagId, dag);
    return { dag: copy(dag), newVersion };
  }

  async getDag(dagId: string) {
    const dag = this.#dags.get(dagId);
    return dag ? copyDag(dag) : null;
  }

  async listDags(request?: PageRequest) {
    return page(
      [...this.#dags.values()].sort((a, b) => (a.dagId < b.dagId ? -1 : 1)),
      request,
    );
  }

  async getDagVersion(dagId: string, version: string) {
    const manifest = this.#versions.get(`${dagId}@${version}`);
    return manifest ? copy(manifest) : null;
  }

  async updateDag(
    dagId: string,
    expectUpdatedAt: number,
    patch: Partial<Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>>,
    now: number,
  ) {
    const dag = this.#dags.get(dagId);
    if (!dag || dag.updatedAt !== expectUpdatedAt) return false;
    // The lock must move even when two updates share an instant (virtual time).
    this.#dags.set(dagId, { ...dag, ...copy(patch), updatedAt: Math.max(now, dag.updatedAt + 1) });
    return true;
  }

  async listDagsDue(now: number, limit: number) {
    return [...this.#dags.values()]
      .filter((d) => d.active && !d.paused && d.nextRun !== null && d.nextRun.runAfter <= now)
      .sort((a, b) => a.nextRun!.runAfter - b.nextRun!.runAfter || (a.dagId < b.dagId ? -1 : 1))
      .slice(0, limit)
      .map(copyDag);
  }

  async recordImportError(dagId: string | null, error: ImportError) {
    this.#importErrors.set(error.fileloc, { ...copy(error), dagId });
    const dag = dagId ? this.#dags.get(dagId) : undefined;
    if (dag) this.#dags.set(dag.dagId, { ...dag, importError: copy(error) });
  }

  async listImportErrors() {
    return [...this.#importErrors.values()].map(({ dagId: _, ...error }) => copy(error));
  }

  async clearImportError(fileloc: string) {
    const error = this.#importErrors.get(fileloc);
    this.#importErrors.delete(fileloc);
    const dag = error?.dagId ? this.#dags.get(error.dagId) : undefined;
    if (dag) this.#dags.set(dag.dagId, { ...dag, importError: null });
  }

  // ---- runs

  async createRun(run: DagRun, tis: TaskInstance[]) {
    const key = runKey(run.dagId, run.runId);
    const created = !this.#runs.has(key);
    if (created) {
      this.#putRun({ ...run });
      const dateKey = `${run.dagId}/${run.logicalDate}`;
      const previous = this.#runByLogicalDate.get(dateKey);
      if (!previous || this.#runs.get(previous)!.createdAt <= run.createdAt)
        this.#runByLogicalDate.set(dateKey, key);
      const set = this.#runsByDag.get(run.dagId) ?? new Set<string>();
      set.add(key);
      this.#runsByDag.set(run.dagId, set);
    }
    // A repeat call completes instances an interrupted first call did not write.
    const list = this.#tisByRun.get(key) ?? [];
    for (const ti of tis) {
      const id = tiKeyString(ti);
      if (this.#tis.has(id)) continue;
      this.#putTi(null, { ...ti, holds: ti.holds.map((h) => ({ ...h })) });
      list.push(id);
    }
    this.#tisByRun.set(key, list);
    return { created };
  }

  #putRun(run: DagRun): void {
    const key = runKey(run.dagId, run.runId);
    this.#runs.set(key, freeze(run));
    const ofDag = this.#unfinishedByDag.get(run.dagId) ?? new Set<string>();
    this.#unfinishedByDag.set(run.dagId, ofDag);
    if (isRunFinished(run.state)) {
      this.#unfinishedRuns.delete(key);
      ofDag.delete(key);
    } else {
      this.#unfinishedRuns.add(key);
      ofDag.add(key);
    }
  }

  async getRun(dagId: string, runId: string) {
    const run = this.#runs.get(runKey(dagId, runId));
    return run ? copyRun(run) : null;
  }

  async listRuns(dagId: string, opts: PageRequest & { states?: RunState[] } = {}) {
    const runs = [...(this.#runsByDag.get(dagId) ?? [])]
      .map((k) => this.#runs.get(k)!)
      .filter((r) => !opts.states || opts.states.includes(r.state))
      .sort((a, b) => b.logicalDate - a.logicalDate || (a.runId < b.runId ? 1 : -1));
    return page(runs, opts, copyRun);
  }

  async listUnfinishedRuns(opts: PageRequest & { dagId?: string } = {}) {
    const keys = opts.dagId ? (this.#unfinishedByDag.get(opts.dagId) ?? []) : this.#unfinishedRuns;
    const runs = [...keys]
      .map((k) => this.#runs.get(k)!)
      .sort((a, b) => a.logicalDate - b.logicalDate || (a.runId < b.runId ? -1 : 1));
    return page(runs, { ...opts, limit: opts.limit ?? 1000 }, copyRun);
  }

  async findRunByLogicalDate(dagId: string, logicalDate: number) {
    const key = this.#runByLogicalDate.get(`${dagId}/${logicalDate}`);
    return key ? copyRun(this.#runs.get(key)!) : null;
  }

  async updateRun(
    dagId: string,
    runId: string,
    expect: { state: RunState },
    patch: Partial<Omit<DagRun, 'dagId' | 'runId'>>,
  ) {
    const run = this.#runs.get(runKey(dagId, runId));
    if (!run || run.state !== expect.state) return false;
    this.#putRun({ ...run, ...patch });
    return true;
  }

  // ---- task instances

  /** Keeps the indexes (claim candidates, holders, due waits) in step with a TI's state. */
  #putTi(before: TaskInstance | null, after: TaskInstance): void {
    const id = tiKeyString(after);
    this.#tis.set(id, freeze(after));
    if (before?.state === 'scheduled') this.#candidates.remove(before);
    if (after.state === 'scheduled') this.#candidates.add(after);
    if (holdsSlot(after.state)) this.#holding.add(id);
    else this.#holding.delete(id);
    if (after.state === 'up_for_retry' || after.state === 'up_for_reschedule') this.#waits.add(id);
    else this.#waits.delete(id);
  }

  async listTis(dagId: string, runId: string) {
    return (this.#tisByRun.get(runKey(dagId, runId)) ?? []).map((id) => copyTi(this.#tis.get(id)!));
  }

  async getTi(key: TiKey) {
    const ti = this.#tis.get(tiKeyString(key));
    return ti ? copyTi(ti) : null;
  }

  async updateTis(changes: TiChange[]) {
    const applied: TiKey[] = [];
    const lost: TiKey[] = [];
    for (const change of changes) {
      const ti = this.#tis.get(tiKeyString(change.key));
      if (!ti || ti.state !== change.expect.state || ti.tryNumber !== change.expect.tryNumber) {
        lost.push(change.key);
        continue;
      }
      const next = { ...ti, ...change.set };
      if (next.state !== ti.state) assertTransition(ti.state, next.state, tiKeyString(ti));
      if (ti.holds.length > 0 && !holdsSlot(next.state)) {
        throw new Error(`updateTis cannot end the try of ${tiKeyString(ti)}, which holds slots: use endTry`);
      }
      this.#putTi(ti, next);
      applied.push(change.key);
    }
    return { applied, lost };
  }

  async setWaitReasons(reasons: { key: TiKey; reason: WaitReason | null }[]) {
    for (const { key, reason } of reasons) {
      const ti = this.#tis.get(tiKeyString(key));
      if (ti)
        this.#tis.set(
          tiKeyString(key),
          freeze({ ...ti, waitReason: reason === null ? null : { ...reason } }),
        );
    }
  }

  // ---- claiming

  async listClaimCandidates(query: {
    pool: string;
    limit: number;
    cursor?: string | null;
    exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
  }) {
    const excludedDags = new Set(query.exclude?.dagIds ?? []);
    const excludedTasks = new Set((query.exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
    const { ids, next } = this.#candidates.page(query.pool, query.limit, query.cursor ?? null, (ti) => {
      return !excludedDags.has(ti.dagId) && !excludedTasks.has(`${ti.dagId}/${ti.taskId}`);
    });
    return { items: ids.map((id) => copyTi(this.#tis.get(id)!)), next };
  }

  async readCounters(keys: CounterKey[]): Promise<CounterState[]> {
    return keys.map((key) => ({ key, used: this.#counters.get(counterKeyString(key))?.used ?? 0 }));
  }

  #used(key: CounterKey): number {
    return this.#counters.get(counterKeyString(key))?.used ?? 0;
  }

  #add(key: CounterKey, amount: number): void {
    const id = counterKeyString(key);
    const used = (this.#counters.get(id)?.used ?? 0) + amount;
    if (used < 0) throw new Error(`counter ${id} would go below zero (${used}): a slot was released twice`);
    this.#counters.set(id, { key, used });
  }

  async claim(requests: ClaimRequest[]): Promise<ClaimResult> {
    const result: ClaimResult = { claimed: [], lost: [] };
    for (const request of requests) {
      const id = tiKeyString(request.key);
      const ti = this.#tis.get(id);
      if (ti?.state !== 'scheduled' || ti.tryNumber !== request.tryNumber) {
        result.lost.push({ key: request.key, reason: 'ti_changed' });
        continue;
      }
      // A request naming one counter twice raises it by the sum, checked against each limit.
      const raise = new Map<string, number>();
      for (const h of request.holds) {
        const id = counterKeyString(h.counter);
        raise.set(id, (raise.get(id) ?? 0) + h.amount);
      }
      const full = request.holds.find(
        (h) => h.limit !== -1 && this.#used(h.counter) + raise.get(counterKeyString(h.counter))! > h.limit,
      );
      if (full) {
        result.lost.push({ key: request.key, reason: 'limit_reached', counter: full.counter });
        continue;
      }
      for (const hold of request.holds) this.#add(hold.counter, hold.amount);
      this.#putTi(ti, {
        ...ti,
        state: 'queued',
        queuedAt: request.queuedAt,
        holds: request.holds.map((h) => ({ counter: { ...h.counter }, amount: h.amount })),
      });
      result.claimed.push(request.key);
    }
    return result;
  }

  async startTry(key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
    const ti = this.#tis.get(tiKeyString(key));
    if (ti?.state !== 'queued' || ti.tryNumber !== tryNumber) return false;
    this.#putTi(ti, {
      ...ti,
      state: 'running',
      startedAt: opts.now,
      heartbeatAt: opts.now,
      workerId: opts.workerId,
    });
    return true;
  }

  async heartbeat(key: TiKey, tryNumber: number, now: number) {
    const ti = this.#tis.get(tiKeyString(key));
    if (ti?.state !== 'running' || ti.tryNumber !== tryNumber) return false;
    this.#tis.set(tiKeyString(key), freeze({ ...ti, heartbeatAt: now }));
    return true;
  }

  async endTry(end: TryEnd) {
    const ti = this.#tis.get(tiKeyString(end.key));
    if (!ti || ti.state !== end.expect.state || ti.tryNumber !== end.expect.tryNumber) return false;
    assertTransition(ti.state, end.set.state, tiKeyString(ti));
    // Check every counter before lowering any, so a double release changes nothing.
    const lower = new Map<string, { key: CounterKey; amount: number }>();
    for (const hold of ti.holds) {
      const id = counterKeyString(hold.counter);
      lower.set(id, { key: hold.counter, amount: (lower.get(id)?.amount ?? 0) + hold.amount });
    }
    for (const [id, { amount }] of lower) {
      const left = (this.#counters.get(id)?.used ?? 0) - amount;
      if (left < 0) {
        throw new Error(
          `counter ${id} would go below zero (${left}) ending ${tiKeyString(ti)}: a slot was released twice`,
        );
      }
    }
    for (const { key, amount } of lower.values()) this.#add(key, -amount);
    this.#putTi(ti, { ...ti, ...end.set, holds: [] });
    return true;
  }

  async listCounters(): Promise<CounterState[]> {
    return [...this.#counters.values()].map((c) => ({ key: { ...c.key }, used: c.used }));
  }

  async listHoldingTis(request?: PageRequest) {
    return page(
      [...this.#holding].sort().map((id) => this.#tis.get(id)!),
      { ...request, limit: request?.limit ?? 1000 },
    );
  }

  async listDueWaits(now: number, limit: number) {
    const dueAt = (ti: TaskInstance) =>
      (ti.state === 'up_for_retry' ? ti.nextRetryAt : ti.rescheduleAt) ?? Number.MAX_SAFE_INTEGER;
    return [...this.#waits]
      .map((id) => this.#tis.get(id)!)
      .filter((ti) => (ti.state === 'up_for_retry' ? dueAt(ti) < now : dueAt(ti) <= now))
      .sort((a, b) => dueAt(a) - dueAt(b))
      .slice(0, limit)
      .map(copyTi);
  }

  // ---- pools

  async getPool(name: string) {
    const pool = this.#pools.get(name);
    return pool ? copy(pool) : null;
  }

  async listPools() {
    return [...this.#pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy);
  }

  async putPool(pool: Pool) {
    this.#pools.set(pool.name, copy(pool));
  }

  async deletePool(name: string) {
    if (name === DEFAULT_POOL) throw new ConflictError('default_pool cannot be deleted (resize it instead)');
    return this.#pools.delete(name);
  }

  // ---- backfills

  async createBackfill(backfill: Backfill) {
    if (this.#backfills.has(backfill.backfillId)) return { created: false };
    this.#backfills.set(backfill.backfillId, copy(backfill));
    return { created: true };
  }

  async getBackfill(backfillId: string) {
    const backfill = this.#backfills.get(backfillId);
    return backfill ? copy(backfill) : null;
  }

  async listBackfills(dagId: string) {
    return [...this.#backfills.values()]
      .filter((b) => b.dagId === dagId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(copy);
  }

  async updateBackfill(backfillId: string, patch: Partial<Pick<Backfill, 'completedAt' | 'cancelledAt'>>) {
    const backfill = this.#backfills.get(backfillId);
    if (!backfill) return false;
    this.#backfills.set(backfillId, { ...backfill, ...patch });
    return true;
  }

  // ---- for tests and the reconciler

  /** Every counter's value, keyed by `counterKeyString`. */
  counterSnapshot(): Map<string, number> {
    return new Map([...this.#counters].map(([id, c]) => [id, c.used]));
  }
}

export { MemoryStateStore };
