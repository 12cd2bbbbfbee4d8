/**
 * Steps 2 and 3 of a scheduler pass: start queued runs under maxActiveRuns (a backfill under its own
 * limit), then evaluate running runs: trigger rules, due retries and reschedules, run completion.
 */
import { evaluateDownstream, firstReads, probeReads } from '#core/evaluate-downstream.ts';
import { evaluateRun, type TiTransition } from '#core/evaluate-run.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRecord, DagRun, TaskInstance, TiKey, WaitReason } from '#core/model.ts';
import { planRunStarts } from '#core/runs.ts';
import { isRunFinished } from '#core/states.ts';
import type { TiChange } from '#ports';
import { allPages, type ServiceDeps } from './deps.ts';
import { tiWith } from './ti-copy.ts';

export interface AdvanceReport {
  runsStarted: number;
  runsFinished: DagRun[];
  tisChanged: number;
  /** Runs whose evaluation lost a race: they are looked at again on the next pass. */
  runsRetry: number;
  /** Pools of task instances that became scheduled. */
  poolsTouched: Set<string>;
  /** The task instances that became scheduled, as written (so the claim step can say why they wait unread). */
  scheduled: TaskInstance[];
  /**
   * With `defer`: the instances the look would have moved to scheduled, not written yet. The claim
   * step that follows claims what it can of them in its own transaction (never listed as
   * scheduled) and writes the rest scheduled, each with its wait reason in that same put.
   */
  toSchedule: ScheduleChange[];
  /** The DAG records this step read, for the rest of the pass. */
  dags: Map<string, DagRecord>;
  /**
   * The runs this step read, as last known (a run it started or finished in its new state), for
   * the dispatch messages of the claim step that follows (dispatch-runs.ts).
   */
  runs: DagRun[];
}

/** A change to scheduled a look decided but left for the claim step to make, with the instance as read. */
export interface ScheduleChange {
  read: TaskInstance;
  change: TiChange;
}

/** DAG records being read this pass, by id (each read once, some before it is known they are needed). */
type DagReads = Map<string, Promise<DagRecord | null>>;

async function loadDags(
  deps: ServiceDeps,
  dagIds: Iterable<string>,
  reads: DagReads = new Map(),
): Promise<Map<string, DagRecord>> {
  const ids = [...new Set(dagIds)];
  const records = await Promise.all(
    ids.map((id) => {
      const read = reads.get(id) ?? deps.store.getDag(id);
      reads.set(id, read);
      return read;
    }),
  );
  const out = new Map<string, DagRecord>();
  for (const record of records) if (record) out.set(record.dagId, record);
  return out;
}

async function startQueuedRuns(
  deps: ServiceDeps,
  unfinished: DagRun[],
  dags: Map<string, DagRecord>,
  now: number,
): Promise<DagRun[]> {
  const queued = unfinished.filter((r) => r.state === 'queued' && !dags.get(r.dagId)?.paused);
  if (queued.length === 0) return [];
  const runningByDag = new Map<string, number>();
  const runningByBackfill = new Map<string, number>();
  for (const run of unfinished) {
    if (run.state !== 'running') continue;
    if (run.backfillId)
      runningByBackfill.set(run.backfillId, (runningByBackfill.get(run.backfillId) ?? 0) + 1);
    else runningByDag.set(run.dagId, (runningByDag.get(run.dagId) ?? 0) + 1);
  }
  const maxActiveRunsByDag = new Map<string, number>();
  for (const run of queued) {
    const record = dags.get(run.dagId);
    if (!record || maxActiveRunsByDag.has(run.dagId)) continue;
    const dag = await deps.manifests.get(run.dagId, record.currentVersion);
    maxActiveRunsByDag.set(run.dagId, dag.maxActiveRuns);
  }
  const maxActiveRunsByBackfill = new Map<string, number>();
  for (const id of new Set(queued.map((r) => r.backfillId).filter((id): id is string => id !== null))) {
    const backfill = await deps.store.getBackfill(id);
    maxActiveRunsByBackfill.set(id, backfill && !backfill.cancelledAt ? backfill.maxActiveRuns : 0);
  }
  const toStart = planRunStarts({
    queued,
    runningByDag,
    runningByBackfill,
    maxActiveRunsByDag,
    maxActiveRunsByBackfill,
    now,
  });
  const started: DagRun[] = [];
  for (const run of toStart) {
    const ok = await deps.store.updateRun(
      run.dagId,
      run.runId,
      { state: 'queued' },
      { state: 'running', startedAt: now },
    );
    if (ok) started.push(Object.assign({}, run, { state: 'running' as const, startedAt: now }));
  }
  return started;
}

