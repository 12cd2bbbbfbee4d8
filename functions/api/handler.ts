/**
 * The api Lambda: API Gateway HTTP API (payload v2) events into the Hono app. Dependencies are
 * built once per cold start; API Gateway has already authenticated the caller (IAM or JWT), and the
 * app checks that it did (auth.ts).
 */
import { handle } from 'hono/aws-lambda';
import { createApiApp } from './app.ts';
import { awsApiDeps } from './aws-deps.ts';
import { loadConfig } from './config.ts';

const deps = awsApiDeps(loadConfig(process.env));
const app = handle(createApiApp(deps));

/** The response is returned once the store has finished what the request started (`StateStore.settled`). */
const handler: typeof app = async (event, context) => {
  try {
    return await app(event, context);
  } finally {
    await deps.store.settled?.();
  }
};

export { handler };
