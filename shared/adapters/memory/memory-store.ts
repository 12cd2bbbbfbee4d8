/**
 * The in-memory twin of the state store, for the simulator, `updraft dags test` and unit tests.
 * It keeps the DynamoDB store's semantics exactly — every change conditional, a lost race reported
 * rather than thrown, claims and try ends atomic with their counters (no method awaits between its
 * check and its write) — and its indexes, so the services behave the same on both.
 *
 * Task instances are changed in place and handed out as frozen snapshots (memory-tis.ts); other
 * records are stored frozen and handed out as they are (frozen.ts): nothing a caller does to what it
 * read or wrote changes the store, and nothing it was handed changes afterwards. Lists page by key
 * (see paging.ts).
 *
 * Bugs in a caller throw an Error instead of being reported, because no caller could handle them:
 * - `updateTis` moving an instance that holds slots out of queued/running (its try must end through
 *   `endTry`, which releases them) or changing `holds` (only `claim` records them);
 * - `endTry` into queued or running (the instance would run on with nothing held);
 * - a try end that would take a counter below zero (a slot released twice).
 */
import type { DagManifest } from '#core/manifest.ts';
import {
  type Backfill,
  type BackfillPatch,
  type CounterKey,
  counterKeyString,
  type DagRecord,
  type DagRun,
  type Hold,
  type ImportError,
  type Pool,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import { findDrift, type Reconciliation } from '#core/reconcile.ts';
import { holdsSlot, isRunFinished, type RunState } from '#core/states.ts';
import { assertScheduleClaim, assertTransition, canTransition, isScheduleClaim } from '#core/transitions.ts';
import { recordTry, type TryRecord } from '#core/try-history.ts';
import type {
  ClaimRequest,
  ClaimResult,
  CounterState,
  PageRequest,
  StateStore,
  TiChange,
  TryEnd,
} from '#ports';
import { CandidateIndex } from './candidate-index.ts';
import { deepFreeze, own, ownPatch, ownValue, ownValues } from './frozen.ts';
import { MemoryBackfills } from './memory-backfills.ts';
import { idsOf, MemoryCounters } from './memory-counters.ts';
import { MemoryDags } from './memory-dags.ts';
import { MemoryPools } from './memory-pools.ts';
import { type Slot, TiTable, view } from './memory-tis.ts';
import { keysetPage } from './paging.ts';

/** Where one run's current (frozen) record lives: looked up by its ids, with no key string built. */
interface RunSlot {
  run: DagRun;
}

const tiSortKey = (ti: TiKey) => [ti.dagId, ti.runId, ti.taskId, ti.mapIndex];

/** What an instance that holds nothing holds (frozen: it is shared). */
const NO_HOLDS: Hold[] = Object.freeze([]) as unknown as Hold[];

const holdsKey = (holds: readonly Hold[]) =>
  holds.map((h) => `${counterKeyString(h.counter)}=${h.amount}`).join(',');

/**
 * Whether a claim candidate is kept by a listing's exclusions; null when it leaves nothing out (most
 * pages: no sets built). Excluded tasks go by DAG, so a member is judged without a key string.
 */
function keepOf(
  exclude:
    | {
        dagIds?: string[];
        tasks?: { dagId: string; taskId: string }[];
      }
    | undefined,
): ((ti: TaskInstance) => boolean) | null {
  if (!exclude?.dagIds?.length && !exclude?.tasks?.length) return null;
  const excludedDags = new Set(exclude.dagIds ?? []);
  const excludedTasks = new Map<string, Set<string>>();
  for (const { dagId, taskId } of exclude.tasks ?? []) {
    const tasks = excludedTasks.get(dagId) ?? new Set<string>();
    tasks.add(taskId);
    excludedTasks.set(dagId, tasks);
  }
  return (ti) => !excludedDags.has(ti.dagId) && !excludedTasks.get(ti.dagId)?.has(ti.taskId);
}

/**
 * What a claim records as held: each hold without its limit, frozen as it is built (a deepFreeze
 * walk over a fresh copy went over every hold and counter a second time).
 */
function ownHolds(holds: ClaimRequest['holds']): Hold[] {
  const owned: Hold[] = [];
  for (const { counter, amount } of holds) owned.push(Object.freeze({ counter: ownValue(counter), amount }));
  return Object.freeze(owned) as Hold[];
}

/**
 * The scheduling change a `schedule` claim applies in its own write (checked like `updateTis`'s:
 * a legal move to scheduled, the try the request claims, no holds), as the store's own values.
 */
function scheduleOf(request: ClaimRequest, ti: TaskInstance): Partial<TaskInstance> {
  const set = request.schedule!.set;
  // The key string is built only for an error (one per claim had been built and dropped).
  if (!isScheduleClaim(ti, set, request.tryNumber))
    assertScheduleClaim(ti, set, request.tryNumber, tiKeyString(ti));
  if (Object.hasOwn(set, 'holds')) throw new Error(`a schedule claim of ${tiKeyString(ti)} sets no holds`);
  return ownValues(set);
}

class MemoryStateStore implements StateStore {
  readonly #dags = new MemoryDags();
  /** Runs by DAG, then run id (in creation order), each in a slot its frozen record is replaced in. */
  readonly #runs = new Map<string, Map<string, RunSlot>>();
  readonly #unfinishedRuns = new Set<RunSlot>();
  readonly #unfinishedByDag = new Map<string, Set<RunSlot>>();
  readonly #runByLogicalDate = new Map<string, RunSlot>();
  readonly #tis = new TiTable();
  readonly #candidates = new CandidateIndex();
  readonly #holding = new Set<Slot>();
  readonly #waits = new Set<Slot>();
  readonly #counters = new MemoryCounters();
  readonly #pools = new MemoryPools();
  readonly #backfills = new MemoryBackfills();

  // ---- DAGs

  async registerDagVersion(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ) {
    return this.#dags.register(manifest, opts);
  }

  async getDag(dagId: string) {
    return this.#dags.get(dagId);
  }

  async listDags(request?: PageRequest) {
    return this.#dags.list(request);
  }

  async listDagVersions(dagId: string) {
    return this.#dags.versions(dagId);
  }

  async getDagVersion(dagId: string, version: string) {
    return this.#dags.version(dagId, version);
  }

  async updateDag(
    dagId: string,
    expectUpdatedAt: number,
    patch: Partial<Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>>,
    now: number,
  ) {
    return this.#dags.update(dagId, expectUpdatedAt, patch, now);
  }

  async listDagsDue(now: number, limit: number) {
    return this.#dags.due(now, limit);
  }

  async recordImportError(dagId: string | null, error: ImportError) {
    this.#dags.recordImportError(dagId, error);
  }

  async listImportErrors() {
    return this.#dags.importErrors();
  }

  async clearImportError(fileloc: string) {
    this.#dags.clearImportError(fileloc);
  }

  // ---- runs

  async createRun(run: DagRun, tis: TaskInstance[]) {
    let ofDag = this.#runs.get(run.dagId);
    if (!ofDag) {
      ofDag = new Map();
      this.#runs.set(run.dagId, ofDag);
    }
    const created = !ofDag.has(run.runId);
    if (created) {
      const slot: RunSlot = { run };
      ofDag.set(run.runId, slot);
      this.#putRun(slot, own({ ...run }));
      const dateKey = `${run.dagId}/${run.logicalDate}`;
      const previous = this.#runByLogicalDate.get(dateKey);
      if (!previous || previous.run.createdAt <= run.createdAt) this.#runByLogicalDate.set(dateKey, slot);
    }
    // A repeat call completes instances an interrupted first call did not write.
    for (const ti of tis) {
      if (this.#tis.slot(ti)) continue;
      this.#indexTi(this.#tis.insert(ti));
    }
    return { created };
  }

  /** Stores an owned (frozen) run in its slot and keeps the unfinished-runs index in step with its state. */
  #putRun(slot: RunSlot, run: DagRun): void {
    slot.run = deepFreeze(run);
    const ofDag = this.#unfinishedByDag.get(run.dagId) ?? new Set<RunSlot>();
    this.#unfinishedByDag.set(run.dagId, ofDag);
    if (isRunFinished(run.state)) {
      this.#unfinishedRuns.delete(slot);
      ofDag.delete(slot);
    } else {
      this.#unfinishedRuns.add(slot);
      ofDag.add(slot);
    }
  }

  #runSlot(dagId: string, runId: string): RunSlot | undefined {
    return this.#runs.get(dagId)?.get(runId);
  }

  async getRun(dagId: string, runId: string) {
    return this.#runSlot(dagId, runId)?.run ?? null;
  }

  async listRuns(dagId: string, opts: PageRequest & { states?: RunState[] } = {}) {
    const runs = Array.from(this.#runs.get(dagId)?.values() ?? [], (slot) => slot.run).filter(
      (r) => !opts.states || opts.states.includes(r.state),
    );
    return keysetPage(runs, opts, {
      keyOf: (r) => [r.logicalDate, r.runId],
      descending: true,
      defaultLimit: 100,
    });
  }

  async listUnfinishedRuns(opts: PageRequest & { dagId?: string } = {}) {
    const slots = opts.dagId ? (this.#unfinishedByDag.get(opts.dagId) ?? []) : this.#unfinishedRuns;
    return keysetPage(
      Array.from(slots, (slot) => slot.run),
      opts,
      { keyOf: (r) => [r.logicalDate, r.dagId, r.runId], defaultLimit: 1000 },
    );
  }

  async findRunByLogicalDate(dagId: string, logicalDate: number) {
    return this.#runByLogicalDate.get(`${dagId}/${logicalDate}`)?.run ?? null;
  }

  async updateRun(
    dagId: string,
    runId: string,
    expect: { state: RunState },
    patch: Partial<Omit<DagRun, 'dagId' | 'runId'>>,
  ) {
    const slot = this.#runSlot(dagId, runId);
    if (!slot || slot.run.state !== expect.state) return false;
    this.#putRun(slot, ownPatch(slot.run, patch));
    return true;
  }

  // ---- task instances

  /**
   * Writes `patch` (values the store owns, see `ownValues`) into an instance's record in place and
   * keeps the indexes (claim candidates, holders, due waits) in step with its state. What readers
   * were handed stays as it was: the slot's snapshot is dropped, not changed.
   */
  #writeTi(slot: Slot, patch: Partial<TaskInstance>): void {
    const live = slot.live;
    // Out of the claim index before its place (its claim-order fields) can change.
    if (live.state === 'scheduled') this.#candidates.remove(live, slot);
    for (const key in patch) if (!Object.hasOwn(live, key)) slot.modelShape = false;
    Object.assign(live, patch);
    slot.snap = null;
    this.#indexTi(slot);
  }

  #indexTi(slot: Slot): void {
    const { state } = slot.live;
    if (state === 'scheduled') this.#candidates.add(slot.live, slot);
    if (holdsSlot(state)) this.#holding.add(slot);
    else this.#holding.delete(slot);
    if (state === 'up_for_retry' || state === 'up_for_reschedule') this.#waits.add(slot);
    else this.#waits.delete(slot);
  }

  async listTis(dagId: string, runId: string) {
    return this.#tis.list(dagId, runId);
  }

  async getTi(key: TiKey) {
    return this.#tis.get(key) ?? null;
  }

  /**
   * An instance's current record itself, at once and without a snapshot: for an observer in the
   * same process that reads a few fields on the spot and keeps nothing (the simulator's recorder).
   * Later writes change it in place; a caller must neither change nor keep it.
   */
  peekTi(key: TiKey): Readonly<TaskInstance> | undefined {
    return this.#tis.slot(key)?.live;
  }

  /**
   * Each change under its own condition. Throws (a bug in the caller, not a lost race) for a change
   * that would leak slots: one that moves an instance holding slots out of queued/running — its try
   * must end through `endTry`, which releases them — or one that sets `holds`, which only `claim`
   * records and only `endTry` releases.
   */
  async updateTis(changes: TiChange[]) {
    const applied: TiKey[] = [];
    const lost: TiKey[] = [];
    for (const change of changes) {
      const slot = this.#tis.slot(change.key);
      const ti = slot?.live;
      if (!slot || !ti || ti.state !== change.expect.state || ti.tryNumber !== change.expect.tryNumber) {
        lost.push(change.key);
        continue;
      }
      // Checked before anything is written: a refused change leaves the record as it was.
      const set = change.set;
      const state = Object.hasOwn(set, 'state') ? set.state! : ti.state;
      const holds = Object.hasOwn(set, 'holds') ? set.holds! : ti.holds;
      if (state !== ti.state && !canTransition(ti.state, state))
        assertTransition(ti.state, state, tiKeyString(ti));
      if (ti.holds.length > 0 && !holdsSlot(state)) {
        throw new Error(`updateTis cannot end the try of ${tiKeyString(ti)}, which holds slots: use endTry`);
      }
      // A change that sets no holds keeps them (most set none: no key strings built for them).
      if (holds !== ti.holds && holdsKey(holds) !== holdsKey(ti.holds)) {
        throw new Error(`updateTis cannot change the holds of ${tiKeyString(ti)}: only claim and endTry do`);
      }
      this.#writeTi(slot, ownValues(set));
      applied.push(change.key);
    }
    return { applied, lost };
  }

  async setWaitReasons(reasons: { key: TiKey; reason: WaitReason | null }[]) {
    for (const { key, reason } of reasons) {
      const slot = this.#tis.slot(key);
      // Not through #writeTi: a wait reason moves no instance in or out of an index.
      if (slot) {
        (slot.live as { waitReason: WaitReason | null }).waitReason = ownValue(reason);
        slot.snap = null;
      }
    }
  }

  // ---- claiming

  async listClaimCandidates(query: {
    pool: string;
    limit: number;
    cursor?: string | null;
    exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
  }) {
    const { slots, next } = this.#candidates.page(
      query.pool,
      query.limit,
      query.cursor ?? null,
      keepOf(query.exclude),
    );
    return { items: slots.map(view), next };
  }

  async readCounters(keys: CounterKey[]): Promise<CounterState[]> {
    return keys.map((key) => ({ key: { ...key }, used: this.#counters.used(key) }));
  }

  async claim(requests: ClaimRequest[]): Promise<ClaimResult> {
    const result: ClaimResult = { claimed: [], lost: [] };
    for (const request of requests) {
      const slot = this.#tis.slot(request.key);
      const ti = slot?.live;
      // A `schedule` request claims an instance its pass is scheduling: as it was read, not scheduled.
      const read = request.schedule?.read;
      const fromState = read ? read.state : 'scheduled';
      const fromTry = read ? read.tryNumber : request.tryNumber;
      if (!slot || ti?.state !== fromState || ti.tryNumber !== fromTry) {
        result.lost.push({ key: request.key, reason: 'ti_changed' });
        continue;
      }
      // The store's own object (`ownValues` copies), so the claim's fields are set on it, not spread.
      const patch = request.schedule ? scheduleOf(request, ti) : {};
      // Checked against what earlier requests of this call raised; nothing changes for a loser.
      const ids = idsOf(request.holds);
      const full = this.#counters.claim(request.holds, ids);
      if (full) {
        result.lost.push({ key: request.key, reason: 'limit_reached', counter: { ...full } });
        continue;
      }
      patch.state = 'queued';
      patch.queuedAt = request.queuedAt;
      patch.waitReason = null;
      patch.holds = ownHolds(request.holds);
      this.#writeTi(slot, patch);
      slot.holdIds = ids;
      result.claimed.push(request.key);
    }
    return result;
  }

  async startTry(key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) {
    const slot = this.#tis.slot(key);
    const ti = slot?.live;
    if (!slot || ti?.state !== 'queued' || ti.tryNumber !== tryNumber) return null;
    this.#writeTi(slot, {
      state: 'running',
      startedAt: opts.now,
      heartbeatAt: opts.now,
      workerId: opts.workerId,
    });
    return this.#tis.get(key) ?? null;
  }

  async heartbeat(key: TiKey, tryNumber: number, now: number) {
    const slot = this.#tis.slot(key);
    const ti = slot?.live;
    if (!slot || ti?.state !== 'running' || ti.tryNumber !== tryNumber) return false;
    ti.heartbeatAt = now;
    slot.snap = null;
    return true;
  }

  /**
   * Ends the try and lowers every counter in the instance's holds, or does nothing and returns
   * false if the try already ended. Throws for an end into queued/running (it would run on with
   * nothing held) and for a counter that would go below zero (a slot released twice).
   */
  async endTry(end: TryEnd) {
    const slot = this.#tis.slot(end.key);
    const ti = slot?.live;
    if (!slot || !ti || ti.state !== end.expect.state || ti.tryNumber !== end.expect.tryNumber) return false;
    if (holdsSlot(end.set.state)) {
      throw new Error(
        `endTry cannot end the try of ${tiKeyString(ti)} in ${end.set.state}: a try end leaves it`,
      );
    }
    if (!canTransition(ti.state, end.set.state)) assertTransition(ti.state, end.set.state, tiKeyString(ti));
    this.#counters.release(ti.holds, ti, slot.holdIds ?? idsOf(ti.holds));
    slot.holdIds = null;
    const before = {
      state: ti.state,
      tryNumber: ti.tryNumber,
      startedAt: ti.startedAt,
      endedAt: ti.endedAt,
      workerId: ti.workerId,
    };
    // Owned, then holds replaced: not `{ ...end.set, holds }` (a spread is slow on Node 20, ti-copy.ts).
    const patch = ownValues(end.set as Partial<TaskInstance>);
    patch.holds = NO_HOLDS;
    this.#writeTi(slot, patch);
    slot.tries = recordTry(slot.tries ?? [], before, ti);
    return true;
  }

  async listTries(key: TiKey): Promise<TryRecord[]> {
    const slot = this.#tis.slot(key);
    return (slot?.tries ?? []).map((t) => ({ ...t }));
  }

  async listCounters(): Promise<CounterState[]> {
    return this.#counters.list();
  }

  /** The reconciler: one snapshot (nothing runs between the reads), so every counter is judged. */
  async reconcileCounters(opts: { repair: boolean }): Promise<Reconciliation> {
    // The usual case, no drift, is told from the holders' counter ids; any drift is then found in full.
    const held = new Map<string, number>();
    for (const slot of this.#holding) {
      const { holds } = slot.live;
      const ids = slot.holdIds ?? idsOf(holds);
      for (let i = 0; i < holds.length; i += 1)
        held.set(ids[i]!, (held.get(ids[i]!) ?? 0) + holds[i]!.amount);
    }
    if (!this.#counters.differsFrom(held)) return { drift: [], repaired: [], unsettled: 0 };
    // The records themselves: findDrift only reads their holds (frozen), and keeps none of them.
    const holders = Array.from(this.#holding, (slot) => slot.live);
    const drift = findDrift(this.#counters.list(), holders);
    if (opts.repair) for (const d of drift) this.#counters.correct(d.counter, d.held);
    return { drift, repaired: opts.repair ? drift : [], unsettled: 0 };
  }

  // Both lists choose from the records themselves and snapshot only what they hand out.

  async listHoldingTis(request?: PageRequest) {
    const page = keysetPage(this.#holding, request ?? {}, {
      keyOf: (slot) => tiSortKey(slot.live),
      defaultLimit: 1000,
    });
    return { items: page.items.map(view), next: page.next };
  }

  async listDueWaits(now: number, limit: number) {
    const dueAt = (ti: TaskInstance) =>
      (ti.state === 'up_for_retry' ? ti.nextRetryAt : ti.rescheduleAt) ?? Number.MAX_SAFE_INTEGER;
    return Array.from(this.#waits)
      .filter(({ live: ti }) => (ti.state === 'up_for_retry' ? dueAt(ti) < now : dueAt(ti) <= now))
      .sort((a, b) => dueAt(a.live) - dueAt(b.live))
      .slice(0, limit)
      .map(view);
  }

  // ---- pools

  async getPool(name: string) {
    return this.#pools.get(name);
  }

  async listPools() {
    return this.#pools.list();
  }

  async putPool(pool: Pool) {
    this.#pools.put(pool);
  }

  async createPool(pool: Pool) {
    return this.#pools.create(pool);
  }

  async deletePool(name: string) {
    return this.#pools.delete(name);
  }

  // ---- backfills

  async createBackfill(backfill: Backfill) {
    return this.#backfills.create(backfill);
  }

  async getBackfill(backfillId: string) {
    return this.#backfills.get(backfillId);
  }

  async listBackfills(dagId: string) {
    return this.#backfills.list(dagId);
  }

  async listUnfinishedBackfills() {
    return this.#backfills.listUnfinished();
  }

  async updateBackfill(backfillId: string, expect: { revision: number }, patch: BackfillPatch) {
    return this.#backfills.update(backfillId, expect, patch);
  }

  // ---- for tests and the reconciler

  /** Every counter's value, keyed by `counterKeyString`. */
  counterSnapshot(): Map<string, number> {
    return this.#counters.snapshot();
  }
}

export { MemoryStateStore };