/** What one look at a run came to. */
interface RunLook {
  changed: number;
  finished: DagRun | null;
  lostRace: boolean;
  /** Instances that became scheduled, as written, and the pools of every one meant to. */
  scheduled: TaskInstance[];
  pools: string[];
  /** With `defer`: the changes to scheduled left for the claim step. */
  toSchedule: ScheduleChange[];
}

/** The look that changed nothing (shared, and only read: most looks at a run change nothing). */
const UNCHANGED: RunLook = Object.freeze({
  changed: 0,
  finished: null,
  lostRace: false,
  scheduled: Object.freeze([]) as unknown as TaskInstance[],
  pools: Object.freeze([]) as unknown as string[],
  toSchedule: Object.freeze([]) as unknown as ScheduleChange[],
});

/** A look from what `applyLook` made of it (a literal: `{ ...applied, more }` is slow, see ti-copy.ts). */
function lookOf(
  applied: Pick<RunLook, 'changed' | 'scheduled' | 'pools' | 'toSchedule'>,
  finished: DagRun | null,
  lostRace: boolean,
): RunLook {
  return {
    changed: applied.changed,
    finished,
    lostRace,
    scheduled: applied.scheduled,
    pools: applied.pools,
    toSchedule: applied.toSchedule,
  };
}

/** What no write applied (shared, and only read). */
const NOTHING_WRITTEN = Object.freeze({
  applied: Object.freeze([]) as unknown as TiKey[],
  lost: Object.freeze([]) as unknown as TiKey[],
});

/**
 * Applies a look's changes and wait reasons (independent writes, made at once). With `defer`, the
 * changes to scheduled are not written but handed back (`toSchedule`) for the claim step.
 */
async function applyLook(
  deps: ServiceDeps,
  transitions: TiTransition[],
  waits: { key: TiKey; reason: WaitReason }[],
  byTask: Map<string, TaskInstance | null> | (() => Map<string, TaskInstance | null>),
  defer = false,
): Promise<Pick<RunLook, 'changed' | 'scheduled' | 'pools' | 'toSchedule'> & { lost: number }> {
  // Most looks at a run change nothing (a whole look at a run whose tries are still going).
  if (transitions.length === 0 && waits.length === 0)
    return { changed: 0, lost: 0, scheduled: [], pools: [], toSchedule: [] };
  const schedules = transitions.some((t) => t.set.state === 'scheduled');
  const known = schedules ? (typeof byTask === 'function' ? byTask() : byTask) : null;
  const toSchedule: ScheduleChange[] = [];
  let writes = transitions;
  if (defer && known) {
    writes = [];
    for (const t of transitions) {
      const ti = known.get(t.key.taskId);
      if (t.set.state === 'scheduled' && ti) toSchedule.push({ read: ti, change: t });
      else writes.push(t);
    }
  }
  // Both writes at once when there are both; one alone is awaited as it is (most looks that
  // write only change wait reasons: no Promise.all and no result object for them).
  let written: { applied: TiKey[]; lost: TiKey[] } = NOTHING_WRITTEN;
  if (writes.length > 0 && waits.length > 0)
    [written] = await Promise.all([deps.store.updateTis(writes), deps.store.setWaitReasons(waits)]);
  else if (writes.length > 0) written = await deps.store.updateTis(writes);
  else if (waits.length > 0) await deps.store.setWaitReasons(waits);
  const { applied, lost } = written;
  const scheduled: TaskInstance[] = [];
  const pools = toSchedule.map((s) => s.read.pool);
  if (known && writes.some((t) => t.set.state === 'scheduled')) {
    const done = new Set(applied.map((key) => key.taskId));
    for (const t of writes) {
      const ti = known.get(t.key.taskId);
      if (t.set.state !== 'scheduled' || !ti) continue;
      pools.push(ti.pool);
      if (done.has(ti.taskId)) scheduled.push(tiWith(ti, t.set));
    }
  }
  return { changed: applied.length, lost: lost.length, scheduled, pools, toSchedule };
}

