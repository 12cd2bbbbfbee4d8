/** DAGs, their versions and import errors on the wire, and the mapping from the domain records. */
import { z } from '@hono/zod-openapi';
import type { DagManifest, TaskManifest } from '#core/manifest.ts';
import { EXECUTORS, TASK_KINDS, TRIGGER_RULES, WEIGHT_RULES } from '#core/manifest.ts';
import type { DagRun, ImportError } from '#core/model.ts';
import { RUN_STATES } from '#core/states.ts';
import { timetableFor } from '#core/timetable.ts';
import type { DagSummary } from '#services/dags.ts';
import { Instant, iso, JsonObject, NullableInstant } from './common.ts';

const RunSlot = z
  .object({
    logicalDate: Instant,
    dataIntervalStart: Instant,
    dataIntervalEnd: Instant,
    runAfter: Instant.openapi({ description: 'When the run is created (the end of its data interval).' }),
  })
  .openapi('RunSlot');

const RecentRun = z
  .object({
    runId: z.string(),
    runType: z.enum(['scheduled', 'manual', 'backfill']),
    state: z.enum(RUN_STATES),
    logicalDate: Instant,
    startedAt: NullableInstant,
    endedAt: NullableInstant,
  })
  .openapi('RecentRun');

const ImportErrorWire = z
  .object({
    fileloc: z.string().openapi({ description: 'The DAG file that failed to load.' }),
    message: z.string(),
    at: Instant,
  })
  .openapi('ImportError');

const Schedule = z
  .object({
    kind: z.enum(['none', 'once', 'cron', 'interval']),
    description: z.string().openapi({ example: 'at 03:00 every day (Europe/Paris)' }),
    expression: z.string().nullable().openapi({ description: 'The cron expression, for cron schedules.' }),
    everyMs: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The interval, for fixed-interval schedules.' }),
  })
  .openapi('Schedule');

const Dag = z
  .object({
    dagId: z.string(),
    description: z.string().nullable(),
    schedule: Schedule.nullable().openapi({ description: 'Null when the current version cannot be read.' }),
    timezone: z.string().nullable(),
    tags: z.array(z.string()),
    paused: z.boolean(),
    active: z.boolean().openapi({ description: 'False once its file was deleted: it gets no new runs.' }),
    fileloc: z.string().nullable(),
    currentVersion: z.string().openapi({ description: 'Content hash of the version new runs use.' }),
    maxActiveRuns: z.number().int().nullable(),
    maxActiveTasks: z.number().int().nullable(),
    catchup: z.boolean().nullable(),
    nextRun: RunSlot.nullable().openapi({ description: 'The next scheduled run; null when none is due.' }),
    recentRuns: z.array(RecentRun).openapi({ description: 'The latest runs, newest logical date first.' }),
    importError: ImportErrorWire.nullable(),
    warnings: z.array(z.string()),
    registeredAt: Instant,
    updatedAt: Instant,
  })
  .openapi('Dag');

const Task = z
  .object({
    taskId: z.string(),
    kind: z.enum(TASK_KINDS),
    upstream: z.array(z.string()),
    downstream: z.array(z.string()),
    pool: z.string(),
    poolSlots: z.number().int(),
    priorityWeight: z.number().int(),
    weightRule: z.enum(WEIGHT_RULES),
    priorityWeightTotal: z.number().int().openapi({ description: 'The effective weight per weightRule.' }),
    triggerRule: z.enum(TRIGGER_RULES),
    retries: z.number().int(),
    retryDelayMs: z.number().int(),
    retryExponentialBackoff: z.boolean(),
    maxRetryDelayMs: z.number().int().nullable(),
    executionTimeoutMs: z.number().int().nullable(),
    maxActiveTisPerDag: z.number().int().nullable(),
    maxActiveTisPerDagrun: z.number().int().nullable(),
    executor: z.enum(EXECUTORS),
    doc: z.string().nullable(),
  })
  .openapi('Task');

const VersionInfo = z
  .object({
    version: z.string().openapi({ description: 'Content hash of the manifest.' }),
    registeredAt: NullableInstant.openapi({
      description: 'When it was first registered (null if not recorded).',
    }),
    current: z.boolean().openapi({ description: 'Whether new runs use it.' }),
  })
  .openapi('DagVersionInfo');

const DagDetail = Dag.extend({
  startDate: NullableInstant,
  endDate: NullableInstant,
  params: JsonObject,
  dagrunTimeoutMs: z.number().int().nullable(),
  tasks: z.array(Task).openapi({ description: 'The tasks of the current version, in topological order.' }),
  versions: z.array(VersionInfo).openapi({
    description: 'The newest registered versions (at most 20; every one: GET /dags/{dagId}/versions).',
  }),
}).openapi('DagDetail');

