/**
 * What `updraft dev` serves over HTTP on `--port`: the API (functions/api, the same app the Lambda
 * runs) on the running stack's dependencies, authenticated by a bearer token generated at start-up
 * (or `UPDRAFT_API_TOKEN`), plus `GET /health` with what is running, and the web console (console/dist)
 * at `/`, so the one URL `npm start` prints opens the console signed in (`/#token=…`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from '#ports';
import { createApiApp } from '../../functions/api/app.ts';
import type { ApiDeps } from '../../functions/api/deps.ts';
import { mountConsole } from './console-files.ts';
import { devLogger } from './dev-logger.ts';
import type { LocalStack } from './stack.ts';

/** A fresh token for this run: 32 random bytes, URL-safe. */
function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The API's dependencies on a running local stack. */
function localApiDeps(stack: LocalStack, options: { token: string; logger?: Logger }): ApiDeps {
  const { deps } = stack;
  if (!deps.logs) throw new Error('the local stack has no log store');
  return {
    store: deps.store,
    dispatcher: deps.dispatcher,
    events: deps.events,
    schedules: deps.schedules,
    settings: deps.settings,
    manifests: deps.manifests,
    logger: options.logger ?? devLogger('api'),
    logs: deps.logs,
    ...(deps.results && { results: deps.results }),
    clock: deps.clock,
    auth: { mode: 'token', token: options.token },
    deployment: {
      version: packageVersion(),
      commit: null,
      stage: 'local',
      // Where `updraft dags deploy` uploads DAG bundles: the emulator's bucket.
      dagBucket: { name: stack.names.bucket, endpoint: stack.endpoints.aws },
    },
  };
}

/**
 * The request listener of `updraft dev`: the API under `/api`, the stack's own `/health`, and the
 * console at `/` when it is built (`console: false` leaves it out).
 */
function devRequestHandler(options: { token: string; logger?: Logger; console?: boolean }) {
  return (stack: LocalStack): RequestListener => {
    const app = new Hono();
    app.get('/health', (c) =>
      c.json({
        status: 'ok',
        endpoints: stack.endpoints,
        table: stack.names.table,
        bucket: stack.names.bucket,
        notifications: stack.notifier.recent().slice(-10),
      }),
    );
    app.route('/', createApiApp(localApiDeps(stack, options)));
    if (options.console !== false) mountConsole(app);
    return getRequestListener(app.fetch);
  };
}

export { devRequestHandler, localApiDeps, newApiToken };
