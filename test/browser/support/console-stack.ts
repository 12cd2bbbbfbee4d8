/**
 * The console on the local stack for browser tests: the real handlers (test/e2e/support), the API
 * app on the stack's dependencies with a bearer token, and the built console at `/` — what
 * `npm start` serves. Builds the console first if console/dist is missing or older than its sources.
 */
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { ensureConsoleBuilt, mountConsole } from '../../../cli/dev/console-files.ts';
import type { LocalStack, LocalStackOptions } from '../../../cli/dev/stack.ts';
import { createApiApp } from '../../../functions/api/app.ts';
import type { ApiDeps } from '../../../functions/api/deps.ts';
import { startTestStack } from '../../e2e/support/local-stack.ts';

const TOKEN = 'browser-test-token-0123456789';

function apiDeps(stack: LocalStack): ApiDeps {
  const { deps } = stack;
  if (!deps.logs) throw new Error('the local stack has no log store');
  return {
    ...deps,
    logs: deps.logs,
    logger: { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => console.error(...args) },
    auth: { mode: 'token', token: TOKEN },
    deployment: { version: '0.1.0-test', commit: null, stage: 'local' },
  };
}

async function startConsoleStack(
  options: LocalStackOptions = {},
): Promise<{ stack: LocalStack; url: string }> {
  await ensureConsoleBuilt();
  const stack = await startTestStack({
    ...options,
    // The e2e tests' 2 s timeouts prove recovery from lost dispatches; here they would only turn a
    // loaded machine's slow start into failed runs. The console test is about what the page shows.
    settings: { heartbeatTimeoutMs: 60_000, taskQueuedTimeoutMs: 120_000, ...options.settings },
    sweepEveryMs: 5_000,
    heartbeatEveryMs: 5_000,
    http: {
      port: 0,
      handler: (s) => {
        const app = new Hono();
        app.route('/', createApiApp(apiDeps(s)));
        mountConsole(app);
        return getRequestListener(app.fetch);
      },
    },
  });
  return { stack, url: stack.endpoints.http! };
}

export { startConsoleStack, TOKEN };
