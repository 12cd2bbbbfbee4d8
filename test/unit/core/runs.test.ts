/** Run creation, run starts, run ids and task instances of a new run (SEMANTICS.md §2, §4). */
import { describe, expect, it } from 'vitest';
import { type DagManifest, MANIFEST_VERSION, type TaskManifest } from '#core/manifest.ts';
import { blankTry, type DagRun } from '#core/model.ts';
import { makeTaskInstances, planRunCreation, planRunStarts, runIdFor, timeRestriction } from '#core/runs.ts';

const DAY = 86_400_000;
const utc = (iso: string) => Date.parse(`${iso}Z`);

function task(taskId: string, overrides: Partial<TaskManifest> = {}): TaskManifest {
  return {
    taskId,
    operator: { kind: 'empty' },
    upstream: [],
    downstream: [],
    retries: 0,
    retryDelayMs: 300_000,
    retryExponentialBackoff: false,
    maxRetryDelayMs: null,
    executionTimeoutMs: null,
    pool: 'default_pool',
    poolSlots: 1,
    priorityWeight: 1,
    weightRule: 'downstream',
    priorityWeightTotal: 1,
    triggerRule: 'all_success',
    maxActiveTisPerDag: null,
    maxActiveTisPerDagrun: null,
    executor: 'lambda',
    startDate: null,
    endDate: null,
    callbacks: [],
    doc: null,
    ...overrides,
  };
}

function dag(overrides: Partial<DagManifest> = {}): DagManifest {
  return {
    manifestVersion: MANIFEST_VERSION,
    dagId: 'etl',
    description: null,
    schedule: { kind: 'cron', expression: '0 0 * * *', timezone: 'UTC', style: 'interval' },
    timezone: 'UTC',
    startDate: utc('2024-01-01T00:00'),
    endDate: null,
    catchup: true,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    maxConsecutiveFailedDagRuns: 0,
    dagrunTimeoutMs: null,
    isPausedUponCreation: false,
    tags: [],
    params: {},
    callbacks: [],
    tasks: [task('extract')],
    hash: 'v1',
    ...overrides,
  };
}

function run(overrides: Partial<DagRun> = {}): DagRun {
  const logicalDate = overrides.logicalDate ?? utc('2024-01-01T00:00');
  return {
    dagId: 'etl',
    runId: runIdFor(overrides.runType ?? 'scheduled', logicalDate),
    runType: 'scheduled',
    state: 'queued',
    logicalDate,
    dataIntervalStart: logicalDate,
    dataIntervalEnd: logicalDate + DAY,
    runAfter: logicalDate + DAY,
    dagVersion: 'v1',
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: logicalDate + DAY,
    startedAt: null,
    endedAt: null,
    clearNumber: 0,
    note: null,
    ...overrides,
  };
}

const days = (infos: { logicalDate: number }[]) =>
  infos.map((i) => new Date(i.logicalDate).toISOString().slice(0, 10));

