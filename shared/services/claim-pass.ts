/**
 * Step 4 of a scheduler pass: claim slots for the highest-priority scheduled task instances and
 * hand them to the dispatcher. Selection is the pure core (`selectClaims`); the store applies it
 * with conditional transactions, so concurrent schedulers can never exceed a limit — a loser just
 * sees its request reported lost.
 *
 * Reading is proportional to what can be claimed, not to the number of pools: the pools with free
 * slots are read as one merged stream in claim order, a small page each, and a pool is read further
 * only while the walk over what was read could still be overtaken by its unread work (see
 * `readRound0`). Instances that just became scheduled get their wait reason without being read.
 */
import { type ClaimCandidate, type ClaimDecision, type ClaimState, selectClaims } from '#core/claim.ts';
import { compareClaimOrder } from '#core/claim-order.ts';
import { fitToRoom, tightCounters } from '#core/claim-room.ts';
import { type DagManifest, taskOf } from '#core/manifest.ts';
import {
  type CounterKey,
  counterKeyString,
  type DagRecord,
  type DagRun,
  type Pool,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import { sameWaitCause } from '#core/wait-reasons.ts';
import type { ClaimRequest, DispatchMessage, TiChange } from '#ports';
import type { ScheduleChange } from './advance-runs.ts';
import type { ServiceDeps } from './deps.ts';
import { DispatchRuns } from './dispatch-runs.ts';
import { tiWith } from './ti-copy.ts';

export interface ClaimReport {
  claimed: number;
  lost: number;
  dispatched: DispatchMessage[];
}

/** What the pass already knows, so the claim step neither reads it again nor misses it. */
export interface ClaimNews {
  /** Instances this pass moved to scheduled, as written: they get a wait reason even if not read. */
  scheduled?: TaskInstance[];
  /**
   * Instances this pass decided to schedule but did not write (advance-runs' `toSchedule`): they
   * are candidates beside those read from the store, in claim order; what is claimed goes straight
   * to queued in the claim's transaction, the rest is written scheduled with its wait reason.
   */
  toSchedule?: ScheduleChange[];
  /** DAG records this pass read (a DAG's `paused` flag is read once per pass). */
  dags?: Map<string, DagRecord | null>;
  /** The pools and counters, read while the pass evaluated its runs (`readClaimInputs`). */
  inputs?: Promise<ClaimInputs>;
  /** Runs this pass read, as last known (dispatch messages carry them: dispatch-runs.ts). */
  runs?: Iterable<DagRun>;
}

/** What every claim step reads first: the pools, and counters by `counterKeyString`. */
export interface ClaimInputs {
  pools: Pool[];
  counters: Map<string, number>;
}

/**
 * Each instance's `tiKeyString`, built once and then shared across passes: the same string object
 * keys every map of a pass, so its hash is computed once (a key string built per lookup meant
 * building, flattening and hashing a ~50-character string several times per candidate and round),
 * and an instance waiting through many passes is not given a new one by each. Looked up by the
 * key's own strings, which the records share and whose hashes are cached. Bounded: emptied once it
 * holds `MAX_TI_IDS` ids (a string is the same whichever copy a pass uses).
 */
class TiIds {
  #byDag = new Map<string, Map<string, Map<string, string>>>();
  #size = 0;

  of(key: TiKey): string {
    // Mapped instances (never made by Updraft) are rare enough to build each time.
    if (key.mapIndex !== -1) return tiKeyString(key);
    let runs = this.#byDag.get(key.dagId);
    if (!runs) {
      runs = new Map();
      this.#byDag.set(key.dagId, runs);
    }
    let tasks = runs.get(key.runId);
    if (!tasks) {
      tasks = new Map();
      runs.set(key.runId, tasks);
    }
    let id = tasks.get(key.taskId);
    if (id === undefined) {
      if (this.#size >= MAX_TI_IDS) {
        // Emptied, then the instance's run is set up again in the fresh maps.
        this.#byDag = new Map();
        this.#size = 0;
        return this.of(key);
      }
      id = tiKeyString(key);
      tasks.set(key.taskId, id);
      this.#size += 1;
    }
    return id;
  }
}

const MAX_TI_IDS = 100_000;

/** The ids every pass shares (they depend on nothing but the key). */
const tiIds = new TiIds();

interface PassContext {
  deps: ServiceDeps;
  /** `tiKeyString` of an instance, built once (`tiIds`). */
  ids: TiIds;
  /** DAG records by id, read at most once per pass (pools are read at once, so the read is shared). */
  dags: Map<string, Promise<DagRecord | null>>;
  /** The records of `dags` already read, taken without an `await`. */
  dagsRead: Map<string, DagRecord | null>;
  /** Counter values read this pass, by `counterKeyString`: each is read once. */
  counters: Map<string, number>;
  exclude: Exclusions;
  /** The candidates of `ClaimNews.toSchedule` not written yet, by `tiKeyString`. */
  fresh: Map<string, ScheduleChange>;
  /**
   * The DAGs of `fresh`: an instance read from another DAG is not one of them, told without
   * building its key (the pass schedules for the few DAGs with news; it reads from many).
   */
  freshDags: Set<string>;
  /** The runs of what the pass claims, for its dispatch messages. */
  runs: DispatchRuns;
}

interface Exclusions {
  dagIds: Set<string>;
  tasks: Map<string, { dagId: string; taskId: string }>;
}

function dagRecord(ctx: PassContext, dagId: string): Promise<DagRecord | null> {
  let record = ctx.dags.get(dagId);
  if (!record && ctx.dagsRead.has(dagId)) {
    record = Promise.resolve(ctx.dagsRead.get(dagId)!);
    ctx.dags.set(dagId, record);
  }
  if (!record) {
    record = ctx.deps.store.getDag(dagId).then((read) => {
      ctx.dagsRead.set(dagId, read);
      return read;
    });
    ctx.dags.set(dagId, record);
  }
  return record;
}

/**
 * The claim candidate for `ti`, or null when its DAG is paused or gone. Synchronous when its DAG
 * record was read this pass and its manifest is cached (nearly always: a pass claims from the same
 * few DAGs), else a promise of it.
 */
function toCandidate(
  ctx: PassContext,
  ti: TaskInstance,
): ClaimCandidate | null | Promise<ClaimCandidate | null> {
  const record = ctx.dagsRead.get(ti.dagId);
  const dag = ctx.deps.manifests.peek(ti.dagId, ti.dagVersion);
  if (record === undefined || !dag) return readCandidate(ctx, ti);
  return candidateOf(record, dag, ti);
}

async function readCandidate(ctx: PassContext, ti: TaskInstance): Promise<ClaimCandidate | null> {
  const record = await dagRecord(ctx, ti.dagId);
  return candidateOf(record, await ctx.deps.manifests.get(ti.dagId, ti.dagVersion), ti);
}

function candidateOf(record: DagRecord | null, dag: DagManifest, ti: TaskInstance): ClaimCandidate | null {
  if (!record || record.paused) return null;
  const task = taskOf(dag, ti.taskId);
  return {
    ti,
    dagMaxActiveTasks: dag.maxActiveTasks,
    maxActiveTisPerDag: task.maxActiveTisPerDag,
    maxActiveTisPerDagrun: task.maxActiveTisPerDagrun,
  };
}

/**
 * `counterKeyString` of the DAG and pool counters, each built once: every pass looks up the pass's
 * pools and its candidates' DAGs several times (a string built per lookup is hashed anew). Bounded
 * by the DAGs and pools there are; emptied if it ever grows past `MAX_COUNTER_IDS`.
 */
const counterIds = { dag: new Map<string, string>(), pool: new Map<string, string>() };
const MAX_COUNTER_IDS = 100_000;

function counterId(key: CounterKey): string {
  if (key.kind === 'global') return 'global';
  if (key.kind === 'dag') return dagCounterId(key.dagId);
  if (key.kind === 'pool') return poolCounterId(key.pool);
  return counterKeyString(key);
}

/** `counterId` of a DAG's counter, without a key object to ask by. */
function dagCounterId(dagId: string): string {
  let id = counterIds.dag.get(dagId);
  if (id === undefined) {
    if (counterIds.dag.size >= MAX_COUNTER_IDS) counterIds.dag.clear();
    id = counterKeyString({ kind: 'dag', dagId });
    counterIds.dag.set(dagId, id);
  }
  return id;
}

/** `counterId` of a pool's counter, without a key object to ask by. */
function poolCounterId(pool: string): string {
  let id = counterIds.pool.get(pool);
  if (id === undefined) {
    if (counterIds.pool.size >= MAX_COUNTER_IDS) counterIds.pool.clear();
    id = counterKeyString({ kind: 'pool', pool });
    counterIds.pool.set(pool, id);
  }
  return id;
}

/** Reads the counters of `keys` not read yet this pass (absent counters read as 0). */
async function readCounters(ctx: PassContext, keys: CounterKey[]): Promise<void> {
  // Nearly every call finds them all read already: no map is built for that.
  let missing: Map<string, CounterKey> | null = null;
  for (const key of keys) {
    const id = counterId(key);
    if (ctx.counters.has(id)) continue;
    missing ??= new Map();
    missing.set(id, key);
  }
  if (missing === null) return;
  for (const { key, used } of await ctx.deps.store.readCounters([...missing.values()]))
    ctx.counters.set(counterId(key), used);
  for (const id of missing.keys()) if (!ctx.counters.has(id)) ctx.counters.set(id, 0);
}

/**
 * The counters `selectClaims` needs for `candidates`, read where not read yet this pass: each DAG's
 * once, and a task's or a run's task's only for a candidate with that limit (the only ones
 * `selectClaims` consults them for).
 */
async function claimState(
  ctx: PassContext,
  candidates: ClaimCandidate[],
  pools: Map<string, number>,
): Promise<ClaimState> {
  const { settings } = ctx.deps;
  const keys: CounterKey[] = [];
  const dagIds = new Set<string>();
  for (const { ti, maxActiveTisPerDag, maxActiveTisPerDagrun } of candidates) {
    if (!dagIds.has(ti.dagId)) {
      dagIds.add(ti.dagId);
      // A key only for a DAG whose counter was not read yet (readCounters would skip it).
      if (!ctx.counters.has(dagCounterId(ti.dagId))) keys.push({ kind: 'dag', dagId: ti.dagId });
    }
    if (maxActiveTisPerDag !== null) keys.push({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId });
    if (maxActiveTisPerDagrun !== null)
      keys.push({ kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId });
  }
  await readCounters(ctx, keys);
  const get = (id: string) => ctx.counters.get(id) ?? 0;
  const poolState: ClaimState['pools'] = new Map();
  for (const [pool, slots] of pools) poolState.set(pool, { used: get(poolCounterId(pool)), slots });
  const state: ClaimState = {
    parallelism: { used: get('global'), limit: settings.parallelism },
    pools: poolState,
    dagUsed: new Map(),
    taskUsed: new Map(),
    taskRunUsed: new Map(),
    executorFree: {
      lambda: freeOf(settings.executorCapacity.lambda, get('executor/lambda')),
      fargate: freeOf(settings.executorCapacity.fargate, get('executor/fargate')),
    },
  };
  for (const dagId of dagIds) state.dagUsed.set(dagId, get(dagCounterId(dagId)));
  for (const { ti, maxActiveTisPerDag, maxActiveTisPerDagrun } of candidates) {
    if (maxActiveTisPerDag !== null) {
      const task = counterKeyString({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId });
      if (ctx.counters.has(task)) state.taskUsed.set(`${ti.dagId}/${ti.taskId}`, get(task));
    }
    if (maxActiveTisPerDagrun === null) continue;
    const taskRun = counterKeyString({
      kind: 'taskRun',
      dagId: ti.dagId,
      runId: ti.runId,
      taskId: ti.taskId,
    });
    if (ctx.counters.has(taskRun))
      state.taskRunUsed.set(`${ti.dagId}/${ti.runId}/${ti.taskId}`, get(taskRun));
  }
  return state;
}

function freeOf(capacity: number | null, used: number): number | null {
  return capacity === null ? null : Math.max(0, capacity - used);
}

/** One pool's claim candidates as read so far in the first round, in claim order. */
interface PoolReader {
  pool: string;
  /** Read at most this many in the first round: about the pool's free slots (see PAGE_MARGIN). */
  limit: number;
  count: number;
  last: TaskInstance | null;
  cursor: string | null;
  /** Nothing more will be read from it this round: it has no more, or its limit is reached. */
  done: boolean;
  /** The store has more beyond what was read (so a later round may look past blocked work). */
  more: boolean;
}

/** Reads up to `size` more candidates of a pool, leaving out DAGs and tasks already known to be blocked. */
async function readMore(
  ctx: PassContext,
  reader: PoolReader,
  size: number,
  into: ClaimCandidate[],
): Promise<void> {
  const { exclude } = ctx;
  const page = await ctx.deps.store.listClaimCandidates({
    pool: reader.pool,
    limit: Math.max(1, Math.min(size, reader.limit - reader.count)),
    cursor: reader.cursor,
    // Most pages leave nothing out: no lists built for them.
    exclude:
      exclude.dagIds.size === 0 && exclude.tasks.size === 0
        ? undefined
        : { dagIds: [...exclude.dagIds], tasks: [...exclude.tasks.values()] },
  });
  // The page's DAG records not read yet this pass are read at once, not one await per DAG.
  const unread = new Set<string>();
  for (const { dagId } of page.items)
    if (!ctx.dagsRead.has(dagId) && !exclude.dagIds.has(dagId)) unread.add(dagId);
  if (unread.size > 0) await Promise.all(Array.from(unread, (dagId) => dagRecord(ctx, dagId)));
  for (const ti of page.items) {
    reader.count += 1;
    reader.last = ti;
    if (
      exclude.dagIds.has(ti.dagId) ||
      (exclude.tasks.size > 0 && exclude.tasks.has(`${ti.dagId}/${ti.taskId}`))
    )
      continue;
    // Another pass wrote it scheduled meanwhile: this pass's own candidate stands for it (and loses).
    if (ctx.fresh.size > 0 && ctx.freshDags.has(ti.dagId) && ctx.fresh.has(ctx.ids.of(ti))) continue;
    const found = toCandidate(ctx, ti);
    const candidate = found instanceof Promise ? await found : found;
    if (candidate) into.push(candidate);
    else exclude.dagIds.add(ti.dagId);
  }
  reader.cursor = page.next;
  reader.more = page.next !== null;
  reader.done = !reader.more || page.items.length === 0 || reader.count >= reader.limit;
}

/** Rounds of read → select → claim; a new round only reads pools whose page held blocked work. */
const MAX_ROUNDS = 4;
/** Candidates read beyond the free slots, so smaller work can fill what a big task cannot. */
const PAGE_MARGIN = 8;
/** First read per pool beyond its share of what can be claimed. */
const FIRST_READ_MARGIN = 2;

/**
 * The limit of the instance's own that a wait reason names: its DAG's (`maxActiveTasks`) or its
 * task's (`maxActiveTisPerDag`, `…PerDagrun`). Work is parked on these, never on a pool's.
 */
function ownLimitOf(kind: WaitReason['kind']): 'dag' | 'task' | null {
  if (kind === 'dag_max_active_tasks') return 'dag';
  if (kind === 'task_max_active_tis_per_dag' || kind === 'task_max_active_tis_per_dagrun') return 'task';
  return null;
}

/** Wait reasons block their own DAG or task in later rounds: what they say will not change this pass. */
function blockedBy(kind: WaitReason['kind']): 'dag' | 'task' | null {
  if (kind === 'pool_full' || kind === 'pool_too_small') return 'task';
  return ownLimitOf(kind);
}

/**
 * The counters every pass reads: parallelism, the pools', and the executors' that have a capacity
 * (an unlimited executor's counter is never raised: reading it, absent, would still bill a read).
 */
function passCounters(settings: ServiceDeps['settings'], pools: Iterable<string>): CounterKey[] {
  const out: CounterKey[] = [
    { kind: 'global' },
    ...[...pools].map((pool): CounterKey => ({ kind: 'pool', pool })),
  ];
  for (const executor of ['lambda', 'fargate'] as const)
    if (settings.executorCapacity[executor] !== null) out.push({ kind: 'executor', executor });
  return out;
}

/** The counters `claimState` reads for `candidates`: their pools', DAGs' and limited tasks'. */
function scheduledCounters(candidates: ClaimCandidate[]): CounterKey[] {
  const keys: CounterKey[] = [];
  for (const { ti, maxActiveTisPerDag, maxActiveTisPerDagrun } of candidates) {
    keys.push({ kind: 'pool', pool: ti.pool }, { kind: 'dag', dagId: ti.dagId });
    if (maxActiveTisPerDag !== null) keys.push({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId });
    if (maxActiveTisPerDagrun !== null)
      keys.push({ kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId });
  }
  return keys;
}

/** Free slots per pool (unlimited = infinity) and free parallelism, from the counters. */
async function freeSlots(
  ctx: PassContext,
  pools: Map<string, number>,
): Promise<{ poolFree: Map<string, number>; parallelismFree: number }> {
  await readCounters(ctx, passCounters(ctx.deps.settings, pools.keys()));
  const poolFree = new Map<string, number>();
  for (const [pool, slots] of pools)
    poolFree.set(
      pool,
      slots === -1 ? Number.POSITIVE_INFINITY : slots - (ctx.counters.get(poolCounterId(pool)) ?? 0),
    );
  return { poolFree, parallelismFree: ctx.deps.settings.parallelism - (ctx.counters.get('global') ?? 0) };
}

/**
 * The first round's candidates: the pools with free slots, read as one stream in claim order. Each
 * pool gives a small first page; the walk over everything read is exact up to the frontier — the
 * earliest last-read candidate of a pool that has more — because nothing unread comes before it.
 * While the walk has not filled `maxClaims` by the frontier, the pools it ran past are read further
 * (doubling), each up to about its free slots, as if each had been read in full.
 */
async function readRound0(
  ctx: PassContext,
  pools: Map<string, number>,
  poolFree: Map<string, number>,
  maxClaims: number,
  scheduled: ClaimCandidate[],
  fresh: ClaimCandidate[],
): Promise<{ candidates: ClaimCandidate[]; readers: PoolReader[]; state: ClaimState; selection: Selection }> {
  const max = ctx.deps.settings.maxTisPerQuery;
  const readers: PoolReader[] = [];
  for (const [pool, free] of poolFree) {
    if (free <= 0) continue;
    const limit = Math.min(max, Math.min(free, maxClaims) + PAGE_MARGIN);
    readers.push({ pool, limit, count: 0, last: null, cursor: null, done: false, more: false });
  }
  const share = Math.ceil(maxClaims / Math.max(1, readers.length)) + FIRST_READ_MARGIN;
  // What this pass is scheduling is known whole: merged with what is read, in claim order.
  const candidates: ClaimCandidate[] = [...fresh];
  let wanted = readers.map((reader) => ({ reader, size: share }));
  for (;;) {
    const pages = await Promise.all(
      wanted.map(async ({ reader, size }) => {
        const read: ClaimCandidate[] = [];
        await readMore(ctx, reader, size, read);
        return read;
      }),
    );
    for (const read of pages) candidates.push(...read);
    const seen = scheduled.length > 0 ? new Set(candidates.map((c) => ctx.ids.of(c.ti))) : null;
    const reasonOnly = seen ? scheduled.filter((c) => !seen.has(ctx.ids.of(c.ti))) : [];
    const state = await claimState(ctx, [...candidates, ...reasonOnly], pools);
    const selection = selectClaims({ candidates, state, maxClaims, reasonOnly });
    const open = readers.filter((r) => !r.done);
    const frontier = open.reduce<TaskInstance | null>(
      (min, r) => (min === null || compareClaimOrder(r.last!, min) < 0 ? r.last : min),
      null,
    );
    const lastClaim = selection.claims.at(-1)?.ti ?? null;
    const filled = selection.claims.length >= maxClaims;
    if (frontier === null || (filled && lastClaim && compareClaimOrder(lastClaim, frontier) <= 0))
      return { candidates, readers, state, selection };
    // Read further the pools whose unread work could come before where the walk stopped.
    wanted = open
      .filter((r) => !filled || !lastClaim || compareClaimOrder(r.last!, lastClaim) < 0)
      .map((reader) => ({ reader, size: reader.count }));
  }
}

type Selection = ReturnType<typeof selectClaims>;

/**
 * Writes the wait reasons whose cause changed (a pass over a long backlog must not rewrite it, nor
 * rewrite a blocked instance whenever a counter it waits on moves: readers show the live count).
 */
async function writeWaits(
  ctx: PassContext,
  selection: Selection,
  current: Map<string, TaskInstance>,
): Promise<void> {
  const changed = selection.waits.filter((w) => {
    const id = ctx.ids.of(w.key);
    return !ctx.fresh.has(id) && !sameWaitCause(current.get(id)?.waitReason ?? null, w.reason);
  });
  if (changed.length > 0) await ctx.deps.store.setWaitReasons(changed);
}

/**
 * Writes scheduled the instances of `toSchedule` that are not claimed, each with the wait reason
 * the selection gave it in the same put (none if it gave none), so a reason costs no write of its
 * own; an instance someone else changed since it was read is left (its write is lost).
 */
async function writeScheduled(
  ctx: PassContext,
  changes: ScheduleChange[],
  waits: Selection['waits'],
): Promise<void> {
  if (changes.length === 0) return;
  // Their reasons are looked for among the waits of their own DAGs only: a pass's waits are mostly
  // of work read from the store, of other DAGs, and need no id for this.
  const dagIds = new Set<string>();
  for (const { change } of changes) dagIds.add(change.key.dagId);
  const reasons = new Map<string, WaitReason>();
  for (const w of waits) if (dagIds.has(w.key.dagId)) reasons.set(ctx.ids.of(w.key), w.reason);
  // Literals, not spreads (see ti-copy.ts).
  const writes: TiChange[] = changes.map(({ change }) => ({
    key: change.key,
    expect: change.expect,
    set: Object.assign({}, change.set, {
      waitReason: reasons.size === 0 ? null : (reasons.get(ctx.ids.of(change.key)) ?? null),
    }),
  }));
  await ctx.deps.store.updateTis(writes);
}

/**
 * The claim step's first reads, made early (an event-driven pass starts them beside its run
 * evaluation, which changes no counter): the pools, then the counters of the pass as a whole and
 * of the DAGs it looks at. Counters only guide the selection (the claim's own conditions hold the
 * limits), so reading them a few milliseconds early costs nothing but a possibly lost claim.
 */
async function readClaimInputs(deps: ServiceDeps, dagIds: Iterable<string>): Promise<ClaimInputs> {
  const ctx = { deps, counters: new Map<string, number>() } as PassContext;
  const dags = [...new Set(dagIds)].map((dagId): CounterKey => ({ kind: 'dag', dagId }));
  // The counters are read beside the pool list, the pools' by the names the last listing gave
  // (pools change rarely): only a pool new since then costs a second read after the list.
  const [pools] = await Promise.all([
    deps.store.listPools(),
    readCounters(ctx, [...passCounters(deps.settings, knownPools.get(deps.store) ?? []), ...dags]),
  ]);
  const names = pools.map((p) => p.name);
  knownPools.set(deps.store, names);
  await readCounters(ctx, passCounters(deps.settings, names));
  return { pools, counters: ctx.counters };
}

/** The pool names each store's last pool listing gave, for `readClaimInputs`. */
const knownPools = new WeakMap<ServiceDeps['store'], string[]>();

async function claimAndDispatch(deps: ServiceDeps, now: number, news: ClaimNews = {}): Promise<ClaimReport> {
  const inputs = news.inputs ? await news.inputs : null;
  const ctx: PassContext = {
    deps,
    ids: tiIds,
    // The news's records are taken from `dagsRead`; a promise of one is made only if asked for.
    dags: new Map(),
    dagsRead: new Map(news.dags),
    // The inputs were read for this pass alone: their counters are taken, not copied.
    counters: inputs?.counters ?? new Map(),
    exclude: { dagIds: new Set(), tasks: new Map() },
    fresh: new Map(),
    freshDags: new Set(),
    runs: new DispatchRuns(deps, news.runs),
  };
  // What just became scheduled is known without reading (its DAG record came with the news).
  const scheduled: ClaimCandidate[] = [];
  for (const ti of news.scheduled ?? []) {
    const found = toCandidate(ctx, ti);
    const candidate = found instanceof Promise ? await found : found;
    if (candidate) scheduled.push(candidate);
  }
  // What this pass schedules is a candidate as it will be once scheduled (a paused DAG's is only written).
  const fresh: ClaimCandidate[] = [];
  const notCandidates: ScheduleChange[] = [];
  for (const change of news.toSchedule ?? []) {
    const found = toCandidate(ctx, tiWith(change.read, change.change.set));
    const candidate = found instanceof Promise ? await found : found;
    if (!candidate) notCandidates.push(change);
    else {
      const id = ctx.ids.of(candidate.ti);
      if (ctx.fresh.has(id)) continue;
      fresh.push(candidate);
      ctx.fresh.set(id, change);
      ctx.freshDags.add(candidate.ti.dagId);
    }
  }
  const written = writeScheduled(ctx, notCandidates, []);
  // The pools and the counters the pass will need are read together: those of the pass as a whole
  // and of what just became scheduled (its pools, DAGs and limited tasks); only the counters of
  // pools not named by it are read after the pool list.
  const [poolList] = await Promise.all([
    inputs?.pools ?? deps.store.listPools(),
    readCounters(ctx, [...passCounters(deps.settings, []), ...scheduledCounters([...scheduled, ...fresh])]),
  ]);
  const pools = new Map(poolList.map((p) => [p.name, p.slots]));
  const report: ClaimReport = { claimed: 0, lost: 0, dispatched: [] };
  const { poolFree, parallelismFree } = await freeSlots(ctx, pools);
  const maxClaims = Math.max(0, parallelismFree);

  if (maxClaims === 0) {
    // Nothing can be claimed: only what just became scheduled is told why (parallelism), unread.
    const reasonOnly = [...scheduled, ...fresh];
    const state = await claimState(ctx, reasonOnly, pools);
    const selection = selectClaims({ candidates: [], state, maxClaims, reasonOnly });
    await Promise.all([
      written,
      writeWaits(ctx, selection, new Map(scheduled.map((c) => [ctx.ids.of(c.ti), c.ti]))),
      writeScheduled(ctx, [...ctx.fresh.values()], selection.waits),
    ]);
    return report;
  }

  const first = await readRound0(ctx, pools, poolFree, maxClaims, scheduled, fresh);
  let { candidates, selection } = first;
  let claimable = maxClaims;
  const cursors = new Map(first.readers.map((r) => [r.pool, r.cursor]));
  let morePools = new Set(first.readers.filter((r) => r.more).map((r) => r.pool));
  let pages = new Map(first.readers.map((r) => [r.pool, r.limit]));
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    if (round > 0) {
      const next = await readRound(ctx, pages, cursors);
      if (next.candidates.length === 0) break;
      candidates = next.candidates;
      morePools = next.morePools;
      // Counters are read once per pass: earlier rounds' claims were added to them (countClaims).
      const state = await claimState(ctx, candidates, pools);
      claimable = Math.max(0, state.parallelism.limit - state.parallelism.used);
      selection = selectClaims({ candidates, state, maxClaims: claimable });
    }
    const current = new Map<string, TaskInstance>();
    for (const { ti } of scheduled) current.set(ctx.ids.of(ti), ti);
    for (const { ti } of candidates) current.set(ctx.ids.of(ti), ti);
    // Wait reasons go to instances this round does not claim: written beside the claim, not before it.
    // What this pass schedules and does not claim is written scheduled beside it too, with its reason.
    // Blocked work is set aside after it (the store parks it only once its limit's counter is full).
    const [outcome] = await Promise.all([
      applyClaims(ctx, selection.claims, now, report),
      writeWaits(ctx, selection, current),
      writeScheduled(ctx, unclaimedFresh(ctx, selection), selection.waits),
      written,
    ]);
    if (ctx.fresh.size > 0) {
      // A claim of a fresh instance lost to a limit or conflicts left it unwritten: it is written scheduled.
      const unclaimed = [...outcome.untouched].filter((id) => ctx.fresh.has(id));
      await writeScheduled(
        ctx,
        unclaimed.map((id) => ctx.fresh.get(id)!),
        [],
      );
      // From here on it is in the store like any other instance.
      ctx.fresh.clear();
      ctx.freshDags.clear();
    }
    countClaims(ctx, selection.claims, outcome);
    await setAsideBlocked(ctx, selection, current);
    if (claimable === 0 || selection.claims.length >= claimable) break;
    // Later rounds look past blocked work, in pools that still have room after these claims.
    for (const { ti } of selection.claims) poolFree.set(ti.pool, (poolFree.get(ti.pool) ?? 0) - ti.poolSlots);
    const blockedPools = new Set<string>();
    for (const { key, reason } of selection.waits) {
      const blocked = blockedBy(reason.kind);
      if (blocked === 'dag') ctx.exclude.dagIds.add(key.dagId);
      if (blocked === 'task')
        ctx.exclude.tasks.set(`${key.dagId}/${key.taskId}`, { dagId: key.dagId, taskId: key.taskId });
      const pool = current.get(ctx.ids.of(key))?.pool;
      if (blocked && pool) blockedPools.add(pool);
    }
    // A later round reads on where the pool's reading stopped, about as many as it still has room for.
    pages = new Map(
      [...pages]
        .filter(([pool]) => morePools.has(pool) && blockedPools.has(pool) && (poolFree.get(pool) ?? 0) > 0)
        .map(([pool, limit]) => [pool, Math.min(limit, poolFree.get(pool)! + PAGE_MARGIN)]),
    );
    if (pages.size === 0) break;
  }
  if (report.lost > 0) deps.logger.debug('claims lost to a race or a limit', { lost: report.lost });
  return report;
}