/** Evaluates one running run and applies what the core decided, each change conditionally. */
async function evaluateOneRun(
  deps: ServiceDeps,
  run: DagRun,
  now: number,
  listed?: TaskInstance[],
  defer = false,
): Promise<RunLook> {
  const dag =
    deps.manifests.peek(run.dagId, run.dagVersion) ?? (await deps.manifests.get(run.dagId, run.dagVersion));
  const tis = listed ?? (await deps.store.listTis(run.dagId, run.runId));
  const { transitions, waits, finish } = evaluateRun({ dag, run, tis, now });
  // Most looks at a run change nothing: no write is made for them, and nothing is built for them.
  if (transitions.length === 0 && waits.length === 0 && !finish) return UNCHANGED;
  const byTask = () => new Map<string, TaskInstance | null>(tis.map((ti) => [ti.taskId, ti]));
  const applied = await applyLook(deps, transitions, waits, byTask, defer);
  if (applied.lost > 0 || !finish) return lookOf(applied, null, applied.lost > 0);
  const patch = { state: finish.state, endedAt: now, note: finish.note };
  const ok = await deps.store.updateRun(run.dagId, run.runId, { state: 'running' }, patch);
  return lookOf(applied, ok ? Object.assign({}, run, patch) : null, !ok);
}

/** Reads instances (mapIndex -1, the only index Updraft makes) by task id, at once. */
async function readByTask(
  deps: ServiceDeps,
  run: Pick<DagRun, 'dagId' | 'runId'>,
  taskIds: readonly string[],
): Promise<[string, TaskInstance | null][]> {
  const { dagId, runId } = run;
  const { store } = deps;
  if (store.getTis) {
    const read = await store.getTis(taskIds.map((taskId) => ({ dagId, runId, taskId, mapIndex: -1 })));
    return taskIds.map((taskId, i) => [taskId, read[i] ?? null]);
  }
  return Promise.all(
    taskIds.map(
      async (taskId) => [taskId, await store.getTi({ dagId, runId, taskId, mapIndex: -1 })] as const,
    ),
  ) as Promise<[string, TaskInstance | null][]>;
}

/**
 * What a narrow look reads first: the instances it evaluates and two probes (null: list the run),
 * in groups read at once, each by one `getTis`. The manifest's last task is a group of its own:
 * in a wide run it is far from the ended tasks in the run's partition, and a range query of both
 * would read every instance between them (docs/state-store.md "Reads by range").
 */
function narrowReads(dag: DagManifest, ended: string[]): string[][] | null {
  const ids = firstReads(dag, ended);
  if (!ids) return null;
  const taken = new Set(ids);
  const probes = probeReads(dag, ended).filter((id) => !taken.has(id));
  const last = dag.tasks.at(-1)?.taskId;
  const near = [...ids, ...probes.filter((id) => id !== last)];
  return last !== undefined && probes.includes(last) ? [near, [last]] : [near];
}

/** `readByTask` of each group at once, in the groups' order. */
async function readGroups(
  deps: ServiceDeps,
  run: Pick<DagRun, 'dagId' | 'runId'>,
  groups: readonly string[][],
): Promise<[string, TaskInstance | null][]> {
  return (await Promise.all(groups.map((ids) => readByTask(deps, run, ids)))).flat();
}

/** Rounds of reads a narrow look may take (one per cascade level) before the whole run is evaluated. */
const MAX_NARROW_ROUNDS = 4;

