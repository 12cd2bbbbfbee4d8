/**
 * The API's wire types, inferred from the zod schemas that validate its requests and generate its
 * OpenAPI document (functions/api/schemas): type-only imports, so a change to the API's shapes
 * fails the CLI's type check.
 */
import type { z } from '@hono/zod-openapi';
import type { Version as VersionSchema } from '../../functions/api/routes/system.ts';
import type {
  BackfillCreated as BackfillCreatedSchema,
  BackfillCreate as BackfillCreateSchema,
  BackfillWire,
} from '../../functions/api/schemas/backfills.ts';
import type {
  ClearRequest as ClearRequestSchema,
  ClearResultWire,
} from '../../functions/api/schemas/clear.ts';
import type { Dag as DagSchema, ImportErrorWire } from '../../functions/api/schemas/dags.ts';
import type { PoolWire } from '../../functions/api/schemas/pools.ts';
import type { Run as RunSchema, TriggerRun as TriggerRunSchema } from '../../functions/api/schemas/runs.ts';

export type Dag = z.infer<typeof DagSchema>;
export type ImportError = z.infer<typeof ImportErrorWire>;
export type Run = z.infer<typeof RunSchema>;
export type TriggerRun = z.input<typeof TriggerRunSchema>;
export type Pool = z.infer<typeof PoolWire>;
export type Backfill = z.infer<typeof BackfillWire>;
export type BackfillCreated = z.infer<typeof BackfillCreatedSchema>;
export type BackfillCreate = z.input<typeof BackfillCreateSchema>;
export type ClearRequest = z.input<typeof ClearRequestSchema>;
export type ClearResult = z.infer<typeof ClearResultWire>;
export type Version = z.infer<typeof VersionSchema>;
