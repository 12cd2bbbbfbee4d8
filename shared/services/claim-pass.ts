/**
 * Step 4 of a scheduler pass: claim slots for the highest-priority scheduled task instances and
 * hand them to the dispatcher. Selection is the pure core (`selectClaims`); the store applies it
 * with conditional transactions, so concurrent schedulers can never exceed a limit — a loser just
 * sees its request reported lost.
 */
import { type ClaimCandidate, type ClaimDecision, type ClaimState, selectClaims } from '#core/claim.ts';
import { taskOf } from '#core/manifest.ts';
import {
  type CounterKey,
  counterKeyString,
  type DagRecord,
  type TaskInstance,
  type TiKey,
  tiKeyString,
  type WaitReason,
} from '#core/model.ts';
import { sameWaitReason } from '#core/wait-reasons.ts';
import type { ClaimRequest, DispatchMessage } from '#ports';
import type { ServiceDeps } from './deps.ts';

export interface ClaimReport {
  claimed: number;
  lost: number;
  dispatched: DispatchMessage[];
}

interface PassContext {
  deps: ServiceDeps;
  dags: Map<string, DagRecord | null>;
}

async function dagRecord(ctx: PassContext, dagId: string): Promise<DagRecord | null> {
  if (!ctx.dags.has(dagId)) ctx.dags.set(dagId, await ctx.deps.store.getDag(dagId));
  return ctx.dags.get(dagId) ?? null;
}

async function toCandidate(ctx: PassContext, ti: TaskInstance): Promise<ClaimCandidate | null> {
  const record = await dagRecord(ctx, ti.dagId);
  if (!record || record.paused) return null;
  const dag = await ctx.deps.manifests.get(ti.dagId, ti.dagVersion);
  const task = taskOf(dag, ti.taskId);
  return {
    ti,
    dagMaxActiveTasks: dag.maxActiveTasks,
    maxActiveTisPerDag: task.maxActiveTisPerDag,
    maxActiveTisPerDagrun: task.maxActiveTisPerDagrun,
  };
}

function countersFor(candidates: ClaimCandidate[]): CounterKey[] {
  const keys = new Map<string, CounterKey>();
  const add = (key: CounterKey) => keys.set(counterKeyString(key), key);
  for (const { ti, maxActiveTisPerDag, maxActiveTisPerDagrun } of candidates) {
    add({ kind: 'dag', dagId: ti.dagId });
    if (maxActiveTisPerDag !== null) add({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId });
    if (maxActiveTisPerDagrun !== null)
      add({ kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId });
  }
  return [...keys.values()];
}

async function readState(
  ctx: PassContext,
  candidates: ClaimCandidate[],
  pools: Map<string, number>,
): Promise<ClaimState> {
  const { settings, store } = ctx.deps;
  const base: CounterKey[] = [
    { kind: 'global' },
    ...[...pools.keys()].map((pool): CounterKey => ({ kind: 'pool', pool })),
    { kind: 'executor', executor: 'lambda' },
    { kind: 'executor', executor: 'fargate' },
  ];
  const values = await store.readCounters([...base, ...countersFor(candidates)]);
  const used = new Map(values.map((c) => [counterKeyString(c.key), c.used]));
  const get = (key: CounterKey) => used.get(counterKeyString(key)) ?? 0;
  const state: ClaimState = {
    parallelism: { used: get({ kind: 'global' }), limit: settings.parallelism },
    pools: new Map([...pools].map(([pool, slots]) => [pool, { used: get({ kind: 'pool', pool }), slots }])),
    dagUsed: new Map(),
    taskUsed: new Map(),
    taskRunUsed: new Map(),
    executorFree: {
      lambda: freeOf(settings.executorCapacity.lambda, get({ kind: 'executor', executor: 'lambda' })),
      fargate: freeOf(settings.executorCapacity.fargate, get({ kind: 'executor', executor: 'fargate' })),
    },
  };
  for (const { ti } of candidates) {
    state.dagUsed.set(ti.dagId, get({ kind: 'dag', dagId: ti.dagId }));
    state.taskUsed.set(`${ti.dagId}/${ti.taskId}`, get({ kind: 'task', dagId: ti.dagId, taskId: ti.taskId }));
    state.taskRunUsed.set(
      `${ti.dagId}/${ti.runId}/${ti.taskId}`,
      get({ kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId }),
    );
  }
  return state;
}