/**
 * A look at a run from the tasks whose tries ended (`evaluateDownstream`), reading only what their
 * news can change; `first` are instances already being read for it. Null when the run takes a
 * whole look instead. A narrow look that cannot prove the run unfinished is followed at once by a
 * whole look, which finishes the run if it is: before the pass claims, so that what the finish
 * frees (a maxActiveRuns slot: the next run's instances) competes for slots in priority order
 * with everything else this pass schedules.
 */
async function lookDownstream(
  deps: ServiceDeps,
  run: DagRun,
  ended: string[],
  first: [string, TaskInstance | null][] | null,
  now: number,
  defer = false,
): Promise<RunLook | null> {
  const dag =
    deps.manifests.peek(run.dagId, run.dagVersion) ?? (await deps.manifests.get(run.dagId, run.dagVersion));
  const ids = first ? null : narrowReads(dag, ended);
  const reads = first ?? (ids ? await readGroups(deps, run, ids) : null);
  if (!reads) return null;
  const known = new Map(reads);
  for (let round = 0; round < MAX_NARROW_ROUNDS; round += 1) {
    const look = evaluateDownstream({ dag, run, ended, known, now });
    if (look.kind === 'full') return null;
    if (look.kind === 'need') {
      for (const [taskId, ti] of await readByTask(deps, run, look.taskIds)) known.set(taskId, ti);
      continue;
    }
    const applied = await applyLook(deps, look.transitions, look.waits, known, defer);
    const narrow = lookOf(applied, null, applied.lost > 0);
    if (applied.lost > 0 || look.running) return narrow;
    const whole = await evaluateOneRun(deps, run, now, undefined, defer);
    return {
      finished: whole.finished,
      lostRace: whole.lostRace,
      changed: narrow.changed + whole.changed,
      scheduled: [...narrow.scheduled, ...whole.scheduled],
      pools: [...narrow.pools, ...whole.pools],
      toSchedule: [...narrow.toSchedule, ...whole.toSchedule],
    };
  }
  return null;
}

/** Runs a pass looks at at once. */
const RUNS_AT_ONCE = 16;

/** `fn` over `items`, `size` at a time, results in order. */
async function inGroups<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

function emptyReport(dags: Map<string, DagRecord>, runs: DagRun[] = []): AdvanceReport {
  return {
    runsStarted: 0,
    runsFinished: [],
    tisChanged: 0,
    runsRetry: 0,
    poolsTouched: new Set(),
    scheduled: [],
    toSchedule: [],
    dags,
    runs,
  };
}

function addLook(report: AdvanceReport, look: RunLook): void {
  report.tisChanged += look.changed;
  if (look.finished) report.runsFinished.push(look.finished);
  if (look.lostRace) report.runsRetry += 1;
  for (const pool of look.pools) report.poolsTouched.add(pool);
  report.scheduled.push(...look.scheduled);
  report.toSchedule.push(...look.toSchedule);
}

/**
 * A run with news. `ended`: the tasks whose tries ended (task_finished events that name them), so
 * the run is looked at from their downstream; absent, the whole run is evaluated. `dagVersion`
 * (the ended tries' DAG version) lets those instances be read beside the run itself.
 */
export type RunRef = { dagId: string; runId: string; ended?: string[]; dagVersion?: string };

const refKey = (r: { dagId: string; runId: string }) => `${r.dagId}/${r.runId}`;

/** A ref of its own (ended tasks copied), from a literal rather than spreads (see ti-copy.ts). */
function copyRef(ref: RunRef): RunRef {
  const copy: RunRef = { dagId: ref.dagId, runId: ref.runId };
  if (ref.ended) copy.ended = [...ref.ended];
  if (ref.dagVersion !== undefined) copy.dagVersion = ref.dagVersion;
  return copy;
}

/** One ref per run: the ended tasks of its refs together, or none (a whole look) if any ref has none. */
function mergeRefs(refs: RunRef[]): Map<string, RunRef> {
  const out = new Map<string, RunRef>();
  for (const ref of refs) {
    const key = refKey(ref);
    const seen = out.get(key);
    if (!seen) out.set(key, copyRef(ref));
    else if (!seen.ended || !ref.ended || seen.dagVersion !== ref.dagVersion)
      out.set(key, { dagId: ref.dagId, runId: ref.runId });
    else for (const taskId of ref.ended) if (!seen.ended.includes(taskId)) seen.ended.push(taskId);
  }
  return out;
}

