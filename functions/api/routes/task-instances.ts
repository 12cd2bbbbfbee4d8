/** Task instances of a run: list, detail with tries and wait reason, logs per try, and clearing. */
import { createRoute, z } from '@hono/zod-openapi';
import { clearTaskInstances } from '#services/clear.ts';
import { getTiDetail, listRunTis, readTryLog } from '#services/task-instances.ts';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import { ClearRequest, ClearResultWire, clearWire } from '../schemas/clear.ts';
import { errors, IdParam, json, jsonBody, PageQuery, pageOf } from '../schemas/common.ts';
import { LogLine, TaskInstanceDetail, TaskInstanceWire, tiDetailWire, tiWire } from '../schemas/runs.ts';

const DagParams = z.object({ dagId: IdParam('dagId', 'The DAG id.') });
const RunParams = DagParams.extend({ runId: IdParam('runId', 'The run id (URL-encoded).') });
const TiParams = RunParams.extend({ taskId: IdParam('taskId', 'The task id.') });
const MapIndex = z.object({
  mapIndex: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: 'Map index; -1 (default) for unmapped tasks.' }),
});

const listTis = createRoute({
  method: 'get',
  path: '/dags/{dagId}/runs/{runId}/taskInstances',
  tags: ['Task instances'],
  summary: 'Task instances of a run, in the DAG’s order',
  security: secured,
  request: { params: RunParams, query: PageQuery },
  responses: {
    200: json(pageOf(TaskInstanceWire, 'TaskInstancePage'), 'A page of task instances'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const getTi = createRoute({
  method: 'get',
  path: '/dags/{dagId}/runs/{runId}/taskInstances/{taskId}',
  tags: ['Task instances'],
  summary: 'One task instance with its tries, wait reason and result',
  security: secured,
  request: { params: TiParams, query: MapIndex },
  responses: {
    200: json(TaskInstanceDetail, 'The task instance'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const getLog = createRoute({
  method: 'get',
  path: '/dags/{dagId}/runs/{runId}/taskInstances/{taskId}/logs/{tryNumber}',
  tags: ['Task instances'],
  summary: 'The log of one try, line by line',
  security: secured,
  request: {
    params: TiParams.extend({
      tryNumber: z.coerce
        .number()
        .int()
        .min(1)
        .openapi({ param: { name: 'tryNumber', in: 'path' }, example: 1 }),
    }),
    query: PageQuery.merge(MapIndex),
  },
  responses: {
    200: json(pageOf(LogLine, 'LogPage'), 'A page of log lines'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const clear = createRoute({
  method: 'post',
  path: '/dags/{dagId}/clearTaskInstances',
  tags: ['Task instances'],
  summary: 'Clear task instances (re-run them), optionally with downstream, only failed, or as a dry run',
  security: secured,
  request: { params: DagParams, body: jsonBody(ClearRequest) },
  responses: {
    200: json(ClearResultWire, 'What was (or, for a dry run, would be) cleared'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

function taskInstanceRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(listTis, async (c) => {
      const { dagId, runId } = c.req.valid('param');
      const page = await listRunTis(deps, dagId, runId, c.req.valid('query'));
      const now = deps.clock.now();
      return c.json({ items: page.items.map((ti) => tiWire(ti, now)), next: page.next }, 200);
    })
    .openapi(getTi, async (c) => {
      const { dagId, runId, taskId } = c.req.valid('param');
      const mapIndex = c.req.valid('query').mapIndex ?? -1;
      const now = deps.clock.now();
      return c.json(tiDetailWire(await getTiDetail(deps, { dagId, runId, taskId, mapIndex }, now), now), 200);
    })
    .openapi(getLog, async (c) => {
      const { dagId, runId, taskId, tryNumber } = c.req.valid('param');
      const { mapIndex, ...page } = c.req.valid('query');
      const key = { dagId, runId, taskId, mapIndex: mapIndex ?? -1 };
      return c.json(await readTryLog(deps, key, tryNumber, page), 200);
    })
    .openapi(clear, async (c) => {
      const { dagId } = c.req.valid('param');
      const result = await clearTaskInstances(deps, { dagId, ...c.req.valid('json'), now: deps.clock.now() });
      return c.json(clearWire(result), 200);
    });
}

export { taskInstanceRoutes };
