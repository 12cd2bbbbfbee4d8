/** DAG runs: list, trigger, detail, mark success/failed. */
import { createRoute, z } from '@hono/zod-openapi';
import { RUN_STATES } from '#core/states.ts';
import { getRunDetail, listDagRuns, markRun } from '#services/runs.ts';
import { triggerRun } from '#services/trigger-run.ts';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import { errors, IdParam, json, jsonBody, PageQuery, pageOf } from '../schemas/common.ts';
import { Run, RunDetailWire, RunPatch, runDetailWire, runWire, TriggerRun } from '../schemas/runs.ts';

const DagParams = z.object({ dagId: IdParam('dagId', 'The DAG id.') });
const RunParams = DagParams.extend({ runId: IdParam('runId', 'The run id (URL-encoded).') });

const states = z
  .string()
  .transform((s) => s.split(',').filter((x) => x !== ''))
  .pipe(z.array(z.enum(RUN_STATES)))
  .openapi({ type: 'string', description: 'Comma-separated run states to keep.', example: 'running,failed' });

const listRuns = createRoute({
  method: 'get',
  path: '/dags/{dagId}/runs',
  tags: ['Runs'],
  summary: 'Runs of a DAG, newest logical date first',
  security: secured,
  request: { params: DagParams, query: PageQuery.extend({ state: states.optional() }) },
  responses: {
    200: json(pageOf(Run, 'RunPage'), 'A page of runs'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const trigger = createRoute({
  method: 'post',
  path: '/dags/{dagId}/runs',
  tags: ['Runs'],
  summary: 'Trigger a run (with conf)',
  security: secured,
  request: { params: DagParams, body: jsonBody(TriggerRun, false) },
  responses: {
    201: json(Run, 'The new run (queued)'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
    409: errors[409],
  },
});

const getRun = createRoute({
  method: 'get',
  path: '/dags/{dagId}/runs/{runId}',
  tags: ['Runs'],
  summary: 'One run, with how many task instances are in each state',
  security: secured,
  request: { params: RunParams },
  responses: { 200: json(RunDetailWire, 'The run'), 401: errors[401], 404: errors[404] },
});

const patchRun = createRoute({
  method: 'patch',
  path: '/dags/{dagId}/runs/{runId}',
  tags: ['Runs'],
  summary: 'Mark a run success or failed',
  security: secured,
  request: { params: RunParams, body: jsonBody(RunPatch) },
  responses: {
    200: json(RunDetailWire, 'The run as it is now'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

function runRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(listRuns, async (c) => {
      const { dagId } = c.req.valid('param');
      const { state, ...page } = c.req.valid('query');
      const runs = await listDagRuns(deps, dagId, {
        ...page,
        ...(state && state.length > 0 && { states: state }),
      });
      return c.json({ items: runs.items.map(runWire), next: runs.next }, 200);
    })
    .openapi(trigger, async (c) => {
      const { dagId } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      const run = await triggerRun(deps, { dagId, now: deps.clock.now(), ...body });
      return c.json(runWire(run), 201);
    })
    .openapi(getRun, async (c) => {
      const { dagId, runId } = c.req.valid('param');
      return c.json(runDetailWire(await getRunDetail(deps, dagId, runId)), 200);
    })
    .openapi(patchRun, async (c) => {
      const { dagId, runId } = c.req.valid('param');
      const { state } = c.req.valid('json');
      return c.json(runDetailWire(await markRun(deps, { dagId, runId, state, now: deps.clock.now() })), 200);
    });
}

export { runRoutes };
