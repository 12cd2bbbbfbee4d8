/**
 * The console on the local stack for browser tests: the real handlers (test/e2e/support) and what
 * `npm start` serves over HTTP (cli/dev/http.ts: the API with a bearer token, the built console at
 * `/`). Builds the console first if console/dist is missing or older than its sources.
 */

import { ensureConsoleBuilt } from '../../../cli/dev/console-files.ts';
import { devRequestHandler } from '../../../cli/dev/http.ts';
import type { LocalStack, LocalStackOptions } from '../../../cli/dev/stack.ts';
import { startTestStack } from '../../e2e/support/local-stack.ts';

const TOKEN = 'browser-test-token-0123456789';

const quiet = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => console.error(...args) };

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
    http: { port: 0, handler: devRequestHandler({ token: TOKEN, logger: quiet }) },
  });
  return { stack, url: stack.endpoints.http! };
}

export { startConsoleStack, TOKEN };
