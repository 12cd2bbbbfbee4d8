/**
 * Who may call the API. In AWS, API Gateway authenticates before the function runs — IAM (SigV4) or
 * a JWT authorizer (Cognito or any OIDC issuer) — and the app trusts the authorizer context it puts
 * in the event, refusing a request that arrives without one (a misconfigured route, a direct
 * invoke). Locally there is no gateway: the app checks a bearer token generated at start-up.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './env.ts';

export type AuthConfig =
  /** A shared secret sent as `Authorization: Bearer <token>` (local mode). */
  | { mode: 'token'; token: string }
  /** API Gateway IAM authorization (SigV4): the event carries `requestContext.authorizer.iam`. */
  | { mode: 'iam' }
  /** API Gateway JWT authorizer: the event carries `requestContext.authorizer.jwt.claims`. */
  | { mode: 'jwt' };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** The caller's identity, or a reason the request is refused. */
function principalOf(auth: AuthConfig, header: string | undefined, event: ApiEnv['Bindings']['event']) {
  switch (auth.mode) {
    case 'token': {
      const token = bearerOf(header);
      if (!token)
        return { ok: false as const, reason: 'send Authorization: Bearer <token> (npm start prints it)' };
      if (!sameSecret(token, auth.token)) return { ok: false as const, reason: 'the token is wrong' };
      return { ok: true as const, principal: 'local' };
    }
    case 'iam': {
      const iam = event?.requestContext?.authorizer?.iam;
      if (!iam?.userArn)
        return { ok: false as const, reason: 'sign the request with SigV4 (IAM authorization)' };
      return { ok: true as const, principal: iam.userArn };
    }
    case 'jwt': {
      const claims = event?.requestContext?.authorizer?.jwt?.claims;
      if (!claims) return { ok: false as const, reason: 'send a valid JWT as Authorization: Bearer <jwt>' };
      const subject = claims.sub ?? claims.username ?? claims.client_id;
      return { ok: true as const, principal: typeof subject === 'string' ? subject : 'jwt' };
    }
  }
}

function requireAuth(auth: AuthConfig): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const result = principalOf(auth, c.req.header('authorization'), c.env?.event);
    if (!result.ok) {
      c.header('WWW-Authenticate', auth.mode === 'iam' ? 'AWS4-HMAC-SHA256' : 'Bearer');
      return c.json({ error: 'unauthorized' as const, message: `unauthorized: ${result.reason}` }, 401);
    }
    c.set('principal', result.principal);
    await next();
  };
}

export { requireAuth, sameSecret };
