/** Clearing task instances on the wire. */
import { z } from '@hono/zod-openapi';
import { TI_STATES } from '#core/states.ts';
import type { ClearResult } from '#services/clear.ts';
import { InstantInput } from './common.ts';

const ClearRequest = z
  .object({
    runId: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'The run to clear in (or give from and to).' }),
    from: InstantInput.optional().openapi({
      description: 'Clear in every run with a logical date from here…',
    }),
    to: InstantInput.optional().openapi({ description: '…to here (inclusive).' }),
    taskIds: z
      .array(z.string().min(1))
      .min(1)
      .openapi({ example: ['load'] }),
    includeDownstream: z.boolean().optional().openapi({ description: 'Also every task after them.' }),
    onlyFailed: z.boolean().optional().openapi({ description: 'Only failed and upstream_failed instances.' }),
    dryRun: z.boolean().optional().openapi({ description: 'Only list what would be cleared.' }),
  })
  .strict()
  .openapi('ClearRequest');

const ClearedTi = z
  .object({
    dagId: z.string(),
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: z.enum(TI_STATES).openapi({ description: 'The state it was in before clearing.' }),
    tryNumber: z.number().int(),
  })
  .openapi('ClearedTaskInstance');

const ClearResultWire = z
  .object({
    dryRun: z.boolean(),
    cleared: z.array(ClearedTi),
    skipped: z.array(ClearedTi).openapi({
      description: 'Instances that changed while they were being cleared, left as they are: look again.',
    }),
    runsRequeued: z.array(z.object({ dagId: z.string(), runId: z.string() })),
  })
  .openapi('ClearResult');

function clearWire(result: ClearResult): z.infer<typeof ClearResultWire> {
  return result;
}

export { ClearRequest, ClearResultWire, clearWire };