/** What this pass schedules that `selection` does not claim (no ids of the claims built when it schedules nothing). */
function unclaimedFresh(ctx: PassContext, selection: Selection): ScheduleChange[] {
  if (ctx.fresh.size === 0) return [];
  const selected = new Set(selection.claims.map((c) => ctx.ids.of(c.ti)));
  return [...ctx.fresh].filter(([id]) => !selected.has(id)).map(([, change]) => change);
}

/**
 * A later round: one page per pool where the earlier rounds stopped reading it (everything before
 * was read: claimed, or blocked by now), leaving out the DAGs and tasks found blocked, so work
 * behind them is reached without reading anything twice or scanning the backlog.
 */
async function readRound(
  ctx: PassContext,
  pages: Map<string, number>,
  cursors: Map<string, string | null>,
): Promise<{ candidates: ClaimCandidate[]; morePools: Set<string> }> {
  const candidates: ClaimCandidate[] = [];
  const morePools = new Set<string>();
  for (const [pool, limit] of pages) {
    const cursor = cursors.get(pool) ?? null;
    const reader: PoolReader = { pool, limit, count: 0, last: null, cursor, done: false, more: false };
    const read: ClaimCandidate[] = [];
    await readMore(ctx, reader, limit, read);
    cursors.set(pool, reader.cursor);
    if (reader.more) morePools.add(pool);
    candidates.push(...read);
  }
  return { candidates, morePools };
}

