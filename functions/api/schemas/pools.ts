/** Pools on the wire, with their slot usage and holders. */
import { z } from '@hono/zod-openapi';
import { TI_STATES } from '#core/states.ts';
import type { PoolStatus } from '#services/pools.ts';
import { iso, NullableInstant } from './common.ts';

const Slots = z
  .number()
  .int()
  .min(-1)
  .openapi({ description: 'Slot budget; -1 means unlimited.', example: 8 });

const PoolHolder = z
  .object({
    dagId: z.string(),
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: z.enum(TI_STATES),
    slots: z.number().int().openapi({ description: 'Slots of this pool it holds.' }),
    queuedAt: NullableInstant,
    startedAt: NullableInstant,
  })
  .openapi('PoolHolder');

const PoolWire = z
  .object({
    name: z.string(),
    slots: Slots,
    description: z.string(),
    includeDeferred: z.boolean(),
    used: z.number().int().openapi({ description: 'Slots held (the counter claims are checked against).' }),
    queued: z.number().int().openapi({ description: 'Slots held by queued task instances.' }),
    running: z.number().int().openapi({ description: 'Slots held by running task instances.' }),
    open: z.number().int().nullable().openapi({ description: 'Slots free for claims; null when unlimited.' }),
    holders: z.array(PoolHolder),
  })
  .openapi('Pool');

const PoolCreate = z
  .object({
    name: z.string().openapi({ example: 'warehouse' }),
    slots: Slots,
    description: z.string().max(2000).optional(),
    includeDeferred: z.boolean().optional(),
  })
  .strict()
  .openapi('PoolCreate');

const PoolPatch = z
  .object({
    slots: Slots.optional(),
    description: z.string().max(2000).optional(),
    includeDeferred: z.boolean().optional(),
  })
  .strict()
  .openapi('PoolPatch');

function poolWire(s: PoolStatus): z.infer<typeof PoolWire> {
  return {
    ...s.pool,
    used: s.used,
    queued: s.queued,
    running: s.running,
    open: s.open,
    holders: s.holders.map(({ ti, slots }) => ({
      dagId: ti.dagId,
      runId: ti.runId,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      state: ti.state,
      slots,
      queuedAt: iso(ti.queuedAt),
      startedAt: iso(ti.startedAt),
    })),
  };
}

export { PoolCreate, PoolPatch, PoolWire, poolWire };
