/** The Hono environment of the API app: what the Lambda adapter binds, and what middleware sets. */
import type { OpenAPIHono } from '@hono/zod-openapi';

/** The part of an API Gateway HTTP API (payload v2) event the app reads. */
interface GatewayEvent {
  requestContext?: {
    authorizer?: {
      iam?: { userArn?: string };
      jwt?: { claims?: Record<string, unknown> };
    };
  };
}

export interface ApiEnv {
  /** Set by `hono/aws-lambda` in Lambda; absent locally. */
  Bindings: { event?: GatewayEvent };
  Variables: { principal: string };
}

export type ApiApp = OpenAPIHono<ApiEnv>;