describe('planRunCreation', () => {
  it('catchup on from a start date 3 days ago creates 3 daily runs, capped by maxActiveRuns=2', () => {
    // Prepare: start Jan 1st, now Jan 4th 10:00: the Jan 1, 2 and 3 intervals have ended.
    const now = utc('2024-01-04T10:00');
    const manifest = dag({ maxActiveRuns: 2 });
    // Act
    const first = planRunCreation({
      dag: manifest,
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now,
    });
    // Assess: two now, the third is due and waits for room.
    expect(days(first.create)).toEqual(['2024-01-01', '2024-01-02']);
    expect(first.nextRun).toMatchObject({
      logicalDate: utc('2024-01-03T00:00'),
      runAfter: utc('2024-01-04T00:00'),
    });
    expect(first.lastAutomatedInterval).toEqual({
      start: utc('2024-01-02T00:00'),
      end: utc('2024-01-03T00:00'),
    });

    // Act: one run finished, so one is active.
    const second = planRunCreation({ dag: manifest, record: first, activeRuns: 1, now });
    // Assess: the third is created; the next is Jan 4th's, due tomorrow.
    expect(days(second.create)).toEqual(['2024-01-03']);
    expect(second.nextRun).toMatchObject({
      logicalDate: utc('2024-01-04T00:00'),
      runAfter: utc('2024-01-05T00:00'),
    });
  });

  it('catchup off creates only the latest complete interval', () => {
    const plan = planRunCreation({
      dag: dag({ catchup: false }),
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-03-10T10:00'),
    });
    expect(days(plan.create)).toEqual(['2024-03-09']);
    expect(plan.nextRun).toMatchObject({ logicalDate: utc('2024-03-10T00:00') });
  });

  it('creates nothing when the DAG already has maxActiveRuns active, and keeps the due run as next', () => {
    const plan = planRunCreation({
      dag: dag({ maxActiveRuns: 2 }),
      record: { lastAutomatedInterval: null },
      activeRuns: 2,
      now: utc('2024-01-04T10:00'),
    });
    expect(plan.create).toEqual([]);
    expect(plan.nextRun).toMatchObject({ logicalDate: utc('2024-01-01T00:00') });
    expect(plan.lastAutomatedInterval).toBeNull();
  });

  it('stops after a run starting exactly at the end date', () => {
    const plan = planRunCreation({
      dag: dag({ endDate: utc('2024-01-02T00:00') }),
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-02-01T00:00'),
    });
    expect(days(plan.create)).toEqual(['2024-01-01', '2024-01-02']);
    expect(plan.nextRun).toBeNull();
  });

  it('a run whose interval has not ended yet is not created', () => {
    const plan = planRunCreation({
      dag: dag(),
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-01-01T23:59'),
    });
    expect(plan.create).toEqual([]);
    expect(plan.nextRun).toMatchObject({
      logicalDate: utc('2024-01-01T00:00'),
      runAfter: utc('2024-01-02T00:00'),
    });
  });

  it('@once creates a single run at the start date, then nothing', () => {
    const manifest = dag({ schedule: { kind: 'once' }, catchup: false });
    const first = planRunCreation({
      dag: manifest,
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-06-01T00:00'),
    });
    expect(first.create).toEqual([
      {
        logicalDate: utc('2024-01-01T00:00'),
        dataIntervalStart: utc('2024-01-01T00:00'),
        dataIntervalEnd: utc('2024-01-01T00:00'),
        runAfter: utc('2024-01-01T00:00'),
      },
    ]);
    expect(first.nextRun).toBeNull();
    const again = planRunCreation({
      dag: manifest,
      record: first,
      activeRuns: 0,
      now: utc('2024-07-01T00:00'),
    });
    expect(again.create).toEqual([]);
  });

  it('a DAG without a schedule never gets a scheduled run', () => {
    const plan = planRunCreation({
      dag: dag({ schedule: { kind: 'none' } }),
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-06-01T00:00'),
    });
    expect(plan).toEqual({ create: [], nextRun: null, lastAutomatedInterval: null });
  });

  it('starts at the earliest task start date when it is before the DAG start date (Airflow _time_restriction)', () => {
    const manifest = dag({
      tasks: [task('a', { startDate: utc('2023-12-30T00:00') }), task('b')],
      maxActiveRuns: 1,
    });
    const plan = planRunCreation({
      dag: manifest,
      record: { lastAutomatedInterval: null },
      activeRuns: 0,
      now: utc('2024-01-04T10:00'),
    });
    expect(days(plan.create)).toEqual(['2023-12-30']);
  });
});

describe('timeRestriction', () => {
  it('uses the latest task end date only when every task has one', () => {
    const some = dag({
      endDate: utc('2024-02-01T00:00'),
      tasks: [task('a', { endDate: utc('2024-03-01T00:00') }), task('b')],
    });
    expect(timeRestriction(some).latest).toBe(utc('2024-02-01T00:00'));
    const all = dag({
      endDate: utc('2024-02-01T00:00'),
      tasks: [
        task('a', { endDate: utc('2024-03-01T00:00') }),
        task('b', { endDate: utc('2024-01-15T00:00') }),
      ],
    });
    expect(timeRestriction(all).latest).toBe(utc('2024-03-01T00:00'));
  });
});

describe('planRunStarts', () => {
  const limits = (dagLimit: number, backfillLimit = 10) => ({
    runningByDag: new Map<string, number>(),
    runningByBackfill: new Map<string, number>(),
    maxActiveRunsByDag: new Map([['etl', dagLimit]]),
    maxActiveRunsByBackfill: new Map([['bf1', backfillLimit]]),
  });

  it('starts non-backfill runs by logical date, then backfill runs by ordinal', () => {
    const queued = [
      run({
        runId: 'bf-2',
        backfillId: 'bf1',
        backfillOrdinal: 2,
        runType: 'backfill',
        logicalDate: utc('2023-01-01T00:00'),
      }),
      run({ logicalDate: utc('2024-01-03T00:00') }),
      run({
        runId: 'bf-1',
        backfillId: 'bf1',
        backfillOrdinal: 1,
        runType: 'backfill',
        logicalDate: utc('2023-01-02T00:00'),
      }),
      run({ logicalDate: utc('2024-01-01T00:00'), runType: 'manual', runId: 'manual__x' }),
      run({ logicalDate: utc('2024-01-02T00:00') }),
    ];
    const started = planRunStarts({ queued, ...limits(16), now: utc('2024-02-01T00:00') });
    expect(started.map((r) => r.runId)).toEqual([
      'manual__x',
      'scheduled__2024-01-02T00:00:00+00:00',
      'scheduled__2024-01-03T00:00:00+00:00',
      'bf-1',
      'bf-2',
    ]);
  });

  it('limits DAG runs by maxActiveRuns and backfill runs by their own limit, separately', () => {
    const queued = [
      ...[1, 2, 3].map((d) => run({ logicalDate: utc(`2024-01-0${d}T00:00`) })),
      ...[1, 2, 3].map((o) =>
        run({
          runId: `bf-${o}`,
          backfillId: 'bf1',
          backfillOrdinal: o,
          runType: 'backfill',
          logicalDate: utc(`2023-01-0${o}T00:00`),
        }),
      ),
    ];
    const input = { ...limits(2, 2), now: utc('2024-02-01T00:00') };
    input.runningByDag.set('etl', 1);
    const started = planRunStarts({ queued, ...input });
    // One DAG slot left (1 running of 2); the backfill's 2 slots are independent of it.
    expect(started.map((r) => r.runId)).toEqual(['scheduled__2024-01-01T00:00:00+00:00', 'bf-1', 'bf-2']);
  });

  it('a run whose runAfter is in the future waits', () => {
    const queued = [run({ logicalDate: utc('2024-01-01T00:00'), runAfter: utc('2024-01-02T00:00') })];
    expect(planRunStarts({ queued, ...limits(16), now: utc('2024-01-01T23:59') })).toEqual([]);
    expect(planRunStarts({ queued, ...limits(16), now: utc('2024-01-02T00:00') })).toHaveLength(1);
  });

  it('a backfill missing from the limits starts nothing', () => {
    const queued = [run({ runId: 'bf-1', backfillId: 'gone', backfillOrdinal: 1, runType: 'backfill' })];
    expect(planRunStarts({ queued, ...limits(16), now: utc('2024-02-01T00:00') })).toEqual([]);
  });
});

