/** DAGs: list, detail, pause/unpause, versions, import errors. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getDagSummary,
  getDagVersion,
  listDagSummaries,
  listDagVersions,
  listImportErrors,
  setDagPaused,
} from '#services/dags.ts';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import { errors, IdParam, json, jsonBody, PageQuery, pageOf } from '../schemas/common.ts';
import {
  Dag,
  DagDetail,
  DagPatch,
  DagVersion,
  dagDetailWire,
  dagWire,
  ImportErrorWire,
  importErrorWire,
  VersionInfo,
  versionWire,
} from '../schemas/dags.ts';

const DagParams = z.object({ dagId: IdParam('dagId', 'The DAG id.') });
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const listDags = createRoute({
  method: 'get',
  path: '/dags',
  tags: ['DAGs'],
  summary: 'List DAGs with their next run, latest runs and import errors',
  security: secured,
  request: {
    query: PageQuery.extend({
      recentRuns: z.coerce
        .number()
        .int()
        .min(0)
        .max(50)
        .optional()
        .openapi({ description: 'Latest runs per DAG (default 5).' }),
      paused: flag
        .optional()
        .openapi({ type: 'boolean', description: 'Only paused (true) or unpaused (false) DAGs.' }),
      tag: z.string().min(1).optional().openapi({ description: 'Only DAGs with this tag.' }),
      includeInactive: flag
        .optional()
        .openapi({ type: 'boolean', description: 'Also DAGs whose file was deleted.' }),
    }),
  },
  responses: {
    200: json(pageOf(Dag, 'DagPage'), 'A page of DAGs, by id'),
    400: errors[400],
    401: errors[401],
  },
});

const getDag = createRoute({
  method: 'get',
  path: '/dags/{dagId}',
  tags: ['DAGs'],
  summary: 'One DAG with its tasks (current version)',
  security: secured,
  request: { params: DagParams },
  responses: { 200: json(DagDetail, 'The DAG'), 401: errors[401], 404: errors[404] },
});

const patchDag = createRoute({
  method: 'patch',
  path: '/dags/{dagId}',
  tags: ['DAGs'],
  summary: 'Pause or unpause a DAG',
  security: secured,
  request: { params: DagParams, body: jsonBody(DagPatch) },
  responses: {
    200: json(DagDetail, 'The DAG as it is now'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const listVersions = createRoute({
  method: 'get',
  path: '/dags/{dagId}/versions',
  tags: ['DAGs'],
  summary: 'Registered versions of a DAG, newest first',
  security: secured,
  request: { params: DagParams, query: PageQuery },
  responses: {
    200: json(pageOf(VersionInfo, 'DagVersionPage'), 'A page of versions'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const getVersion = createRoute({
  method: 'get',
  path: '/dags/{dagId}/versions/{version}',
  tags: ['DAGs'],
  summary: 'One version of a DAG (the manifest runs of that version use)',
  security: secured,
  request: { params: DagParams.extend({ version: IdParam('version', 'The version (content hash).') }) },
  responses: { 200: json(DagVersion, 'The version'), 401: errors[401], 404: errors[404] },
});

const importErrors = createRoute({
  method: 'get',
  path: '/importErrors',
  tags: ['DAGs'],
  summary: 'DAG files that failed to load',
  security: secured,
  request: { query: PageQuery },
  responses: {
    200: json(pageOf(ImportErrorWire, 'ImportErrorPage'), 'A page of import errors, by file'),
    400: errors[400],
    401: errors[401],
  },
});

/** The DAG with its tasks and its newest versions. */
async function detail(deps: ApiDeps, dagId: string) {
  const [summary, versions] = await Promise.all([
    getDagSummary(deps, dagId),
    listDagVersions(deps, dagId, { limit: 20 }),
  ]);
  return dagDetailWire(summary, versions.items);
}

function dagRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(listDags, async (c) => {
      const q = c.req.valid('query');
      const page = await listDagSummaries(deps, q);
      return c.json({ items: page.items.map(dagWire), next: page.next }, 200);
    })
    .openapi(getDag, async (c) => {
      const { dagId } = c.req.valid('param');
      return c.json(await detail(deps, dagId), 200);
    })
    .openapi(patchDag, async (c) => {
      const { dagId } = c.req.valid('param');
      const { paused } = c.req.valid('json');
      await setDagPaused(deps, { dagId, paused, now: deps.clock.now() });
      return c.json(await detail(deps, dagId), 200);
    })
    .openapi(listVersions, async (c) => {
      const { dagId } = c.req.valid('param');
      const page = await listDagVersions(deps, dagId, c.req.valid('query'));
      return c.json({ items: page.items.map(versionWire), next: page.next }, 200);
    })
    .openapi(getVersion, async (c) => {
      const { dagId, version } = c.req.valid('param');
      const [manifest, summary] = await Promise.all([
        getDagVersion(deps, dagId, version),
        getDagSummary(deps, dagId, 0),
      ]);
      return c.json({ dagId, version, current: summary.record.currentVersion === version, manifest }, 200);
    })
    .openapi(importErrors, async (c) => {
      const page = await listImportErrors(deps, c.req.valid('query'));
      return c.json({ items: page.items.map(importErrorWire), next: page.next }, 200);
    });
}

export { dagRoutes };
