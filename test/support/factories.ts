/** Valid records for tests, with overrides. Kept general: contract suites and service tests share them. */
import { compileDag } from '#core/compile.ts';
import type { DagManifest } from '#core/manifest.ts';
import { type Backfill, blankTry, type DagRun, type TaskInstance } from '#core/model.ts';
import { dag } from '#sdk/index.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

function manifest(dagId = 'etl', tasks = ['extract', 'load']): DagManifest {
  return compileDag(
    dag(dagId, { schedule: '@hourly', startDate: '2026-01-01' }, (d) => {
      const refs = tasks.map((t) => d.task(t, async () => null));
      for (let i = 0; i + 1 < refs.length; i += 1) refs[i]!.before(refs[i + 1]!);
    }),
  );
}

function run(overrides: Partial<DagRun> = {}): DagRun {
  const logicalDate = overrides.logicalDate ?? T0;
  return {
    dagId: 'etl',
    runId: `manual__${new Date(logicalDate).toISOString()}`,
    runType: 'manual',
    state: 'running',
    logicalDate,
    dataIntervalStart: logicalDate,
    dataIntervalEnd: logicalDate + 3_600_000,
    runAfter: logicalDate + 3_600_000,
    dagVersion: 'v1',
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: logicalDate,
    startedAt: logicalDate,
    endedAt: null,
    clearNumber: 0,
    note: null,
    ...overrides,
  };
}

function ti(overrides: Partial<TaskInstance> = {}): TaskInstance {
  return {
    dagId: 'etl',
    runId: `manual__${new Date(T0).toISOString()}`,
    taskId: 'extract',
    mapIndex: -1,
    state: 'scheduled',
    tryNumber: 1,
    maxTries: 0,
    priorityWeight: 1,
    pool: 'default_pool',
    poolSlots: 1,
    executor: 'lambda',
    logicalDate: T0,
    dagVersion: 'v1',
    holds: [],
    ...blankTry(),
    scheduledAt: T0,
    ...overrides,
  };
}

/** A task instance of `r`: same DAG, run, logical date and DAG version, with overrides. */
function tiOf(r: DagRun, overrides: Partial<TaskInstance> = {}): TaskInstance {
  return ti({
    dagId: r.dagId,
    runId: r.runId,
    logicalDate: r.logicalDate,
    dagVersion: r.dagVersion,
    ...overrides,
  });
}

function backfill(overrides: Partial<Backfill> = {}): Backfill {
  return {
    backfillId: 'etl__2026-01-05T00:00:00.000Z',
    dagId: 'etl',
    from: T0 - 86_400_000,
    to: T0,
    reprocessBehavior: 'none',
    runBackwards: false,
    maxActiveRuns: 10,
    conf: {},
    createdAt: T0,
    completedAt: null,
    cancelledAt: null,
    skipped: [],
    skippedCount: 0,
    idempotencyKey: 'key-1',
    dagVersion: 'v1',
    planned: 2,
    materialized: 0,
    revision: 0,
    ...overrides,
  };
}

export { backfill, manifest, run, T0, ti, tiOf };
