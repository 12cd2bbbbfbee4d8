/** Backfills on the wire: creation (with its plan), progress, cancel. */
import { z } from '@hono/zod-openapi';
import type { Backfill } from '#core/model.ts';
import type { BackfillPlanEntry } from '#services/backfill.ts';
import type { BackfillStatus } from '#services/backfill-status.ts';
import { Instant, InstantInput, iso, JsonObject, NullableInstant } from './common.ts';

const REPROCESS = ['none', 'failed', 'completed'] as const;

const BackfillCreate = z
  .object({
    dagId: z.string().min(1),
    from: InstantInput.openapi({ description: 'First logical date (inclusive).' }),
    to: InstantInput.openapi({ description: 'Last logical date (inclusive).' }),
    reprocessBehavior: z.enum(REPROCESS).optional().openapi({
      description:
        'What to do with a logical date that already has a finished run: none (default) keeps it, failed re-runs failed ones, completed re-runs every finished one. A run in flight is always left alone.',
    }),
    runBackwards: z.boolean().optional().openapi({ description: 'Start the newest logical date first.' }),
    maxActiveRuns: z.number().int().min(1).optional().openapi({
      description: "Runs of this backfill at once (default 10), apart from the DAG's own limit.",
    }),
    conf: JsonObject.optional(),
    dryRun: z.boolean().optional().openapi({ description: 'Only say what would be done.' }),
    idempotencyKey: z
      .string()
      .regex(/^[\w.:-]{1,128}$/, { error: 'must be 1–128 letters, digits, _ . : or -' })
      .optional()
      .openapi({
        description:
          'Send the same key when retrying a request: the backfill it created is returned (200, `replayed`) and nothing is created twice; the key used for a different request is refused (409). Without one, a request equal to an unfinished backfill of the DAG is taken as its retry.',
        example: '6f1c2a3e-retry-safe',
      }),
  })
  .strict()
  .openapi('BackfillCreate');

const PlanEntry = z
  .object({
    logicalDate: Instant,
    runId: z.string(),
    action: z.enum(['create', 'clear', 'skip']),
    reason: z.string().nullable().openapi({ example: 'in flight' }),
  })
  .openapi('BackfillPlanEntry');

const Progress = z
  .object({
    total: z.number().int().openapi({ description: 'Runs created or re-run, plus `pending`.' }),
    pending: z.number().int().openapi({
      description: 'Logical dates not looked at yet: runs are created as the window rolls.',
    }),
    queued: z.number().int(),
    running: z.number().int(),
    success: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    fraction: z.number().openapi({ description: 'Finished runs as a share of total, 0–1.' }),
    etaMs: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Estimated time left; null until a run finished.' }),
  })
  .openapi('BackfillProgress');

const BackfillWire = z
  .object({
    backfillId: z.string(),
    dagId: z.string(),
    from: Instant,
    to: Instant,
    reprocessBehavior: z.enum(REPROCESS),
    runBackwards: z.boolean(),
    maxActiveRuns: z.number().int(),
    conf: JsonObject,
    createdAt: Instant,
    completedAt: NullableInstant,
    cancelledAt: NullableInstant,
    state: z.enum(['running', 'completed', 'cancelled']),
    skipped: z.array(z.object({ logicalDate: Instant, reason: z.string() })).openapi({
      description:
        'Logical dates left alone, with the reason (the first 200; `progress.skipped` counts all).',
    }),
    idempotencyKey: z.string(),
    progress: Progress,
  })
  .openapi('Backfill');

const BackfillCreated = z
  .object({
    dryRun: z.boolean(),
    replayed: z.boolean().openapi({
      description:
        'The request was a retry of an existing backfill (same idempotency key): nothing new was created.',
    }),
    backfill: BackfillWire.nullable().openapi({ description: 'Null for a dry run.' }),
    plan: z.array(PlanEntry).openapi({
      description:
        'Dry run: one entry per logical date, in start order. Otherwise the logical dates acted on at creation (the first window); the rest (`pending`) as runs finish.',
    }),
    pending: z.number().int().openapi({ description: 'Logical dates not looked at yet.' }),
  })
  .openapi('BackfillCreated');

const BackfillCancel = z
  .object({
    failRunning: z.boolean().optional().openapi({
      description: 'Also mark its running runs failed (by default they finish; queued ones always fail).',
    }),
  })
  .strict()
  .openapi('BackfillCancel');

function backfillWire(s: BackfillStatus): z.infer<typeof BackfillWire> {
  const b: Backfill = s.backfill;
  return {
    backfillId: b.backfillId,
    dagId: b.dagId,
    from: iso(b.from),
    to: iso(b.to),
    reprocessBehavior: b.reprocessBehavior,
    runBackwards: b.runBackwards,
    maxActiveRuns: b.maxActiveRuns,
    conf: b.conf,
    createdAt: iso(b.createdAt),
    completedAt: iso(b.completedAt),
    cancelledAt: iso(b.cancelledAt),
    state: s.state,
    skipped: b.skipped.map((k) => ({ logicalDate: iso(k.logicalDate), reason: k.reason })),
    idempotencyKey: b.idempotencyKey,
    progress: s.progress,
  };
}

function planWire(entry: BackfillPlanEntry): z.infer<typeof PlanEntry> {
  return { ...entry, logicalDate: iso(entry.logicalDate) };
}

export { BackfillCancel, BackfillCreate, BackfillCreated, BackfillWire, backfillWire, planWire };
