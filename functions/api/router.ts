/** A router of the API: an OpenAPIHono whose request validation fails as our 400 (see errors.ts). */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.ts';
import { validationBody } from './errors.ts';

function newRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(validationBody(result.error, result.target), 400);
    },
  });
}

/** The security requirement every route but health declares in the OpenAPI document. */
const secured = [{ updraft: [] }];

export { newRouter, secured };