function freeOf(capacity: number | null, used: number): number | null {
  return capacity === null ? null : Math.max(0, capacity - used);
}

interface Exclusions {
  dagIds: Set<string>;
  tasks: Map<string, { dagId: string; taskId: string }>;
}

/**
 * Reads one page of candidates per pool, leaving out DAGs and tasks already known to be blocked,
 * so work behind them is reached without scanning the backlog.
 */
async function gatherCandidates(
  ctx: PassContext,
  pages: Map<string, number>,
  exclude: Exclusions,
): Promise<{ candidates: ClaimCandidate[]; morePools: Set<string> }> {
  const candidates: ClaimCandidate[] = [];
  const morePools = new Set<string>();
  for (const [pool, limit] of pages) {
    const page = await ctx.deps.store.listClaimCandidates({
      pool,
      limit,
      exclude: { dagIds: [...exclude.dagIds], tasks: [...exclude.tasks.values()] },
    });
    for (const ti of page.items) {
      if (exclude.dagIds.has(ti.dagId) || exclude.tasks.has(`${ti.dagId}/${ti.taskId}`)) continue;
      const candidate = await toCandidate(ctx, ti);
      if (candidate) candidates.push(candidate);
      else exclude.dagIds.add(ti.dagId);
    }
    if (page.next) morePools.add(pool);
  }
  return { candidates, morePools };
}

/** Rounds of read → select → claim; a new round only reads pools whose page held blocked work. */
const MAX_ROUNDS = 4;
/** Candidates read beyond the free slots, so smaller work can fill what a big task cannot. */
const PAGE_MARGIN = 8;
/** Candidates read from a full or missing pool that just received work, so it learns why it waits. */
const REASON_PAGE = 20;

/** Wait reasons block their own DAG or task in later rounds: what they say will not change this pass. */
function blockedBy(kind: WaitReason['kind']): 'dag' | 'task' | null {
  if (kind === 'dag_max_active_tasks') return 'dag';
  if (
    kind === 'task_max_active_tis_per_dag' ||
    kind === 'task_max_active_tis_per_dagrun' ||
    kind === 'pool_full' ||
    kind === 'pool_too_small'
  ) {
    return 'task';
  }
  return null;
}

/**
 * How many candidates to read per pool: none from a full pool (as Airflow's critical section skips
 * starved pools), about the free slots otherwise, a few from full or missing pools that just got
 * work so their wait reasons are written.
 */
async function pagesToRead(
  deps: ServiceDeps,
  pools: Map<string, number>,
  touched: Set<string>,
): Promise<{ pages: Map<string, number>; parallelismFree: number }> {
  const keys: CounterKey[] = [
    { kind: 'global' },
    ...[...pools.keys()].map((pool): CounterKey => ({ kind: 'pool', pool })),
  ];
  const used = new Map((await deps.store.readCounters(keys)).map((c) => [counterKeyString(c.key), c.used]));
  const parallelismFree = deps.settings.parallelism - (used.get('global') ?? 0);
  const pages = new Map<string, number>();
  const max = deps.settings.maxTisPerQuery;
  for (const [pool, slots] of pools) {
    const free = slots === -1 ? Number.POSITIVE_INFINITY : slots - (used.get(`pool/${pool}`) ?? 0);
    if (free > 0 && parallelismFree > 0)
      pages.set(pool, Math.min(max, Math.min(free, parallelismFree) + PAGE_MARGIN));
    else if (touched.has(pool)) pages.set(pool, Math.min(max, REASON_PAGE));
  }
  for (const pool of touched) if (!pools.has(pool)) pages.set(pool, Math.min(max, REASON_PAGE));
  return { pages, parallelismFree };
}