/** What a pass reads for a narrow look before it has read the run: instances by key, or the whole run. */
type EarlyReads = { byTask: [string, TaskInstance | null][] } | { all: TaskInstance[] };

/** Marks a read started early as handled: whoever awaits it still gets its error; nobody else does. */
function early<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

const byLogicalDate = (a: DagRun, b: DagRun) =>
  a.logicalDate - b.logicalDate || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/**
 * The unfinished runs an event-driven pass acts on, grouped by DAG in scope order. Runs with news
 * are read by key; a DAG's unfinished runs are listed only where queued runs may start — the DAGs
 * of `dags` and those of runs still queued. (A task finishing frees no maxActiveRuns slot: a run
 * finishing does, and the pass then advances its DAG in `dags`.)
 */
async function unfinishedInScope(deps: ServiceDeps, refs: Map<string, RunRef>, dags: string[] = []) {
  const read = await Promise.all(Array.from(refs.values(), (r) => deps.store.getRun(r.dagId, r.runId)));
  const listedDags = new Set(dags);
  for (const run of read) if (run?.state === 'queued') listedDags.add(run.dagId);
  const byDag = new Map<string, DagRun[]>();
  for (const ref of refs.values()) byDag.set(ref.dagId, []);
  for (const dagId of dags) byDag.set(dagId, []);
  const listed = await Promise.all(
    [...listedDags].map((dagId) => allPages((cursor) => deps.store.listUnfinishedRuns({ dagId, cursor }))),
  );
  for (const runs of listed) for (const run of runs) byDag.get(run.dagId)?.push(run);
  for (const run of read) {
    if (run && !listedDags.has(run.dagId) && !isRunFinished(run.state)) byDag.get(run.dagId)?.push(run);
  }
  const out: DagRun[] = [];
  for (const [dagId, runs] of byDag) {
    if (!listedDags.has(dagId)) runs.sort(byLogicalDate);
    for (const run of runs) out.push(run);
  }
  return out;
}

/**
 * An instance that will bring its run news without a look: claimed from the claim index, its try
 * ended or failed by the sweep, or its retry or reschedule found due by the sweep (one already due
 * is not: `listDueWaits` lists a page of them).
 */
function inFlight(ti: TaskInstance, now: number): boolean {
  switch (ti.state) {
    case 'scheduled':
    case 'queued':
    case 'running':
      return true;
    case 'up_for_retry':
      return ti.nextRetryAt !== null && ti.nextRetryAt >= now;
    case 'up_for_reschedule':
      return ti.rescheduleAt !== null && ti.rescheduleAt > now;
    default:
      return false;
  }
}

/** What a sweep knows of the runs it looks at: those with an instance queued or running (`dagId/runId`). */
export interface SweepLook {
  busy: Set<string>;
}

/**
 * The sweep's look at a running run it has no news of: a run with an instance in flight (queued or
 * running by the sweep's listing; else scheduled or waiting for a retry or reschedule, by its own
 * listing) will bring news by itself, so it is looked at only if its dagrunTimeout has passed. Any
 * other running run is evaluated whole: that is a run nothing is under way in, whose news (a
 * task_finished event) may have been lost. Null when the run needs no look.
 */
async function sweepLook(deps: ServiceDeps, run: DagRun, busy: Set<string>, now: number, defer: boolean) {
  const dag =
    deps.manifests.peek(run.dagId, run.dagVersion) ?? (await deps.manifests.get(run.dagId, run.dagVersion));
  const expired =
    dag.dagrunTimeoutMs !== null && run.startedAt !== null && now - run.startedAt > dag.dagrunTimeoutMs;
  if (expired) return evaluateOneRun(deps, run, now, undefined, defer);
  if (busy.has(refKey(run))) return null;
  const tis = await deps.store.listTis(run.dagId, run.runId);
  if (tis.some((ti) => inFlight(ti, now))) return null;
  return evaluateOneRun(deps, run, now, tis, defer);
}

