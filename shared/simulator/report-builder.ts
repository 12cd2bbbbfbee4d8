/**
 * Builds the simulation report from the recorder's history and the store's final state. Peaks and
 * limit checks are computed independently of the counters, from when each try held its slots.
 */
import type { DagManifest } from '#core/manifest.ts';
import type { DagRun, SchedulerSettings } from '#core/model.ts';
import type { RunState } from '#core/states.ts';
import { describeWaitReason } from '#core/wait-reasons.ts';
import type { StateStore } from '#ports';
import { allPages } from '#services/deps.ts';
import { entriesOf, type Recorder, stateOf, type TryHistory } from './recorder.ts';
import type { Peak, SimReport, SimRun, SimTry } from './report.ts';
import type { Scenario } from './scenario.ts';

const DAY_MS = 86_400_000;
let isoDay = Number.NaN;
let isoDayPrefix = '';
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * `new Date(t).toISOString()`, without a Date per instant: a report of a busy day formats millions
 * of instants, nearly all on the same few days. Whole milliseconds only; anything else goes to Date.
 */
function iso(t: number | null): string | null {
  if (t === null) return null;
  // Consecutive instants are often the same one (a try's changes at a pass, a run's fields).
  if (t === lastIso.t) return lastIso.text;
  // Keyed by the offset from the report's start, a small integer: an instant itself (beyond 2^30)
  // is a boxed number, allocated for every lookup and hashed from its bits.
  const offset = t - isoMemo.base;
  const small = offset >= -SMALL_OFFSET && offset <= SMALL_OFFSET && Number.isInteger(offset);
  let text = small ? isoMemo.texts.get(offset) : undefined;
  if (text === undefined) {
    text = formatIso(t);
    if (small) isoMemo.texts.set(offset, text);
  }
  lastIso.t = t;
  lastIso.text = text;
  return text;
}

/** The instant `iso` formatted last, and its text. */
const lastIso = { t: Number.NaN, text: '' };

/**
 * Instants formatted so far, by their offset in ms from `base` (the report's window start): most
 * instants of a report recur (a pass's claims, starts and wait reasons share its instant; a try's
 * end is its end state's instant too), so each is formatted once and its string shared. Only
 * offsets within ±`SMALL_OFFSET` (12 days) are kept. Emptied per report.
 */
const isoMemo = { base: 0, texts: new Map<number, string>() };
const SMALL_OFFSET = 2 ** 30 - 1;

function formatIso(t: number): string {
  if (!Number.isSafeInteger(t)) return new Date(t).toISOString();
  const day = Math.floor(t / DAY_MS);
  if (day !== isoDay) {
    const prefix = new Date(day * DAY_MS).toISOString();
    isoDayPrefix = prefix.slice(0, prefix.indexOf('T') + 1);
    isoDay = day;
  }
  let rest = t - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const ms = rest - seconds * 1000;
  return `${isoDayPrefix}${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(ms, 3)}Z`;
}

/** Changes of a step function: at `at[i]`, `amount[i]` more (a claim) or less (a release). */
interface Deltas {
  at: number[];
  amount: number[];
}

/**
 * The deltas in order of time, releases before claims at the same instant (then by amount). Whole
 * numbers on a range that fits are sorted as one number each, `(at − first) × span + amount`, by
 * the typed array's own numeric sort (a day's 480,000 held intervals are sorted five times over,
 * once per kind of peak); anything else by comparing pairs.
 */
function sortDeltas(d: Deltas): Deltas {
  const n = d.at.length;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let most = 0;
  let whole = true;
  for (let i = 0; i < n; i += 1) {
    const at = d.at[i]!;
    const amount = d.amount[i]!;
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(amount)) whole = false;
    if (at < first) first = at;
    if (at > last) last = at;
    if (Math.abs(amount) > most) most = Math.abs(amount);
  }
  const span = 2 * most + 1;
  if (!whole || n === 0 || (last - first + 1) * span >= Number.MAX_SAFE_INTEGER) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => d.at[a]! - d.at[b]! || d.amount[a]! - d.amount[b]!);
    return { at: order.map((i) => d.at[i]!), amount: order.map((i) => d.amount[i]!) };
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i += 1) keys[i] = (d.at[i]! - first) * span + (d.amount[i]! + most);
  keys.sort();
  const at: number[] = new Array(n);
  const amount: number[] = new Array(n);
  for (let i = 0; i < n; i += 1) {
    const key = keys[i]!;
    const steps = Math.floor(key / span);
    // The division is exact to within one step; the remainder puts it right.
    const rest = key - steps * span;
    const q = rest < 0 ? steps - 1 : rest >= span ? steps + 1 : steps;
    at[i] = first + q;
    amount[i] = key - q * span - most;
  }
  return { at, amount };
}