/**
 * Adds what this round claimed to the counters read this pass, so a later round reads none again;
 * a counter a claim found full (another scheduler raised it since it was read) counts as full for
 * the rest of the pass.
 */
function countClaims(ctx: PassContext, claims: ClaimDecision[], outcome: ClaimOutcome): void {
  const add = (counter: CounterKey, amount: number) => {
    const id = counterId(counter);
    ctx.counters.set(id, (ctx.counters.get(id) ?? 0) + amount);
  };
  for (const { ti, holds } of claims) {
    if (!outcome.claimed.has(ctx.ids.of(ti))) continue;
    for (const { counter, amount } of holds) add(counter, amount);
    if (ctx.deps.settings.executorCapacity[ti.executor] !== null)
      add({ kind: 'executor', executor: ti.executor }, 1);
  }
  for (const { counter, limit } of outcome.full) {
    const id = counterKeyString(counter);
    if (limit >= 0) ctx.counters.set(id, Math.max(ctx.counters.get(id) ?? 0, limit));
  }
}

/**
 * Tells the store which instances read this round their own DAG or task limit blocks, so one that
 * can keep them out of later listings (DynamoDB parks them) need not read them again.
 */
async function setAsideBlocked(
  ctx: PassContext,
  selection: Selection,
  current: Map<string, TaskInstance>,
): Promise<void> {
  const { store } = ctx.deps;
  if (!store.setAsideBlocked) return;
  const byPool = new Map<string, TaskInstance[]>();
  const dagIds = new Set<string>();
  const tasks = new Map<string, { dagId: string; taskId: string }>();
  for (const { key, reason } of selection.waits) {
    // Only an instance's own limit parks it: for a pool's reason the store would read its task's
    // counters, absent unless the task has a limit, for nothing.
    const blocked = ownLimitOf(reason.kind);
    const ti = current.get(ctx.ids.of(key));
    if (!blocked || !ti) continue;
    if (blocked === 'dag') dagIds.add(key.dagId);
    else tasks.set(`${key.dagId}/${key.taskId}`, { dagId: key.dagId, taskId: key.taskId });
    byPool.set(ti.pool, [...(byPool.get(ti.pool) ?? []), ti]);
  }
  const exclude = { dagIds: [...dagIds], tasks: [...tasks.values()] };
  for (const [pool, tis] of byPool) await store.setAsideBlocked(pool, tis, exclude);
}

