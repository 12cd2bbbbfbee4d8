/** Health (no auth: for load balancers and `npm start`'s readiness check) and the deployment's version. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.ts';
import { newRouter, secured } from '../router.ts';
import { errors, Instant, json } from '../schemas/common.ts';

const Health = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    store: z.enum(['ok', 'unreachable']).openapi({ description: 'Whether the state store answered.' }),
    time: Instant,
  })
  .openapi('Health');

const Version = z
  .object({
    version: z.string().openapi({ example: '0.1.0' }),
    commit: z.string().nullable(),
    stage: z.string().openapi({ example: 'local' }),
    api: z.literal('v1'),
    dagBucket: z
      .object({
        name: z.string(),
        prefix: z.literal('dags/'),
        endpoint: z
          .string()
          .nullable()
          .openapi({ description: 'An S3 emulator’s endpoint (local stacks); null in AWS.' }),
      })
      .nullable()
      .openapi({ description: 'Where `updraft dags deploy` uploads DAG bundles; null when not known.' }),
    dagDefaults: z
      .object({
        maxActiveRuns: z.number().int(),
        maxActiveTasks: z.number().int(),
        maxConsecutiveFailedDagRuns: z.number().int(),
        retries: z.number().int(),
        retryDelayMs: z.number().int(),
        executionTimeoutMs: z.number().int().nullable(),
      })
      .openapi({
        description:
          'The deployment’s DAG defaults, under every DAG’s own options: `updraft dags deploy` compiles with them to know the versions to expect.',
      }),
  })
  .openapi('Version');

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['System'],
  summary: 'Health of the API and its state store (no authentication)',
  responses: { 200: json(Health, 'Healthy'), 503: json(Health, 'The state store did not answer') },
});

const version = createRoute({
  method: 'get',
  path: '/version',
  tags: ['System'],
  summary: 'The version of this deployment',
  security: secured,
  responses: { 200: json(Version, 'The version'), 401: errors[401] },
});

function systemRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(health, async (c) => {
      const time = new Date(deps.clock.now()).toISOString();
      try {
        await deps.store.getPool('default_pool');
        return c.json({ status: 'ok' as const, store: 'ok' as const, time }, 200);
      } catch (err) {
        deps.logger.warn('health check: the state store did not answer', { error: String(err) });
        return c.json({ status: 'unavailable' as const, store: 'unreachable' as const, time }, 503);
      }
    })
    .openapi(version, (c) => {
      const { dagBucket, ...deployment } = deps.deployment;
      const bucket = dagBucket
        ? { name: dagBucket.name, prefix: 'dags/' as const, endpoint: dagBucket.endpoint }
        : null;
      return c.json(
        { ...deployment, api: 'v1' as const, dagBucket: bucket, dagDefaults: deps.settings.dagDefaults },
        200,
      );
    });
}

export { systemRoutes, Version };