/**
 * Steps 2 and 3. With a scope (event-driven passes), only the DAGs with news are read — those of
 * `runs` and `dags` — and only `runs` and newly started runs are evaluated; without one, every
 * unfinished run of every DAG. A scope with `sweep` (the sweep) lists every unfinished run too, so
 * queued runs start wherever they may, but evaluates only `runs` and the runs `sweepLook` picks.
 * With `defer` (a pass that claims next), changes to scheduled are left to the claim step
 * (`AdvanceReport.toSchedule`): the caller must hand them to `claimAndDispatch`.
 */
async function advanceRuns(
  deps: ServiceDeps,
  now: number,
  scope?: { runs: RunRef[]; dags?: string[]; sweep?: SweepLook },
  defer = false,
): Promise<AdvanceReport> {
  const refs = mergeRefs(scope?.runs ?? []);
  // Beside the runs' own reads: their DAG records, and the instances a narrow look reads first
  // (the events name the DAG version, whose manifest is cached).
  const dagReads: DagReads = new Map();
  const firstTis = new Map<string, Promise<EarlyReads>>();
  for (const [key, ref] of refs) {
    if (!dagReads.has(ref.dagId)) dagReads.set(ref.dagId, early(deps.store.getDag(ref.dagId)));
    const { ended, dagVersion } = ref;
    if (!ended || !dagVersion) continue;
    const reads = deps.manifests.get(ref.dagId, dagVersion).then(async (dag): Promise<EarlyReads> => {
      const ids = narrowReads(dag, ended);
      // Too much to read by key (a wide fan-in): the run is listed, as a whole look does.
      return ids
        ? { byTask: await readGroups(deps, ref, ids) }
        : { all: await deps.store.listTis(ref.dagId, ref.runId) };
    });
    firstTis.set(key, early(reads));
  }
  const sweep = scope?.sweep;
  const unfinished =
    scope && !sweep
      ? await unfinishedInScope(deps, refs, scope.dags)
      : await allPages((cursor) => deps.store.listUnfinishedRuns({ cursor }));
  const everyRun = !scope || sweep !== undefined;
  // Only the DAGs this pass acts on are read: those with queued runs and those of the runs it evaluates.
  const running: DagRun[] = [];
  const dagIds: string[] = [];
  for (const r of unfinished) {
    if (r.state === 'queued') dagIds.push(r.dagId);
    else if (r.state === 'running' && (everyRun || refs.has(refKey(r)))) {
      dagIds.push(r.dagId);
      running.push(r);
    }
  }
  const dags = await loadDags(deps, dagIds, dagReads);
  const started = await startQueuedRuns(deps, unfinished, dags, now);
  running.push(...started);
  const startedKeys = new Set(started.map(refKey));

  // Later records of a run win: those started here, then (below) those finished here.
  const report = emptyReport(dags, [...unfinished, ...started]);
  report.runsStarted = started.length;
  // Runs are looked at together, a few at a time (a sweep may hold thousands): each look's writes
  // are its own run's.
  const looks = await inGroups(running, RUNS_AT_ONCE, async (run) => {
    // Task instances of a paused DAG's runs are neither scheduled nor queued (Airflow's `NOT dag.is_paused`).
    if (dags.get(run.dagId)?.paused) return null;
    const key = refKey(run);
    const ref = refs.get(key);
    if (ref?.ended && !startedKeys.has(key)) {
      const first = ref.dagVersion === run.dagVersion ? await firstTis.get(key) : undefined;
      if (first && 'all' in first) return evaluateOneRun(deps, run, now, first.all, defer);
      const look = await lookDownstream(deps, run, ref.ended, first?.byTask ?? null, now, defer);
      if (look) return look;
    }
    if (sweep && !ref && !startedKeys.has(key)) return sweepLook(deps, run, sweep.busy, now, defer);
    return evaluateOneRun(deps, run, now, undefined, defer);
  });
  for (const look of looks) if (look) addLook(report, look);
  report.runs.push(...report.runsFinished);
  return report;
}

export { advanceRuns, evaluateOneRun, inFlight };