/** What one round's claims came to: the instances claimed, and counters found full, with their limits. */
interface ClaimOutcome {
  claimed: Set<string>;
  full: { counter: CounterKey; limit: number }[];
  /** Lost without the instance having changed (a limit reached, conflicts): still as read, by `tiKeyString`. */
  untouched: Set<string>;
}

async function applyClaims(
  ctx: PassContext,
  claims: ClaimDecision[],
  now: number,
  report: ClaimReport,
): Promise<ClaimOutcome> {
  const { deps, fresh, ids, counters, runs } = ctx;
  const outcome: ClaimOutcome = { claimed: new Set(), full: [], untouched: new Set() };
  const capacity = deps.settings.executorCapacity;
  const byKey = new Map(claims.map(({ ti }) => [ids.of(ti), ti]));
  const requests: ClaimRequest[] = claims.map(({ ti, holds }) => {
    const executorLimit = capacity[ti.executor];
    const change = fresh.size > 0 ? fresh.get(ids.of(ti)) : undefined;
    const held: ClaimRequest['holds'] =
      executorLimit === null
        ? holds
        : [
            ...holds,
            { counter: { kind: 'executor', executor: ti.executor }, amount: 1, limit: executorLimit },
          ];
    // Two literals rather than a conditional spread in one (see ti-copy.ts).
    return change
      ? {
          key: keyOf(ti),
          tryNumber: ti.tryNumber,
          queuedAt: now,
          schedule: { read: change.read, set: change.change.set },
          holds: held,
        }
      : { key: keyOf(ti), tryNumber: ti.tryNumber, queuedAt: now, holds: held };
  });
  const sent = await fitToCounters(deps, requests, counters, report, outcome, ids);
  // The runs the messages carry are read (those the pass has not) beside the claim.
  runs.want(sent.map((r) => r.key));
  for (let i = 0; i < sent.length; i += deps.settings.maxTisPerQuery) {
    const result = await deps.store.claim(sent.slice(i, i + deps.settings.maxTisPerQuery));
    report.claimed += result.claimed.length;
    report.lost += result.lost.length;
    for (const key of result.claimed) outcome.claimed.add(ids.of(key));
    for (const { key, counter, reason } of result.lost) {
      if (reason !== 'ti_changed') outcome.untouched.add(ids.of(key));
      const hold = counter && requests.find((r) => ids.of(r.key) === ids.of(key))?.holds;
      const limit = hold?.find((h) => counterKeyString(h.counter) === counterKeyString(counter!))?.limit;
      if (counter && limit !== undefined) outcome.full.push({ counter, limit });
    }
    const messages = await Promise.all(result.claimed.map((key) => messageOf(runs, byKey.get(ids.of(key))!)));
    if (messages.length === 0) continue;
    await deps.dispatcher.dispatch(messages);
    report.dispatched.push(...messages);
  }
  return outcome;
}

