/**
 * The API's wire types, inferred from the zod schemas that validate its requests and generate
 * /api/openapi.json (functions/api/schemas). The CLI and the console import them type-only, so
 * nothing of zod or the server reaches their bundles, and a change to the API's shapes fails both
 * type checks. Request bodies use the schema's input side (instants as strings).
 */
import type { z } from '@hono/zod-openapi';
import type { RUN_STATES, TI_STATES } from '../../shared/core/states.ts';
import type { Version as VersionSchema } from './routes/system.ts';
import type {
  BackfillCreated as BackfillCreatedSchema,
  BackfillCreate as BackfillCreateSchema,
  BackfillWire,
} from './schemas/backfills.ts';
import type { ClearRequest as ClearRequestSchema, ClearResultWire } from './schemas/clear.ts';
import type { ErrorBody } from './schemas/common.ts';
import type {
  DagDetail as DagDetailSchema,
  Dag as DagSchema,
  ImportErrorWire,
  Task as TaskSchema,
} from './schemas/dags.ts';
import type { PoolWire } from './schemas/pools.ts';
import type {
  LogLine as LogLineSchema,
  RunDetailWire,
  Run as RunSchema,
  TaskInstanceDetail as TaskInstanceDetailSchema,
  TaskInstanceWire,
  TriggerRun as TriggerRunSchema,
} from './schemas/runs.ts';

export type TiState = (typeof TI_STATES)[number];
export type RunState = (typeof RUN_STATES)[number];

export type Dag = z.infer<typeof DagSchema>;
export type DagDetail = z.infer<typeof DagDetailSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type ImportError = z.infer<typeof ImportErrorWire>;
export type Run = z.infer<typeof RunSchema>;
export type RunDetail = z.infer<typeof RunDetailWire>;
export type TriggerRun = z.input<typeof TriggerRunSchema>;
export type TaskInstance = z.infer<typeof TaskInstanceWire>;
export type TaskInstanceDetail = z.infer<typeof TaskInstanceDetailSchema>;
export type LogLine = z.infer<typeof LogLineSchema>;
export type Pool = z.infer<typeof PoolWire>;
export type Backfill = z.infer<typeof BackfillWire>;
export type BackfillCreated = z.infer<typeof BackfillCreatedSchema>;
export type BackfillCreate = z.input<typeof BackfillCreateSchema>;
export type ClearRequest = z.input<typeof ClearRequestSchema>;
export type ClearResult = z.infer<typeof ClearResultWire>;
export type ErrorResponse = z.infer<typeof ErrorBody>;
export type Version = z.infer<typeof VersionSchema>;

/** `{ items, next }`: `next` is the cursor of the following page, null on the last one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}