/** Peak of a step function built from held intervals; releases at an instant count before claims at it. */
function peakOf(deltas: Deltas, limitAt: (t: number) => number | null): { peak: Peak; violations: number[] } {
  const sorted = sortDeltas(deltas);
  let value = 0;
  let peak = 0;
  let peakAt: number | null = null;
  const violations: number[] = [];
  for (let i = 0; i < sorted.at.length; i += 1) {
    const at = sorted.at[i]!;
    const amount = sorted.amount[i]!;
    value += amount;
    if (value > peak) {
      peak = value;
      peakAt = at;
    }
    const limit = limitAt(at);
    if (amount > 0 && limit !== null && limit >= 0 && value > limit) violations.push(at);
  }
  return { peak: { peak, limit: limitAt(Number.MAX_SAFE_INTEGER), at: iso(peakAt) }, violations };
}

function deltasOf(
  h: TryHistory,
  tries: Iterable<number>,
  amount: (i: number) => number,
  end: number,
): Deltas {
  const out: Deltas = { at: [], amount: [] };
  const held = h.held;
  const grouped = heldByTry(h);
  for (const i of tries) {
    for (let k = grouped.start[i]!; k < grouped.start[i + 1]!; k += 1) {
      const e = grouped.order[k]!;
      const to = held.to[e]!;
      out.at.push(held.from[e]!, Number.isNaN(to) ? end : to);
      out.amount.push(amount(i), -amount(i));
    }
  }
  return out;
}

