/** DAG runs and task instances on the wire, and the mapping from the domain records. */
import { z } from '@hono/zod-openapi';
import type { DagRun, TaskInstance } from '#core/model.ts';
import { RUN_STATES, TI_STATES } from '#core/states.ts';
import { describeWaitReason } from '#core/wait-reasons.ts';
import type { RunDetail } from '#services/runs.ts';
import type { TiDetail } from '#services/task-instances.ts';
import { Instant, InstantInput, iso, JsonObject, NullableInstant } from './common.ts';
import { Task, taskWire } from './dags.ts';

const Run = z
  .object({
    dagId: z.string(),
    runId: z.string().openapi({ example: 'manual__2026-01-05T00:00:00+00:00' }),
    runType: z.enum(['scheduled', 'manual', 'backfill']),
    state: z.enum(RUN_STATES),
    logicalDate: Instant,
    dataIntervalStart: Instant,
    dataIntervalEnd: Instant,
    runAfter: Instant,
    dagVersion: z.string().openapi({ description: 'The DAG version this run uses for its whole life.' }),
    conf: JsonObject,
    backfillId: z.string().nullable(),
    backfillOrdinal: z.number().int().nullable(),
    createdAt: Instant,
    startedAt: NullableInstant,
    endedAt: NullableInstant,
    durationMs: z.number().int().nullable(),
    clearNumber: z.number().int().openapi({ description: 'Times the run was cleared back to queued.' }),
    note: z.string().nullable().openapi({ description: 'Why it ended as it did (e.g. marked success).' }),
  })
  .openapi('Run');

const RunDetailWire = Run.extend({
  taskInstanceCounts: z.record(z.enum(TI_STATES), z.number().int()),
}).openapi('RunDetail');

const TriggerRun = z
  .object({
    conf: JsonObject.optional().openapi({ description: 'Run configuration, read by tasks as ctx.conf.' }),
    logicalDate: InstantInput.optional().openapi({
      description: "Defaults to now; the data interval is the schedule's last complete period before it.",
    }),
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_.:+-]{1,250}$/, 'must be 1–250 letters, digits, _ . : + or -')
      .optional()
      .openapi({ description: 'Defaults to manual__<logical date>.' }),
  })
  .strict()
  .openapi('TriggerRun');

const RunPatch = z
  .object({
    state: z.enum(['success', 'failed']).openapi({
      description:
        'success: every task instance not yet success becomes success. failed: running ones fail, other unfinished ones are skipped.',
    }),
  })
  .strict()
  .openapi('RunPatch');

const WaitReason = z
  .object({ kind: z.string().openapi({ example: 'pool_full' }) })
  .catchall(z.unknown())
  .openapi('WaitReason', { description: 'Why the instance waits, as data (its words are waitReasonText).' });

const TaskInstanceWire = z
  .object({
    dagId: z.string(),
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int().openapi({ description: '-1 for unmapped tasks.' }),
    state: z.enum(TI_STATES),
    tryNumber: z.number().int(),
    maxTries: z.number().int(),
    priorityWeight: z.number().int(),
    pool: z.string(),
    poolSlots: z.number().int(),
    executor: z.enum(['lambda', 'fargate']),
    logicalDate: Instant,
    dagVersion: z.string(),
    scheduledAt: NullableInstant,
    queuedAt: NullableInstant,
    startedAt: NullableInstant,
    endedAt: NullableInstant,
    durationMs: z.number().int().nullable(),
    heartbeatAt: NullableInstant,
    nextRetryAt: NullableInstant,
    rescheduleAt: NullableInstant,
    waitReason: WaitReason.nullable(),
    waitReasonText: z
      .string()
      .nullable()
      .openapi({ example: 'pool warehouse is full (8/8 slots used; needs 2)' }),
    workerId: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi('TaskInstance');

const Try = z
  .object({
    tryNumber: z.number().int(),
    current: z.boolean(),
    state: z.enum(TI_STATES).nullable().openapi({
      description:
        'How the try ended (the instance state for the current try); null for a try older than the 10 the instance keeps.',
    }),
    startedAt: NullableInstant,
    endedAt: NullableInstant,
    durationMs: z.number().int().nullable(),
    workerId: z
      .string()
      .nullable()
      .openapi({ description: 'Where the try ran (a Lambda log stream, a local process, a container).' }),
    error: z
      .string()
      .nullable()
      .openapi({ description: 'The try error, cut to 120 characters for an earlier try.' }),
  })
  .openapi('Try');

const TaskInstanceDetail = TaskInstanceWire.extend({
  result: z.unknown().openapi({ description: 'The JSON result of a successful try, if any.' }),
  task: Task.nullable(),
  tries: z.array(Try),
}).openapi('TaskInstanceDetail');

const LogLine = z.object({ line: z.number().int(), text: z.string() }).openapi('LogLine');

const duration = (start: number | null, end: number | null) =>
  start !== null && end !== null ? Math.max(0, end - start) : null;

function runWire(run: DagRun): z.infer<typeof Run> {
  return {
    dagId: run.dagId,
    runId: run.runId,
    runType: run.runType,
    state: run.state,
    logicalDate: iso(run.logicalDate),
    dataIntervalStart: iso(run.dataIntervalStart),
    dataIntervalEnd: iso(run.dataIntervalEnd),
    runAfter: iso(run.runAfter),
    dagVersion: run.dagVersion,
    conf: run.conf,
    backfillId: run.backfillId,
    backfillOrdinal: run.backfillOrdinal,
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
    durationMs: duration(run.startedAt, run.endedAt),
    clearNumber: run.clearNumber,
    note: run.note,
  };
}

function runDetailWire(detail: RunDetail): z.infer<typeof RunDetailWire> {
  return { ...runWire(detail.run), taskInstanceCounts: detail.tiCounts };
}

function tiWire(ti: TaskInstance, now: number): z.infer<typeof TaskInstanceWire> {
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    mapIndex: ti.mapIndex,
    state: ti.state,
    tryNumber: ti.tryNumber,
    maxTries: ti.maxTries,
    priorityWeight: ti.priorityWeight,
    pool: ti.pool,
    poolSlots: ti.poolSlots,
    executor: ti.executor,
    logicalDate: iso(ti.logicalDate),
    dagVersion: ti.dagVersion,
    scheduledAt: iso(ti.scheduledAt),
    queuedAt: iso(ti.queuedAt),
    startedAt: iso(ti.startedAt),
    endedAt: iso(ti.endedAt),
    durationMs: duration(ti.startedAt, ti.endedAt),
    heartbeatAt: iso(ti.heartbeatAt),
    nextRetryAt: iso(ti.nextRetryAt),
    rescheduleAt: iso(ti.rescheduleAt),
    waitReason: ti.waitReason,
    waitReasonText: ti.waitReason ? describeWaitReason(ti.waitReason, now) : null,
    workerId: ti.workerId,
    error: ti.error,
  };
}

function tiDetailWire(detail: TiDetail, now: number): z.infer<typeof TaskInstanceDetail> {
  return {
    ...tiWire(detail.ti, now),
    result: detail.result ?? null,
    task: detail.task && taskWire(detail.task),
    tries: detail.tries.map((t) => ({
      ...t,
      startedAt: iso(t.startedAt),
      endedAt: iso(t.endedAt),
      durationMs: duration(t.startedAt, t.endedAt),
    })),
  };
}

export {
  LogLine,
  Run,
  RunDetailWire,
  RunPatch,
  runDetailWire,
  runWire,
  TaskInstanceDetail,
  TaskInstanceWire,
  TriggerRun,
  tiDetailWire,
  tiWire,
};