async function claimAndDispatch(
  deps: ServiceDeps,
  now: number,
  touched = new Set<string>(),
): Promise<ClaimReport> {
  const ctx: PassContext = { deps, dags: new Map() };
  const pools = new Map((await deps.store.listPools()).map((p) => [p.name, p.slots]));
  const report: ClaimReport = { claimed: 0, lost: 0, dispatched: [] };
  const exclude: Exclusions = { dagIds: new Set(), tasks: new Map() };
  let { pages } = await pagesToRead(deps, pools, touched);
  for (let round = 0; round < MAX_ROUNDS && pages.size > 0; round += 1) {
    const { candidates, morePools } = await gatherCandidates(ctx, pages, exclude);
    if (candidates.length === 0) break;
    const state = await readState(ctx, candidates, pools);
    const maxClaims = Math.max(0, state.parallelism.limit - state.parallelism.used);
    const selection = selectClaims({ candidates, state, maxClaims });
    const current = new Map(candidates.map((c) => [tiKeyString(c.ti), c.ti]));
    // Only changed reasons are written: a pass over a long backlog must not rewrite it.
    const changed = selection.waits.filter(
      (w) => !sameWaitReason(current.get(tiKeyString(w.key))?.waitReason ?? null, w.reason),
    );
    await deps.store.setWaitReasons(changed);
    await applyClaims(deps, selection.claims, now, report);
    if (maxClaims === 0 || selection.claims.length >= maxClaims) break;
    const blockedPools = new Set<string>();
    for (const { key, reason } of selection.waits) {
      const blocked = blockedBy(reason.kind);
      if (blocked === 'dag') exclude.dagIds.add(key.dagId);
      if (blocked === 'task')
        exclude.tasks.set(`${key.dagId}/${key.taskId}`, { dagId: key.dagId, taskId: key.taskId });
      const pool = current.get(tiKeyString(key))?.pool;
      if (blocked && pool) blockedPools.add(pool);
    }
    pages = new Map([...pages].filter(([pool]) => morePools.has(pool) && blockedPools.has(pool)));
  }
  if (report.lost > 0) deps.logger.debug('claims lost to a race or a limit', { lost: report.lost });
  return report;
}

async function applyClaims(
  deps: ServiceDeps,
  claims: ClaimDecision[],
  now: number,
  report: ClaimReport,
): Promise<void> {
  const capacity = deps.settings.executorCapacity;
  const byKey = new Map(claims.map(({ ti }) => [tiKeyString(ti), ti]));
  const requests: ClaimRequest[] = claims.map(({ ti, holds }) => {
    const executorLimit = capacity[ti.executor];
    return {
      key: keyOf(ti),
      tryNumber: ti.tryNumber,
      queuedAt: now,
      holds:
        executorLimit === null
          ? holds
          : [
              ...holds,
              { counter: { kind: 'executor', executor: ti.executor }, amount: 1, limit: executorLimit },
            ],
    };
  });
  for (let i = 0; i < requests.length; i += deps.settings.maxTisPerQuery) {
    const result = await deps.store.claim(requests.slice(i, i + deps.settings.maxTisPerQuery));
    report.claimed += result.claimed.length;
    report.lost += result.lost.length;
    const messages = result.claimed.map((key): DispatchMessage => {
      const ti = byKey.get(tiKeyString(key))!;
      return { key: keyOf(key), tryNumber: ti.tryNumber, dagVersion: ti.dagVersion, executor: ti.executor };
    });
    if (messages.length === 0) continue;
    await deps.store.setWaitReasons(messages.map((m) => ({ key: m.key, reason: null })));
    await deps.dispatcher.dispatch(messages);
    report.dispatched.push(...messages);
  }
}

function keyOf(ti: TiKey): TiKey {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

export { claimAndDispatch };
