/**
 * Who may call the API: the local bearer token, and in AWS the authorizer context API Gateway puts
 * in the event (IAM or JWT). Every route but health answers 401 without it.
 */
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import { createApiApp } from '../../../../functions/api/app.ts';
import { makeApiHarness, TOKEN } from '../../../support/api-harness.ts';

/** Every route of the document with its path parameters filled in. */
async function everyRoute() {
  const h = makeApiHarness(new MemoryStateStore());
  const doc = (await h.call('GET', '/api/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, 'x'),
    })),
  );
}

function gatewayEvent(path: string, authorizer: Record<string, unknown> | undefined): LambdaEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'test' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '05/Jan/2026:00:00:00 +0000',
      timeEpoch: 1767571200000,
      ...(authorizer && { authorizer }),
    },
    isBase64Encoded: false,
  } as unknown as LambdaEvent;
}

describe('API auth', () => {
  it('answers 401 on every route but health without a token, and with a wrong one', async () => {
    const h = makeApiHarness(new MemoryStateStore());
    const routes = await everyRoute();
    expect(routes.length).toBeGreaterThan(20);
    for (const { method, path } of routes) {
      const missing = await h.call(method, path, undefined, { token: null });
      const wrong = await h.call(method, path, undefined, { token: 'not-the-token' });
      if (path === '/api/v1/health') {
        expect(missing.status, `${method} ${path}`).toBe(200);
        continue;
      }
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(missing.body.error).toBe('unauthorized');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(wrong.body.message).toMatch(/token is wrong/);
    }
    expect((await h.call('GET', '/api/openapi.json', undefined, { token: null })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/unknown', undefined, { token: null })).status).toBe(401);
  });

  it('accepts the right token, and names unknown routes with a 404', async () => {
    const h = makeApiHarness(new MemoryStateStore());
    expect((await h.call('GET', '/api/v1/version')).body).toEqual({
      version: '0.1.0-test',
      commit: 'abc123',
      stage: 'test',
      api: 'v1',
      dagBucket: null,
      dagDefaults: DEFAULT_DAG_DEFAULTS,
    });
    expect((await h.call('GET', '/api/v1/unknown')).body).toEqual({
      error: 'not_found',
      message: 'no route GET /api/v1/unknown',
    });
    expect(TOKEN.length).toBeGreaterThanOrEqual(16);
  });

  it.each([
    { mode: 'iam' as const, authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/ops' } } },
    { mode: 'jwt' as const, authorizer: { jwt: { claims: { sub: 'user-1' }, scopes: null } } },
  ])(
    'in $mode mode trusts the gateway authorizer context and refuses a request without it',
    async ({ mode, authorizer }) => {
      const h = makeApiHarness(new MemoryStateStore());
      const app = createApiApp({ ...h.deps, auth: { mode } });
      const handler = handle(app);
      const ok = await handler(gatewayEvent('/api/v1/version', authorizer));
      expect(ok.statusCode).toBe(200);
      expect(JSON.parse(ok.body).api).toBe('v1');
      const refused = await handler(gatewayEvent('/api/v1/version', undefined));
      expect(refused.statusCode).toBe(401);
      expect(refused.headers?.['www-authenticate']).toBe(mode === 'iam' ? 'AWS4-HMAC-SHA256' : 'Bearer');
      // A bearer token means nothing in AWS modes: only the gateway authenticates.
      const health = await handler(gatewayEvent('/api/v1/health', undefined));
      expect(health.statusCode).toBe(200);
    },
  );
});