describe('runIdFor', () => {
  it.each([
    { type: 'scheduled', at: '2024-01-01T00:00:00.000Z', id: 'scheduled__2024-01-01T00:00:00+00:00' },
    { type: 'manual', at: '2024-05-06T07:08:09.000Z', id: 'manual__2024-05-06T07:08:09+00:00' },
    { type: 'backfill', at: '2023-12-31T23:00:00.000Z', id: 'backfill__2023-12-31T23:00:00+00:00' },
    { type: 'manual', at: '2024-05-06T07:08:09.123Z', id: 'manual__2024-05-06T07:08:09.123000+00:00' },
  ] as const)('$id', ({ type, at, id }) => {
    expect(runIdFor(type, Date.parse(at))).toBe(id);
  });
});

describe('makeTaskInstances', () => {
  const manifest = dag({
    hash: 'v2',
    tasks: [
      task('extract', { retries: 3, priorityWeightTotal: 7, pool: 'db', poolSlots: 2, executor: 'fargate' }),
      task('late', { startDate: utc('2024-01-05T00:00') }),
      task('retired', { endDate: utc('2023-12-31T00:00') }),
      task('bounded', { startDate: utc('2024-01-03T00:00'), endDate: utc('2024-01-03T00:00') }),
    ],
  });

  it('makes one fresh instance per task, from the task and the run', () => {
    const r = run({ logicalDate: utc('2024-01-03T00:00'), dagVersion: 'v1' });
    const [extract] = makeTaskInstances(manifest, r);
    expect(extract).toEqual({
      dagId: 'etl',
      runId: r.runId,
      taskId: 'extract',
      mapIndex: -1,
      state: 'none',
      tryNumber: 0,
      maxTries: 3,
      priorityWeight: 7,
      pool: 'db',
      poolSlots: 2,
      executor: 'fargate',
      logicalDate: utc('2024-01-03T00:00'),
      dagVersion: 'v1',
      holds: [],
      scheduledAt: null,
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      heartbeatAt: null,
      nextRetryAt: null,
      rescheduleAt: null,
      firstPokeAt: null,
      dispatchAttempts: 0,
      waitReason: null,
      workerId: null,
      error: null,
      result: null,
    });
  });

  it("starts each instance with exactly blankTry()'s fields (spelled out there for speed)", () => {
    const [extract] = makeTaskInstances(manifest, run({ logicalDate: utc('2024-01-03T00:00') }));
    const blank = blankTry();
    const fields = Object.fromEntries(Object.keys(blank).map((k) => [k, extract![k as keyof typeof blank]]));
    expect(fields).toEqual(blank);
  });

  it('skips tasks whose own start date is after, or end date before, the logical date (bounds inclusive)', () => {
    const ids = (iso: string) =>
      makeTaskInstances(manifest, run({ logicalDate: utc(iso) })).map((ti) => ti.taskId);
    expect(ids('2024-01-03T00:00')).toEqual(['extract', 'bounded']);
    expect(ids('2024-01-04T00:00')).toEqual(['extract']);
    expect(ids('2024-01-05T00:00')).toEqual(['extract', 'late']);
  });

  it('keeps every task in a backfill run', () => {
    const tis = makeTaskInstances(
      manifest,
      run({ logicalDate: utc('2024-01-04T00:00'), runType: 'backfill' }),
    );
    expect(tis.map((ti) => ti.taskId)).toEqual(['extract', 'late', 'retired', 'bounded']);
  });
});
