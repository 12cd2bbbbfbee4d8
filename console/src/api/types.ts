/**
 * The wire types of the API, inferred from the very zod schemas that validate its requests and
 * generate /api/openapi.json (functions/api/schemas). Type-only imports: nothing of zod or the server
 * reaches the bundle, and a change to the API's shapes fails the console's type check.
 */
import type { z } from '@hono/zod-openapi';
import type {
  BackfillCreated as BackfillCreatedSchema,
  BackfillCreate as BackfillCreateSchema,
  BackfillWire,
} from '../../../functions/api/schemas/backfills.ts';
import type {
  ClearRequest as ClearRequestSchema,
  ClearResultWire,
} from '../../../functions/api/schemas/clear.ts';
import type { ErrorBody } from '../../../functions/api/schemas/common.ts';
import type {
  DagDetail as DagDetailSchema,
  Dag as DagSchema,
  ImportErrorWire,
  Task as TaskSchema,
} from '../../../functions/api/schemas/dags.ts';
import type { PoolWire } from '../../../functions/api/schemas/pools.ts';
import type {
  LogLine as LogLineSchema,
  RunDetailWire,
  Run as RunSchema,
  TaskInstanceDetail as TaskInstanceDetailSchema,
  TaskInstanceWire,
} from '../../../functions/api/schemas/runs.ts';
import type { RUN_STATES, TI_STATES } from '../../../shared/core/states.ts';

export type TiState = (typeof TI_STATES)[number];
export type RunState = (typeof RUN_STATES)[number];

export type Dag = z.infer<typeof DagSchema>;
export type DagDetail = z.infer<typeof DagDetailSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type ImportError = z.infer<typeof ImportErrorWire>;
export type Run = z.infer<typeof RunSchema>;
export type RunDetail = z.infer<typeof RunDetailWire>;
export type TaskInstance = z.infer<typeof TaskInstanceWire>;
export type TaskInstanceDetail = z.infer<typeof TaskInstanceDetailSchema>;
export type LogLine = z.infer<typeof LogLineSchema>;
export type Pool = z.infer<typeof PoolWire>;
export type Backfill = z.infer<typeof BackfillWire>;
export type BackfillCreated = z.infer<typeof BackfillCreatedSchema>;
/** What the console sends: the schema's input side (instants as strings). */
export type BackfillCreate = z.input<typeof BackfillCreateSchema>;
export type ClearRequest = z.input<typeof ClearRequestSchema>;
export type ClearResult = z.infer<typeof ClearResultWire>;
export type ErrorResponse = z.infer<typeof ErrorBody>;

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Version {
  version: string;
  commit: string | null;
  stage: string;
  api: 'v1';
}
