/**
 * The HTTP API: one Hono app that runs in Lambda (behind API Gateway, see handler.ts) and in the
 * local stack (`updraft dev` mounts it). Routes are thin: they parse with the zod schemas that also
 * generate `/api/openapi.json`, call one service, and map the result to its wire shape.
 *
 *   /api/v1/health                                   no auth
 *   /api/v1/version, /dags, /runs, /taskInstances,
 *   /clearTaskInstances, /pools, /backfills, …      auth (see auth.ts)
 *   /api/openapi.json                                auth
 */
import type { OpenAPIObjectConfigure } from '@hono/zod-openapi';
import { requireAuth } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiApp, ApiEnv } from './env.ts';
import { sendError } from './errors.ts';
import { newRouter } from './router.ts';
import { backfillRoutes } from './routes/backfills.ts';
import { dagRoutes } from './routes/dags.ts';
import { poolRoutes } from './routes/pools.ts';
import { runRoutes } from './routes/runs.ts';
import { systemRoutes } from './routes/system.ts';
import { taskInstanceRoutes } from './routes/task-instances.ts';

const BASE = '/api/v1';
const UNAUTHENTICATED = new Set([`${BASE}/health`]);

function securityScheme(mode: ApiDeps['auth']['mode']) {
  switch (mode) {
    case 'token':
      return {
        type: 'http' as const,
        scheme: 'bearer',
        description: 'The token `npm start` prints: `Authorization: Bearer <token>`.',
      };
    case 'jwt':
      return {
        type: 'http' as const,
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A JWT from the configured issuer (Cognito or any OIDC provider).',
      };
    case 'iam':
      return {
        type: 'apiKey' as const,
        in: 'header' as const,
        name: 'Authorization',
        description:
          'AWS Signature Version 4 (IAM): sign requests with credentials allowed to invoke the API.',
      };
  }
}

function document(deps: ApiDeps): OpenAPIObjectConfigure<ApiEnv, string> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Updraft API',
      version: deps.deployment.version,
      description:
        'DAGs, runs, task instances, pools and backfills of an Updraft deployment. Errors are `{ error, message, field? }`; lists page with `limit` and `cursor` (the previous page’s `next`).',
    },
    servers: [{ url: '/' }],
  };
}

function createApiApp(deps: ApiDeps): ApiApp {
  const app = newRouter();
  app.onError((err, c) => sendError(c, err, deps.logger));
  app.notFound((c) =>
    c.json({ error: 'not_found' as const, message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  const auth = requireAuth(deps.auth);
  app.use('/api/*', (c, next) => (UNAUTHENTICATED.has(c.req.path) ? next() : auth(c, next)));
  app.openAPIRegistry.registerComponent('securitySchemes', 'updraft', securityScheme(deps.auth.mode));

  app.route(BASE, systemRoutes(deps));
  app.route(BASE, dagRoutes(deps));
  app.route(BASE, runRoutes(deps));
  app.route(BASE, taskInstanceRoutes(deps));
  app.route(BASE, poolRoutes(deps));
  app.route(BASE, backfillRoutes(deps));
  app.doc('/api/openapi.json', document(deps));
  return app;
}

export { BASE, createApiApp };
