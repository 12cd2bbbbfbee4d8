/**
 * Benchmark of the core's hot paths that tests used to time (timing belongs here, not in `npm test`,
 * where a loaded machine turns it into flakes): compiling a 1,000-task DAG, evaluating a 1,000-task
 * run, enumerating and asking timetables, and draining a 20,000-instance backlog from the memory
 * store. Each figure is the fastest of several runs after a warm-up, in milliseconds.
 */
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { compileDag } from '#core/compile.ts';
import { evaluateRun } from '#core/evaluate-run.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { CounterKey, DagRun } from '#core/model.ts';
import { makeTaskInstances } from '#core/runs.ts';
import { timetableFor } from '#core/timetable.ts';
import { dag } from '#sdk/index.ts';

const RUNS = 7;
const NOW = Date.parse('2026-01-05T12:00:00Z');
const HOUR = 3_600_000;
const noop = async () => null;

async function fastest(body: () => unknown): Promise<number> {
  await body(); // warm up
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    await body();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

function runOf(manifest: DagManifest): DagRun {
  return {
    dagId: manifest.dagId,
    runId: 'manual__1',
    runType: 'manual',
    state: 'running',
    logicalDate: NOW - HOUR,
    dataIntervalStart: NOW - HOUR,
    dataIntervalEnd: NOW,
    runAfter: NOW - HOUR,
    dagVersion: manifest.hash,
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: NOW - HOUR,
    startedAt: NOW - HOUR,
    endedAt: null,
    clearNumber: 0,
    note: null,
  };
}

function chainDag() {
  return dag('chain', { defaultArgs: { retries: 1, retryDelay: '1m' } }, (d) => {
    let previous = d.task('t0000', noop);
    for (let i = 1; i < 1000; i += 1)
      previous = previous.then(d.task(`t${String(i).padStart(4, '0')}`, { priorityWeight: i % 5 }, noop));
  });
}

function fanOutDag() {
  return dag('fan', {}, (d) => {
    const root = d.task('root', noop);
    for (let i = 0; i < 999; i += 1) root.then(d.task(`t${i}`, noop));
  });
}

/** A run of `manifest` with `states` applied to some of its instances (try 1). */
function world(manifest: DagManifest, states: Record<string, 'success' | 'failed'>) {
  const run = runOf(manifest);
  const tis = makeTaskInstances(manifest, run).map((ti) =>
    states[ti.taskId] ? { ...ti, state: states[ti.taskId] as 'success' | 'failed', tryNumber: 1 } : ti,
  );
  return { dag: manifest, run, tis, now: NOW };
}

async function drainBacklog(): Promise<void> {
  const pool: CounterKey = { kind: 'pool', pool: 'default_pool' };
  const store = new MemoryStateStore();
  const fan = compileDag(fanOutDag());
  for (let r = 0; r < 20; r += 1) {
    const run = { ...runOf(fan), runId: `r${r}`, logicalDate: NOW + r * HOUR };
    const tis = makeTaskInstances(fan, run).map((ti) => ({
      ...ti,
      state: 'scheduled' as const,
      tryNumber: 1,
    }));
    await store.createRun(run, tis);
  }
  for (;;) {
    const page = await store.listClaimCandidates({ pool: 'default_pool', limit: 100 });
    if (page.items.length === 0) break;
    const result = await store.claim(
      page.items.map((t) => ({
        key: t,
        tryNumber: 1,
        holds: [{ counter: pool, amount: 1, limit: -1 }],
        queuedAt: NOW,
      })),
    );
    for (const key of result.claimed)
      await store.endTry({ key, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
  }
}

async function benchCorePaths(): Promise<Record<string, string | number>> {
  const chain = compileDag(chainDag());
  const fan = compileDag(fanOutDag());
  const hourly = () =>
    timetableFor({
      kind: 'cron',
      expression: '@hourly',
      timezone: 'Australia/Sydney',
      style: 'interval',
    });
  const daily = timetableFor({
    kind: 'cron',
    expression: '30 2 * * *',
    timezone: 'America/Chicago',
    style: 'interval',
  });
  const from = Date.parse('2031-01-01T00:00:00Z');
  const to = Date.parse('2033-01-01T00:00:00Z');
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  return {
    'compile a 1,000-task chain': ms(await fastest(() => compileDag(chainDag()))),
    'compile a 1,000-task fan-out': ms(await fastest(() => compileDag(fanOutDag()))),
    'evaluate a 1,000-task fan-out run': ms(
      await fastest(() => evaluateRun(world(fan, { root: 'success' }))),
    ),
    'evaluate a failed 1,000-task chain': ms(
      await fastest(() => evaluateRun(world(chain, { t0000: 'failed' }))),
    ),
    '10,000 hourly slots in Sydney': ms(await fastest(() => hourly().slotsBetween(from, to, 10_000))),
    '10,000 nextRunInfo, daily, catchup off': ms(
      await fastest(() => {
        for (let i = 0; i < 10_000; i += 1)
          daily.nextRunInfo({
            lastAutomatedInterval: null,
            earliest: from,
            latest: null,
            catchup: false,
            now: from + i * 420_000,
          });
      }),
    ),
    'drain 20,000 scheduled from memory store': ms(await fastest(drainBacklog)),
  };
}

export { benchCorePaths };