/**
 * The counters the claims would fill, read again just before the claim, and the claims fitted to
 * them (claim-room.ts): a claim a concurrent pass's claims left no room for is lost here, unsent,
 * instead of cancelling its whole transaction. The pass's counters take the values read.
 */
async function fitToCounters(
  deps: ServiceDeps,
  requests: ClaimRequest[],
  counters: Map<string, number>,
  report: ClaimReport,
  outcome: ClaimOutcome,
  ids: TiIds,
): Promise<ClaimRequest[]> {
  const used = (counter: CounterKey) => counters.get(counterId(counter)) ?? 0;
  const tight = tightCounters(requests, used);
  if (tight.length === 0) return requests;
  for (const { key, used } of await deps.store.readCounters(tight)) counters.set(counterId(key), used);
  const { kept, left } = fitToRoom(requests, tight, used);
  report.lost += left.length;
  for (const { claim, counter, limit } of left) {
    outcome.untouched.add(ids.of(claim.key));
    outcome.full.push({ counter, limit });
  }
  return kept;
}

/** The dispatch message of a claimed try, with its run when the pass has it (dispatch-runs.ts). */
async function messageOf(runs: DispatchRuns, ti: TaskInstance): Promise<DispatchMessage> {
  const run = await runs.of(ti, ti.dagVersion);
  const { tryNumber, dagVersion, executor } = ti;
  // Two literals rather than a conditional spread in one (see ti-copy.ts).
  return run
    ? { key: keyOf(ti), tryNumber, dagVersion, executor, run }
    : { key: keyOf(ti), tryNumber, dagVersion, executor };
}

function keyOf(ti: TiKey): TiKey {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

export { claimAndDispatch, readClaimInputs };
