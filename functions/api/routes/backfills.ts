/** Backfills: create (or dry-run), list with progress, one, cancel. */
import { createRoute, z } from '@hono/zod-openapi';
import { createBackfill } from '#services/backfill.ts';
import { cancelBackfill, getBackfillStatus, listBackfillStatus } from '#services/backfill-status.ts';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import {
  BackfillCancel,
  BackfillCreate,
  BackfillCreated,
  BackfillWire,
  backfillWire,
  planWire,
} from '../schemas/backfills.ts';
import { errors, IdParam, json, jsonBody, PageQuery, pageOf } from '../schemas/common.ts';

const BackfillParams = z.object({ backfillId: IdParam('backfillId', 'The backfill id (URL-encoded).') });

const create = createRoute({
  method: 'post',
  path: '/backfills',
  tags: ['Backfills'],
  summary: 'Create a backfill over a logical-date range, or preview it with dryRun',
  security: secured,
  request: { body: jsonBody(BackfillCreate) },
  responses: {
    200: json(
      BackfillCreated,
      'Dry run: the plan, nothing created; or a retried request: the backfill it created',
    ),
    201: json(BackfillCreated, 'The backfill and its plan'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
    409: errors[409],
  },
});

const list = createRoute({
  method: 'get',
  path: '/backfills',
  tags: ['Backfills'],
  summary: 'Backfills of a DAG, newest first, with progress',
  security: secured,
  request: {
    query: PageQuery.extend({
      dagId: z.string().min(1).openapi({ description: 'The DAG whose backfills to list.' }),
    }),
  },
  responses: {
    200: json(pageOf(BackfillWire, 'BackfillPage'), 'A page of backfills'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const get = createRoute({
  method: 'get',
  path: '/backfills/{backfillId}',
  tags: ['Backfills'],
  summary: 'One backfill with its progress',
  security: secured,
  request: { params: BackfillParams },
  responses: { 200: json(BackfillWire, 'The backfill'), 401: errors[401], 404: errors[404] },
});

const cancel = createRoute({
  method: 'post',
  path: '/backfills/{backfillId}/cancel',
  tags: ['Backfills'],
  summary: 'Cancel a backfill: no more runs start, queued ones fail, running ones finish (or fail)',
  security: secured,
  request: { params: BackfillParams, body: jsonBody(BackfillCancel, false) },
  responses: {
    200: json(BackfillWire, 'The backfill as it is now'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
    409: errors[409],
  },
});

function backfillRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(create, async (c) => {
      const body = c.req.valid('json');
      const now = deps.clock.now();
      const { backfill, plan, pending, replayed } = await createBackfill(deps, { ...body, now });
      const status = backfill ? await getBackfillStatus(deps, backfill.backfillId) : null;
      const created = {
        dryRun: !backfill,
        replayed,
        backfill: status && backfillWire(status),
        plan: plan.map(planWire),
        pending,
      };
      return backfill && !replayed ? c.json(created, 201) : c.json(created, 200);
    })
    .openapi(list, async (c) => {
      const { dagId, ...page } = c.req.valid('query');
      const result = await listBackfillStatus(deps, dagId, page);
      return c.json({ items: result.items.map(backfillWire), next: result.next }, 200);
    })
    .openapi(get, async (c) =>
      c.json(backfillWire(await getBackfillStatus(deps, c.req.valid('param').backfillId)), 200),
    )
    .openapi(cancel, async (c) => {
      const { backfillId } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      return c.json(
        backfillWire(await cancelBackfill(deps, { backfillId, ...body, now: deps.clock.now() })),
        200,
      );
    });
}

export { backfillRoutes };