/** Held intervals grouped by try, computed once per history. */
const heldGroups = new WeakMap<TryHistory, ReturnType<typeof entriesOf>>();
function heldByTry(h: TryHistory): ReturnType<typeof entriesOf> {
  let groups = heldGroups.get(h);
  if (!groups) {
    groups = entriesOf(h.count, h.held.try);
    heldGroups.set(h, groups);
  }
  return groups;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Items grouped by key, the groups in key order (code-unit order, the same in every locale), so the
 * report's peak maps and its violations do not depend on the order the run recorded its tries in.
 */
function groupBy<T>(items: T[], key: (item: T) => string): [string, T[]][] {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function buildReport(input: {
  store: StateStore;
  recorder: Recorder;
  scenario: Scenario;
  settings: SchedulerSettings;
  seed: number;
  passes: number;
}): Promise<SimReport> {
  const { store, recorder, scenario, settings } = input;
  isoMemo.texts.clear();
  isoMemo.base = Date.parse(scenario.start);
  if (!Number.isSafeInteger(isoMemo.base)) isoMemo.base = 0;
  lastIso.t = Number.NaN;
  const end = Date.parse(scenario.end);
  const dags = await allPages((cursor) => store.listDags({ cursor }));
  const manifests = new Map<string, DagManifest>();
  const runs: DagRun[] = [];
  for (const dag of dags) {
    const manifest = await store.getDagVersion(dag.dagId, dag.currentVersion);
    if (manifest) manifests.set(dag.dagId, manifest);
    runs.push(...(await allPages((cursor) => store.listRuns(dag.dagId, { cursor }))));
  }
  runs.sort(
    (a, b) =>
      a.dagId.localeCompare(b.dagId) || a.logicalDate - b.logicalDate || a.runId.localeCompare(b.runId),
  );

  const h = recorder.history;
  const tries = range(h.count);
  const violations: string[] = [];
  const check = (what: string, result: { peak: Peak; violations: number[] }) => {
    for (const at of result.violations) violations.push(`${what} exceeded its limit at ${iso(at)}`);
    return result.peak;
  };

  const global = check(
    'parallelism',
    peakOf(
      deltasOf(h, tries, () => 1, end),
      () => settings.parallelism,
    ),
  );

  const poolLimits = new Map<string, { at: number; slots: number }[]>();
  const addLimit = (name: string, at: number, slots: number) =>
    poolLimits.set(name, [...(poolLimits.get(name) ?? []), { at, slots }]);
  addLimit('default_pool', Number.MIN_SAFE_INTEGER, 128);
  for (const p of scenario.pools ?? []) addLimit(p.name, Number.MIN_SAFE_INTEGER, p.slots);
  for (const p of scenario.poolChanges ?? []) addLimit(p.name, Date.parse(p.at), p.slots);
  const poolLimitAt = (name: string) => {
    const changes = poolLimits.get(name) ?? [];
    // The last change made by `t` (in the order given), with no array made per instant asked for.
    return (t: number) => {
      let slots: number | null = null;
      for (const c of changes) if (c.at <= t) slots = c.slots;
      return slots;
    };
  };
  // A pool resized below its use admits nothing new until usage falls: only claims made after the
  // resize are held to the new size, which is what checking at each claim instant does.
  const pools: Record<string, Peak> = {};
  for (const [pool, list] of groupBy(tries, (i) => h.pool[i]!)) {
    pools[pool] = check(
      `pool ${pool}`,
      peakOf(
        deltasOf(h, list, (i) => h.poolSlots[i]!, end),
        poolLimitAt(pool),
      ),
    );
  }
  const dagPeaks: Record<string, Peak> = {};
  for (const [dagId, list] of groupBy(tries, (i) => h.key[i]!.dagId)) {
    const limit = manifests.get(dagId)?.maxActiveTasks ?? null;
    dagPeaks[dagId] = check(
      `maxActiveTasks of ${dagId}`,
      peakOf(
        deltasOf(h, list, () => 1, end),
        () => limit,
      ),
    );
  }
  const taskPeaks: Record<string, Peak> = {};
  // Each task's id is built once, not once per try (a day has 240,000 tries of 10,000 tasks).
  const taskIds = new Map<string, Map<string, string>>();
  const taskIdOf = (i: number) => {
    const { dagId, taskId } = h.key[i]!;
    let ofDag = taskIds.get(dagId);
    if (!ofDag) {
      ofDag = new Map();
      taskIds.set(dagId, ofDag);
    }
    let id = ofDag.get(taskId);
    if (id === undefined) {
      id = `${dagId}.${taskId}`;
      ofDag.set(taskId, id);
    }
    return id;
  };
  for (const [id, list] of groupBy(tries, taskIdOf)) {
    const { dagId, taskId } = h.key[list[0]!]!;
    const task = manifests.get(dagId)?.tasks.find((t) => t.taskId === taskId);
    taskPeaks[id] = check(
      `maxActiveTisPerDag of ${id}`,
      peakOf(
        deltasOf(h, list, () => 1, end),
        () => task?.maxActiveTisPerDag ?? null,
      ),
    );
    if (task?.maxActiveTisPerDagrun) {
      for (const [runId, perRun] of groupBy(list, (i) => h.key[i]!.runId)) {
        check(
          `maxActiveTisPerDagrun of ${id} in ${runId}`,
          peakOf(
            deltasOf(h, perRun, () => 1, end),
            () => task.maxActiveTisPerDagrun,
          ),
        );
      }
    }
  }

  const waitsSeconds = tries
    .filter((i) => !Number.isNaN(h.scheduledAt[i]!) && !Number.isNaN(h.startedAt[i]!))
    .map((i) => (h.startedAt[i]! - h.scheduledAt[i]!) / 1000)
    .sort((a, b) => a - b);
  const mean = waitsSeconds.length ? waitsSeconds.reduce((a, b) => a + b, 0) / waitsSeconds.length : 0;
  const p95 = waitsSeconds.length
    ? waitsSeconds[Math.min(waitsSeconds.length - 1, Math.floor(waitsSeconds.length * 0.95))]!
    : 0;

  const runStates: Record<RunState, number> = { queued: 0, running: 0, success: 0, failed: 0 };
  for (const run of runs) runStates[run.state] += 1;

  const report: SimReport = {
    reportVersion: 1,
    seed: input.seed,
    window: { start: scenario.start, end: scenario.end },
    runs: runs.map(toSimRun),
    tries: simTries(h),
    peaks: { global, pools, dags: dagPeaks, tasks: taskPeaks },
    totals: {
      runs: runStates,
      tries: tries.filter((i) => !Number.isNaN(h.startedAt[i]!)).length,
      tasksSucceeded: tries.filter((i) => stateOf(h.state[i]!) === 'success').length,
      tasksFailed: tries.filter((i) => stateOf(h.state[i]!) === 'failed').length,
      schedulerPasses: input.passes,
      queueWaitSeconds: { mean: Math.round(mean * 1000) / 1000, p95: Math.round(p95 * 1000) / 1000 },
    },
    violations,
  };
  isoMemo.texts.clear();
  return report;
}

function toSimRun(run: DagRun): SimRun {
  return {
    dagId: run.dagId,
    runId: run.runId,
    runType: run.runType,
    logicalDate: iso(run.logicalDate)!,
    dataInterval: { start: iso(run.dataIntervalStart)!, end: iso(run.dataIntervalEnd)! },
    state: run.state,
    createdAt: iso(run.createdAt)!,
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
  };
}

const isoOrNull = (t: number) => (Number.isNaN(t) ? null : iso(t));

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The tries with at least one state change, by the instant of their first one, then by DAG, run,
 * task, map index and try number: an order that depends only on what happened, not on the order in
 * which the services happened to look at instances that changed at the same instant.
 */
function simTries(h: TryHistory): SimTry[] {
  const transitions = entriesOf(h.count, h.transitions.try);
  const waits = entriesOf(h.count, h.waits.try);
  const seen: number[] = [];
  const firstAt = new Float64Array(h.count);
  for (let i = 0; i < h.count; i += 1) {
    const from = transitions.start[i]!;
    if (from === transitions.start[i + 1]!) continue;
    firstAt[i] = h.transitions.at[transitions.order[from]!]!;
    seen.push(i);
  }
  seen.sort((i, j) => {
    const a = h.key[i]!;
    const b = h.key[j]!;
    return (
      firstAt[i]! - firstAt[j]! ||
      compareText(a.dagId, b.dagId) ||
      compareText(a.runId, b.runId) ||
      compareText(a.taskId, b.taskId) ||
      a.mapIndex - b.mapIndex ||
      h.tryNumber[i]! - h.tryNumber[j]!
    );
  });
  const out: SimTry[] = [];
  for (const i of seen) {
    const from = transitions.start[i]!;
    const to = transitions.start[i + 1]!;
    const key = h.key[i]!;
    const trail: SimTry['transitions'] = [];
    for (let k = from; k < to; k += 1) {
      const e = transitions.order[k]!;
      trail.push({ at: iso(h.transitions.at[e]!)!, state: stateOf(h.transitions.state[e]!)! });
    }
    const waited: SimTry['waits'] = [];
    for (let k = waits.start[i]!; k < waits.start[i + 1]!; k += 1) {
      const e = waits.order[k]!;
      const at = h.waits.at[e]!;
      const reason = h.waits.reason[e]!;
      waited.push({ at: iso(at)!, reason, text: describeWaitReason(reason, at) });
    }
    const claimOrder = h.claimOrder[i]!;
    out.push({
      dagId: key.dagId,
      runId: key.runId,
      taskId: key.taskId,
      tryNumber: h.tryNumber[i]!,
      pool: h.pool[i]!,
      poolSlots: h.poolSlots[i]!,
      priorityWeight: h.priorityWeight[i]!,
      claimOrder: Number.isNaN(claimOrder) ? null : claimOrder,
      scheduledAt: isoOrNull(h.scheduledAt[i]!),
      queuedAt: isoOrNull(h.queuedAt[i]!),
      startedAt: isoOrNull(h.startedAt[i]!),
      endedAt: isoOrNull(h.endedAt[i]!),
      state: stateOf(h.state[i]!),
      transitions: trail,
      waits: waited,
    });
  }
  return out;
}

export { buildReport, peakOf };