const DagVersion = z
  .object({
    dagId: z.string(),
    version: z.string(),
    current: z.boolean(),
    manifest: JsonObject.openapi({ description: 'The serialized DAG of this version (its manifest).' }),
  })
  .openapi('DagVersion');

const DagPatch = z
  .object({ paused: z.boolean().openapi({ description: 'Pause (true) or unpause (false) the DAG.' }) })
  .strict()
  .openapi('DagPatch');

function scheduleOf(manifest: DagManifest): z.infer<typeof Schedule> {
  const s = manifest.schedule;
  let description: string;
  try {
    description = timetableFor(s).describe();
  } catch {
    description = s.kind;
  }
  return {
    kind: s.kind,
    description,
    expression: s.kind === 'cron' ? s.expression : null,
    everyMs: s.kind === 'interval' ? s.everyMs : null,
  };
}

function recentRunWire(run: DagRun): z.infer<typeof RecentRun> {
  return {
    runId: run.runId,
    runType: run.runType,
    state: run.state,
    logicalDate: iso(run.logicalDate),
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
  };
}

function importErrorWire(error: ImportError): z.infer<typeof ImportErrorWire> {
  return { fileloc: error.fileloc, message: error.message, at: iso(error.at) };
}

function dagWire({ record, manifest, recentRuns }: DagSummary): z.infer<typeof Dag> {
  const next = record.nextRun;
  return {
    dagId: record.dagId,
    description: manifest?.description ?? null,
    schedule: manifest ? scheduleOf(manifest) : null,
    timezone: manifest?.timezone ?? null,
    tags: manifest?.tags ?? [],
    paused: record.paused,
    active: record.active,
    fileloc: record.fileloc,
    currentVersion: record.currentVersion,
    maxActiveRuns: manifest?.maxActiveRuns ?? null,
    maxActiveTasks: manifest?.maxActiveTasks ?? null,
    catchup: manifest?.catchup ?? null,
    nextRun: next && {
      logicalDate: iso(next.logicalDate),
      dataIntervalStart: iso(next.dataIntervalStart),
      dataIntervalEnd: iso(next.dataIntervalEnd),
      runAfter: iso(next.runAfter),
    },
    recentRuns: recentRuns.map(recentRunWire),
    importError: record.importError && importErrorWire(record.importError),
    warnings: record.warnings,
    registeredAt: iso(record.registeredAt),
    updatedAt: iso(record.updatedAt),
  };
}

function taskWire(t: TaskManifest): z.infer<typeof Task> {
  return {
    taskId: t.taskId,
    kind: t.operator.kind,
    upstream: t.upstream,
    downstream: t.downstream,
    pool: t.pool,
    poolSlots: t.poolSlots,
    priorityWeight: t.priorityWeight,
    weightRule: t.weightRule,
    priorityWeightTotal: t.priorityWeightTotal,
    triggerRule: t.triggerRule,
    retries: t.retries,
    retryDelayMs: t.retryDelayMs,
    retryExponentialBackoff: t.retryExponentialBackoff,
    maxRetryDelayMs: t.maxRetryDelayMs,
    executionTimeoutMs: t.executionTimeoutMs,
    maxActiveTisPerDag: t.maxActiveTisPerDag,
    maxActiveTisPerDagrun: t.maxActiveTisPerDagrun,
    executor: t.executor,
    doc: t.doc,
  };
}

function versionWire(v: { version: string; registeredAt: number | null; current: boolean }) {
  return { ...v, registeredAt: iso(v.registeredAt) };
}

function dagDetailWire(
  summary: DagSummary,
  versions: { version: string; registeredAt: number | null; current: boolean }[],
): z.infer<typeof DagDetail> {
  const m = summary.manifest;
  return {
    ...dagWire(summary),
    startDate: iso(m?.startDate ?? null),
    endDate: iso(m?.endDate ?? null),
    params: m?.params ?? {},
    dagrunTimeoutMs: m?.dagrunTimeoutMs ?? null,
    tasks: m?.tasks.map(taskWire) ?? [],
    versions: versions.map(versionWire),
  };
}

export {
  Dag,
  DagDetail,
  DagPatch,
  DagVersion,
  dagDetailWire,
  dagWire,
  ImportErrorWire,
  importErrorWire,
  RecentRun,
  RunSlot,
  Task,
  taskWire,
  VersionInfo,
  versionWire,
};
