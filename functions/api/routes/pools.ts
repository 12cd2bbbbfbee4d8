/** Pools: list with usage and holders, create, resize, delete. */
import { createRoute, z } from '@hono/zod-openapi';
import { createPool, deletePool, getPoolStatus, listPoolStatus, updatePool } from '#services/pools.ts';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import { errors, IdParam, json, jsonBody, PageQuery, pageOf } from '../schemas/common.ts';
import { PoolCreate, PoolPatch, PoolWire, poolWire } from '../schemas/pools.ts';

const PoolParams = z.object({ name: IdParam('name', 'The pool name.') });

const list = createRoute({
  method: 'get',
  path: '/pools',
  tags: ['Pools'],
  summary: 'Pools with their slots used (queued, running), open, and the task instances holding them',
  security: secured,
  request: { query: PageQuery },
  responses: {
    200: json(pageOf(PoolWire, 'PoolPage'), 'A page of pools, by name'),
    400: errors[400],
    401: errors[401],
  },
});

const create = createRoute({
  method: 'post',
  path: '/pools',
  tags: ['Pools'],
  summary: 'Create a pool',
  security: secured,
  request: { body: jsonBody(PoolCreate) },
  responses: { 201: json(PoolWire, 'The new pool'), 400: errors[400], 401: errors[401], 409: errors[409] },
});

const get = createRoute({
  method: 'get',
  path: '/pools/{name}',
  tags: ['Pools'],
  summary: 'One pool',
  security: secured,
  request: { params: PoolParams },
  responses: { 200: json(PoolWire, 'The pool'), 401: errors[401], 404: errors[404] },
});

const patch = createRoute({
  method: 'patch',
  path: '/pools/{name}',
  tags: ['Pools'],
  summary: 'Resize a pool or change its description (takes effect at the next claim)',
  security: secured,
  request: { params: PoolParams, body: jsonBody(PoolPatch) },
  responses: {
    200: json(PoolWire, 'The pool as it is now'),
    400: errors[400],
    401: errors[401],
    404: errors[404],
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/pools/{name}',
  tags: ['Pools'],
  summary: 'Delete a pool (not default_pool, nor a pool whose slots are held)',
  security: secured,
  request: { params: PoolParams },
  responses: { 204: { description: 'Deleted' }, 401: errors[401], 404: errors[404], 409: errors[409] },
});

function poolRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(list, async (c) => {
      const page = await listPoolStatus(deps, c.req.valid('query'));
      return c.json({ items: page.items.map(poolWire), next: page.next }, 200);
    })
    .openapi(create, async (c) => c.json(poolWire(await createPool(deps, c.req.valid('json'))), 201))
    .openapi(get, async (c) => c.json(poolWire(await getPoolStatus(deps, c.req.valid('param').name)), 200))
    .openapi(patch, async (c) => {
      const { name } = c.req.valid('param');
      return c.json(poolWire(await updatePool(deps, { name, ...c.req.valid('json') })), 200);
    })
    .openapi(remove, async (c) => {
      await deletePool(deps, c.req.valid('param').name);
      return c.body(null, 204);
    });
}

export { poolRoutes };
